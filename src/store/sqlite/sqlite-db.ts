import Database from 'better-sqlite3';
import { makeParentDirectory } from './sqlite-directory.js';
import { checkSharedMemoryWritable, type DatabaseFileIdentities } from './sqlite-files.js';
import type { TotalsParams, UpsertParams } from './sqlite-ingest.js';
import { migrate } from './sqlite-migrations.js';
import { StoreUnavailableError } from '../store.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a private database that disappears on close. */
  path: string;
  /** How long a statement waits for another connection's lock before giving up. Default 5000. */
  busyTimeoutMs?: number;
  /** Commit on a separate thread (files only; the default). False commits on the calling thread. */
  writerThread?: boolean;
  /**
   * The files as the first connection found them (sqlite-files.ts), for the writer thread to check against: set
   * by the store, not by callers.
   */
  files?: DatabaseFileIdentities;
}

/** What the connection actually runs with, as SQLite reports it; for startup logs and tests. */
export interface SqliteSettings {
  journalMode: string;
  /** 2 is FULL. */
  synchronous: number;
  busyTimeoutMs: number;
  schemaVersion: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/*
 * Codes for conditions outside the program (another writer, a full or read-only disk, a missing mount): retrying
 * later can succeed, so callers answer 503. Everything else (constraint violations, SQL errors, corruption) is a bug
 * or needs an operator, and must not be disguised as "try again".
 */
const UNAVAILABLE_CODE_FAMILIES = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
];
const UNAVAILABLE_CODES = new Set(['SQLITE_FULL', 'SQLITE_PROTOCOL']);

export function isUnavailableCode(code: string): boolean {
  return (
    UNAVAILABLE_CODES.has(code) ||
    UNAVAILABLE_CODE_FAMILIES.some((family) => code === family || code.startsWith(`${family}_`))
  );
}

/** A StoreUnavailableError for transient SQLite failures; any other error is returned as it is. */
export function mapSqliteError(error: unknown): unknown {
  if (error instanceof Database.SqliteError && isUnavailableCode(error.code)) {
    return new StoreUnavailableError(`SQLite database unavailable (${error.code}): ${error.message}`, {
      cause: error,
    });
  }
  return error;
}

export function mappingErrors<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw mapSqliteError(error);
  }
}

/** Runs synchronous database work now and reports its result or mapped error as a Promise, never by throwing. */
export function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work())).catch((error: unknown) => {
    throw mapSqliteError(error);
  });
}

/**
 * As settle, but on the next turn of the event loop: a caller that reads in a loop (an export's pages, a feed's
 * polls) lets timers and I/O run between its reads, as it does when the reads run on a reader thread.
 */
export function settleLater<T>(work: () => T): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(() => settle(work));
}

/** Opens a connection with Locus's settings; the first connection of a process also brings the schema up to date. */
export function openDatabase(
  options: SqliteStoreOptions,
  role: 'first' | 'other' = 'first',
): Database.Database {
  if (options.path !== ':memory:') {
    makeParentDirectory(options.path);
    // A -shm left immutable would be mapped and its first write a SIGBUS: refuse it with one line instead.
    checkSharedMemoryWritable(options.path);
  }
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  try {
    // WAL lets readers proceed while a batch commits; FULL also syncs the WAL on every commit, so a resolved
    // ingest survives power loss, which is what the Store contract promises. journal_mode is a property of
    // the file, synchronous of each connection: the writer sets it for itself.
    if (role === 'first') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // A batch dirties a page or two per user it touches, about 900 WAL pages for 1,000 points from 500 users, so
    // at the default of 1,000 pages nearly every commit also ran a checkpoint (copying pages into the database
    // file and a second fsync). Checkpointing every 10,000 pages (40 MiB of WAL) copies a page once for many
    // commits that rewrote it. It does not touch durability: a commit is on disk once the WAL is synced; the
    // checkpoint only moves committed pages, and a crash mid-checkpoint is redone from the WAL on the next open.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    if (role === 'first') migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function prepareStatements(db: Database.Database) {
  return {
    insertDedupeKey: db.prepare<[string, number]>(
      'INSERT INTO dedupe_keys (user_id, ts_ms) VALUES (?, ?) ON CONFLICT DO NOTHING',
    ),
    dedupeKeyExists: db
      .prepare<[number, string], 1>('SELECT 1 FROM dedupe_keys WHERE ts_ms = ? AND user_id = ?')
      .pluck(),
    upsertMinute: db
      .prepare<UpsertParams, number>(
        `
      INSERT INTO minutes (user_id, minute_ms, samples, lat_sum, long_sum, long_min, long_max,
        long_east_sum, long_east_min, long_east_max, accuracy_sum, accuracy_count, speed_sum, speed_count)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (user_id, minute_ms) DO UPDATE SET
        samples = samples + excluded.samples,
        lat_sum = lat_sum + excluded.lat_sum,
        long_sum = long_sum + excluded.long_sum,
        long_min = min(long_min, excluded.long_min),
        long_max = max(long_max, excluded.long_max),
        long_east_sum = long_east_sum + excluded.long_east_sum,
        long_east_min = min(long_east_min, excluded.long_east_min),
        long_east_max = max(long_east_max, excluded.long_east_max),
        accuracy_sum = accuracy_sum + excluded.accuracy_sum,
        accuracy_count = accuracy_count + excluded.accuracy_count,
        speed_sum = speed_sum + excluded.speed_sum,
        speed_count = speed_count + excluded.speed_count
      RETURNING samples`,
      )
      .pluck(),
    nextTotalsVersion: db
      .prepare<[], number>('SELECT coalesce(max(version), 0) + 1 FROM user_totals')
      .pluck(),
    upsertTotals: db.prepare<TotalsParams>(`
      INSERT INTO user_totals (user_id, minutes, samples, first_minute_ms, last_minute_ms, version)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (user_id) DO UPDATE SET
        minutes = minutes + excluded.minutes,
        samples = samples + excluded.samples,
        first_minute_ms = min(first_minute_ms, excluded.first_minute_ms),
        last_minute_ms = max(last_minute_ms, excluded.last_minute_ms),
        version = excluded.version`),
    pruneDedupeKeys: db.prepare<[number]>('DELETE FROM dedupe_keys WHERE ts_ms < ?'),
    health: db.prepare<[], 1>('SELECT 1').pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

export { createIngestBatch, type IngestBatch } from './sqlite-ingest.js';
