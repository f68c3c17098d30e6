import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ParsedDatabaseUrl, StoreBackend } from '../backend.js';

/** A file path (absolute), or `:memory:` for a private database that disappears on close. */
export interface SqliteDatabaseConfig {
  readonly kind: 'sqlite';
  readonly path: string;
}

const MEMORY = ':memory:';

// The store module loads better-sqlite3, a native addon, so it is imported only when a SQLite database is named.
const loadStore = () => import('./sqlite-store.js');

function parse(url: string): ParsedDatabaseUrl<SqliteDatabaseConfig> {
  if (url === `sqlite:${MEMORY}`) return { config: sqlite(MEMORY) };
  // `sqlite:///var/lib/locus.db` is the URL spelling of `sqlite:/var/lib/locus.db`.
  const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (file === '') return { problem: 'sqlite: needs a file path, e.g. sqlite:./data/locus.db' };
  return { config: sqlite(path.resolve(file)) };
}

function sqlite(file: string): SqliteDatabaseConfig {
  return { kind: 'sqlite', path: file };
}

/** Opening a file migrates it, so migrating is opening and closing, without the writer thread ingest would need. */
async function migrate({ path: file }: SqliteDatabaseConfig): Promise<string> {
  const { openSqliteStore } = await loadStore();
  const store = openSqliteStore({ path: file, writerThread: false });
  try {
    return `schema at version ${store.settings().schemaVersion}`;
  } finally {
    await store.close();
  }
}

/** SQLite: one file on one host. */
export const sqliteBackend: StoreBackend<SqliteDatabaseConfig> = {
  name: 'sqlite',
  schemes: ['sqlite'],
  forms: ['sqlite:FILE', `sqlite:${MEMORY}`],
  parse,
  // SQLite has no connections to lose and no transaction to retry: the hooks have nothing to report.
  async open({ path: file }) {
    const { openSqliteStore } = await loadStore();
    return openSqliteStore({ path: file });
  },
  migrate,
  // Opening a file that is not there would create an empty database.
  missing: ({ path: file }) => (file !== MEMORY && !existsSync(file) ? `no database at ${file}` : null),
  describe: ({ path: file }) => `sqlite:${file}`,
};
