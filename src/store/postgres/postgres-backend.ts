import type { ParsedDatabaseUrl, StoreBackend } from '../backend.js';
import { redactDatabaseUrl } from '../database-url.js';

/** `url` is the whole connection URL, secrets included: pass it to the driver, never to a log. */
export interface PostgresDatabaseConfig {
  readonly kind: 'postgres';
  readonly url: string;
}

// The store module loads `pg`, so it is imported only when a PostgreSQL database is named.
const loadStore = () => import('./postgres-store.js');

function parse(url: string): ParsedDatabaseUrl<PostgresDatabaseConfig> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    return {
      problem: `must be postgres://… or postgresql://…, got ${JSON.stringify(redactDatabaseUrl(url))}`,
    };
  }
  // The driver's own parser is lenient and would turn a typo into a connection to some default; this catches
  // what is not a URL at all, so the operator hears about it at start-up rather than as a 503 later.
  if (!URL.canParse(url)) {
    return { problem: `is not a valid URL: ${JSON.stringify(redactDatabaseUrl(url))}` };
  }
  return { config: { kind: 'postgres', url } };
}

async function migrate({ url }: PostgresDatabaseConfig): Promise<string> {
  const { PostgresStore } = await loadStore();
  const store = new PostgresStore({ url });
  try {
    const { from, to } = await store.migrate();
    return from === to ? `schema already at version ${to}` : `schema migrated from version ${from} to ${to}`;
  } finally {
    await store.close();
  }
}

/** PostgreSQL: a server shared by any number of Locus processes. */
export const postgresBackend: StoreBackend<PostgresDatabaseConfig> = {
  name: 'postgres',
  schemes: ['postgres', 'postgresql'],
  forms: ['postgres://…'],
  parse,
  async open({ url }, hooks) {
    const { openPostgresStore } = await loadStore();
    return openPostgresStore({ url, ...hooks });
  },
  migrate,
  // Whether the database exists cannot be seen without connecting; and opening one never creates it.
  missing: () => null,
  describe: ({ url }) => redactDatabaseUrl(url),
};
