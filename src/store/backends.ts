/*
 * The store backends, and the only place that chooses between them: configuration and the CLI hand a
 * DATABASE_URL or its parsed config to the functions here and never look at which backend it names.
 */
import type { ParsedDatabaseUrl, StoreBackend, StoreHooks } from './backend.js';
import { redactDatabaseUrl, schemeOf } from './database-url.js';
import { postgresBackend } from './postgres/postgres-backend.js';
import { sqliteBackend } from './sqlite/sqlite-backend.js';
import type { Store } from './store.js';

/** Every backend, one line each, in the order help texts list them. */
const BACKENDS = [postgresBackend, sqliteBackend] as const;

type ConfigOf<Backend> = Backend extends StoreBackend<infer Config> ? Config : never;

/** A DATABASE_URL as its backend parsed it; `kind` names that backend. */
export type DatabaseConfig = ConfigOf<(typeof BACKENDS)[number]>;

/** The forms of DATABASE_URL, for help texts: `postgres://…, sqlite:FILE or sqlite::memory:`. */
export const DATABASE_URL_FORMS = listed(BACKENDS.flatMap((backend) => backend.forms));

function listed(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** Reads a DATABASE_URL with the backend that claims its scheme. */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl<DatabaseConfig> {
  const scheme = schemeOf(url);
  const backend = BACKENDS.find((b) => scheme !== null && b.schemes.includes(scheme));
  if (!backend)
    return { problem: `must be ${DATABASE_URL_FORMS}, got ${JSON.stringify(redactDatabaseUrl(url))}` };
  return backend.parse(url);
}

/**
 * The backend that parsed `config`. TRICKY: TypeScript accepts the result as taking any DatabaseConfig only
 * because method parameters are bivariant; it is sound because a config's kind is the name of the backend whose
 * parse made it, which is what the search matches on.
 */
function backendOf(config: DatabaseConfig): StoreBackend<DatabaseConfig> {
  const backend = BACKENDS.find((b) => b.name === config.kind);
  if (!backend) throw new TypeError(`no store backend is named ${JSON.stringify(config.kind)}`);
  return backend;
}

/** The store on the database, its schema migrated; only that backend's driver is loaded. */
export function openStore(config: DatabaseConfig, hooks: StoreHooks = {}): Promise<Store> {
  return backendOf(config).open(config, hooks);
}

/** Brings the database's schema to this build's version; says what it did, for `locus migrate`. */
export function migrateStore(config: DatabaseConfig): Promise<string> {
  return backendOf(config).migrate(config);
}

/** Why there is no database to read at `config`, or null when there may be one. */
export function missingDatabase(config: DatabaseConfig): string | null {
  return backendOf(config).missing(config);
}

/** The database, for logs and messages, without a password. */
export function describeDatabase(config: DatabaseConfig): string {
  return backendOf(config).describe(config);
}
