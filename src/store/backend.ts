import type { Store } from './store.js';

/** What a running server wants to hear about a store's connections; a backend without connections calls neither. */
export interface StoreHooks {
  /** An idle database connection failed and was dropped; the store reconnects by itself. */
  onConnectionError?: (error: Error) => void;
  /** A transaction lost a deadlock or serialization check and is being run again. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/** What a backend makes of a DATABASE_URL: its own settings, tagged with the backend's name. */
export interface BackendConfig {
  readonly kind: string;
}

/** A DATABASE_URL read by its backend: the settings, or one line on what is wrong with it (never a password). */
export type ParsedDatabaseUrl<Config> = { config: Config } | { problem: string };

/**
 * One kind of database, everything the rest of Locus knows about it. Configuration and the CLI go through these
 * members only, so a backend is its folder plus one line in backends.ts. The descriptor module must stay light:
 * it loads its driver inside `open` and `migrate`, so a deployment never loads the driver of a database it does
 * not use.
 */
export interface StoreBackend<Config extends BackendConfig> {
  /** The `kind` of every config its `parse` returns. */
  readonly name: Config['kind'];
  /** The URL schemes it claims, without the colon: `postgres` claims `postgres://…`. */
  readonly schemes: readonly string[];
  /** The forms of DATABASE_URL it takes, for help texts and error messages: `sqlite:FILE`. */
  readonly forms: readonly string[];
  /** Reads a DATABASE_URL whose scheme is one of `schemes`. */
  parse(url: string): ParsedDatabaseUrl<Config>;
  /** A store on the database with its schema migrated; rejects with StoreUnavailableError if it cannot connect. */
  open(config: Config, hooks: StoreHooks): Promise<Store>;
  /** Brings the schema to this build's version, closes again, and says in a few words what it did. */
  migrate(config: Config): Promise<string>;
  /** Why there is nothing at `config` to read (say, no such file), or null when there may be. Opens nothing. */
  missing(config: Config): string | null;
  /** The database, for logs and messages: never a password. */
  describe(config: Config): string;
}
