import type { DatabaseConfig } from '../config.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/** The store a DATABASE_URL names. */
export function openStore(database: DatabaseConfig): Store {
  return openSqliteStore({ path: database.path });
}
