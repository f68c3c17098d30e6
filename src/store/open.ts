import type { DatabaseConfig } from '../config.js';
import type { Store } from './store.js';

export interface OpenStoreHooks {
  /** An idle database connection failed and was dropped (PostgreSQL); the store reconnects by itself. */
  onConnectionError?: (error: Error) => void;
  /** A transaction lost a deadlock or serialization check and is being run again (PostgreSQL). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * The store a DATABASE_URL names, with its schema migrated. Each backend's module is loaded only when named, so
 * a SQLite deployment never loads the PostgreSQL driver and the other way round.
 */
export async function openStore(database: DatabaseConfig, hooks: OpenStoreHooks = {}): Promise<Store> {
  if (database.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore({ url: database.url, ...hooks });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore({ path: database.path });
}
