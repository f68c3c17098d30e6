import { Command } from 'commander';
import { DATABASE_URL_HELP } from '../config.js';
import { migrateStore } from '../store/backends.js';
import { flagIfGiven, loadConfigNamingFlags } from './usage.js';

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
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (flags: MigrateFlags) => {
      const config = loadConfigNamingFlags(
        { DATABASE_URL: flags.databaseUrl ?? process.env.DATABASE_URL },
        { DATABASE_URL: flagIfGiven(flags.databaseUrl, '--database-url') },
      );
      const message = await migrateStore(config.database);
      (io.stdout ?? process.stdout).write(`locus: ${config.databaseUrl}: ${message}\n`);
    });
}
