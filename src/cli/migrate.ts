import { Command } from 'commander';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl, redactDatabaseUrl } from '../config.js';

interface MigrateFlags {
  databaseUrl?: string;
}

/** Where the command reports; tests pass their own. */
export interface MigrateIo {
  stdout?: { write(text: string): unknown };
}

/**
 * `locus migrate`: brings the schema of the database DATABASE_URL names to this build's version and exits.
 * `locus serve` does the same at start-up; this is for deployments that migrate as a separate step, before
 * rolling out new instances.
 */
export function migrateCommand(io: MigrateIo = {}): Command {
  return new Command('migrate')
    .description(
      'apply pending schema migrations to the database and exit (serve also does this at start-up)',
    )
    .option(
      '--database-url <url>',
      `postgres://…, sqlite:FILE [DATABASE_URL, default ${DEFAULT_DATABASE_URL}]`,
    )
    .action(async (flags: MigrateFlags) => {
      const text = flags.databaseUrl ?? (process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
      const message = await migrate(text);
      (io.stdout ?? process.stdout).write(`locus: ${redactDatabaseUrl(text)}: ${message}\n`);
    });
}

async function migrate(text: string): Promise<string> {
  const database = parseDatabaseUrl(text);
  if (database.kind === 'postgres') {
    const { PostgresStore } = await import('../store/postgres/postgres-store.js');
    const store = new PostgresStore({ url: database.url });
    try {
      const { from, to } = await store.migrate();
      return from === to
        ? `schema already at version ${to}`
        : `schema migrated from version ${from} to ${to}`;
    } finally {
      await store.close();
    }
  }
  // SQLite migrates whenever a file is opened.
  const { openSqliteStore } = await import('../store/sqlite/sqlite-store.js');
  const store = openSqliteStore({ path: database.path });
  try {
    return `schema at version ${store.settings().schemaVersion}`;
  } finally {
    await store.close();
  }
}
