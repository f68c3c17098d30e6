import type Database from 'better-sqlite3';
import type { IngestOutcome, Point } from '../pipeline/types.js';
import {
  checkLimit,
  createIngestBatch,
  mappingErrors,
  openDatabase,
  prepareStatements,
  settle,
  toAggregate,
  type IngestBatch,
  type SqliteSettings,
  type SqliteStoreOptions,
  type Statements,
} from './sqlite-db.js';
import { ThreadWriter } from './sqlite-writer-client.js';
import type { MinutePage, MinuteRange, PageRequest, Store, UserSummary } from './store.js';

export { mapSqliteError, SCHEMA_VERSION, type SqliteSettings, type SqliteStoreOptions } from './sqlite-db.js';

/** The Store on one embedded SQLite file, for a single host. */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #statements: Statements;
  /** Ingest on a writer thread for a file; in process for :memory:, which no other connection can see. */
  readonly #writer: ThreadWriter | IngestBatch;

  constructor(options: SqliteStoreOptions) {
    // This connection applies the migrations before the writer opens its own, and then serves the reads.
    this.#db = mappingErrors(() => openDatabase(options));
    this.#statements = prepareStatements(this.#db);
    this.#writer =
      options.path === ':memory:' || options.writerThread === false
        ? createIngestBatch(this.#db, this.#statements)
        : new ThreadWriter(options);
  }

  ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
    if (points.length === 0) return Promise.resolve([]);
    const writer = this.#writer;
    if (writer instanceof ThreadWriter) return writer.ingest(points);
    return settle(() => writer(points));
  }

  users(): Promise<UserSummary[]> {
    return settle(() => this.#statements.users.all());
  }

  minutes(userId: string, range: MinuteRange, page: PageRequest): Promise<MinutePage | null> {
    return settle(() => this.#minutePage(userId, range, page));
  }

  pruneDedupeKeys(beforeMs: number): Promise<number> {
    return settle(() => this.#statements.pruneDedupeKeys.run(beforeMs).changes);
  }

  health(): Promise<void> {
    return settle(() => {
      this.#statements.health.get();
    });
  }

  async close(): Promise<void> {
    if (this.#writer instanceof ThreadWriter) await this.#writer.close();
    return settle(() => {
      if (this.#db.open) this.#db.close();
    });
  }

  settings(): SqliteSettings {
    return mappingErrors(() => ({
      journalMode: this.#db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.#db.pragma('synchronous', { simple: true }) as number,
      busyTimeoutMs: this.#db.pragma('busy_timeout', { simple: true }) as number,
      schemaVersion: this.#db.pragma('user_version', { simple: true }) as number,
    }));
  }

  #minutePage(userId: string, range: MinuteRange, page: PageRequest): MinutePage | null {
    checkLimit(page.limit);
    // One row beyond the limit tells whether another page exists without a count query.
    const fetched = this.#statements.minutePage.all(
      userId,
      range.fromMs ?? Number.MIN_SAFE_INTEGER,
      page.afterMinuteMs ?? Number.MIN_SAFE_INTEGER,
      range.toMs ?? Number.MAX_SAFE_INTEGER,
      page.limit + 1,
    );
    if (fetched.length === 0) {
      return this.#statements.userExists.get(userId) === undefined
        ? null
        : { rows: [], nextAfterMinuteMs: null };
    }
    const rows = fetched.slice(0, page.limit).map((row) => toAggregate(userId, row));
    const last = rows[rows.length - 1];
    const nextAfterMinuteMs = fetched.length > page.limit && last ? last.minuteMs : null;
    return { rows, nextAfterMinuteMs };
  }
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
