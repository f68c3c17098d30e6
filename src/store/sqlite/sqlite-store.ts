import type Database from 'better-sqlite3';
import type { IngestOutcome, Point } from '../../ingest/point.js';
import {
  createIngestBatch,
  mappingErrors,
  openDatabase,
  prepareStatements,
  settle,
  settleLater,
  type IngestBatch,
  type SqliteSettings,
  type SqliteStoreOptions,
  type Statements,
} from './sqlite-db.js';
import {
  checkDatabaseFiles,
  checkSharedMemoryWritable,
  recordDatabaseFiles,
  type DatabaseFileIdentities,
} from './sqlite-files.js';
import { SqliteTokenStore } from './sqlite-tokens.js';
import { ThreadWriter } from './sqlite-writer-client.js';
import { ReaderPool } from './sqlite-reader-pool.js';
import { SqliteReads, type ReadOp, type ReadRequest, type ReadResults } from './sqlite-reads.js';
import type {
  ChangeMarker,
  MinutePage,
  MinuteRange,
  PageRequest,
  Store,
  TokenStore,
  TrackBucket,
  TrackRequest,
  UserChanges,
  UserPage,
  UserPageRequest,
  UserSummary,
} from '../store.js';

export { mapSqliteError, type SqliteSettings, type SqliteStoreOptions } from './sqlite-db.js';
export { SCHEMA_VERSION } from './sqlite-migrations.js';

/**
 * Largest submission checked for resends before it goes to the writer: a lookup costs about 2 µs on the event
 * loop, and a batch of new points pays one (the check stops at the first new point), so this only bounds the
 * cost of a large batch that is all resends but its last point.
 */
const QUICK_RESEND_CHECK_MAX_POINTS = 64;
const DUPLICATE: IngestOutcome = 'duplicate';

/** The Store on one embedded SQLite file, for a single host. */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #statements: Statements;
  /** Ingest on a writer thread for a file; in process for :memory:, which no other connection can see. */
  readonly #writer: ThreadWriter | IngestBatch;
  /** Reads on reader threads for a file, so that none holds up the event loop; in process for :memory:. */
  readonly #reads: ReaderPool | SqliteReads;
  readonly tokens: TokenStore;
  /** The file's path; null for :memory:, which has no files to lose. */
  readonly #file: string | null;
  /** The files as this connection opened them (sqlite-files.ts). */
  readonly #files: DatabaseFileIdentities;

  constructor(options: SqliteStoreOptions) {
    // This connection applies the migrations before the writer opens its own, and then serves the reads.
    this.#db = mappingErrors(() => openDatabase(options));
    this.#file = options.path === ':memory:' ? null : options.path;
    // In WAL mode, after the migrations' reads and writes: the -wal and -shm exist and stay while it is open.
    this.#files = this.#file === null ? [] : recordDatabaseFiles(this.#file);
    this.#statements = prepareStatements(this.#db);
    this.tokens = new SqliteTokenStore(this.#db, () => this.#canRead());
    if (options.path === ':memory:' || options.writerThread === false) {
      const batch = createIngestBatch(this.#db, this.#statements);
      this.#writer = (points) => {
        this.#canRead();
        const outcomes = batch(points);
        this.#canWrite();
        return outcomes;
      };
      this.#reads = new SqliteReads(this.#db);
    } else {
      this.#writer = new ThreadWriter({ ...options, files: this.#files });
      this.#reads = new ReaderPool({ ...options, files: this.#files });
    }
  }

  /** Before a read: the -shm can be written (reading writes to it too). See sqlite-files.ts. */
  #canRead(): void {
    // Closed, the call fails as any use of a closed connection does; its files may be gone by then (the -wal).
    if (this.#file !== null && this.#db.open) checkSharedMemoryWritable(this.#file);
  }

  /** Before and after a write, and for health: the files are still the ones at the path, and the -shm writable. */
  #canWrite(): void {
    if (this.#file !== null && this.#db.open) checkDatabaseFiles(this.#file, this.#files);
  }

  ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
    if (points.length === 0) return Promise.resolve([]);
    const writer = this.#writer;
    if (!(writer instanceof ThreadWriter)) return settle(() => writer(points));
    if (points.length > QUICK_RESEND_CHECK_MAX_POINTS) return writer.ingest(points);
    return settle(() => {
      // A duplicate is answered 200 too: not from files that will not be there after a restart.
      this.#canWrite();
      return this.#allCommitted(points);
    }).then((resent) => (resent ? points.map(() => DUPLICATE) : writer.ingest(points)));
  }

  /**
   * Whether every point's key is already committed, read on this connection. Such points are duplicates whatever
   * happens next (a committed key is never taken back), so they need no transaction: a phone's resend is answered
   * without the writer thread's round trip, which is most of what a duplicate costs (about 0.1 ms, BENCHMARKS.md),
   * and even while another connection holds the write lock. The check stops at the first new point.
   */
  #allCommitted(points: readonly Point[]): boolean {
    const { dedupeKeyExists } = this.#statements;
    return points.every((point) => dedupeKeyExists.get(point.tsMs, point.userId) !== undefined);
  }

  users(page: UserPageRequest): Promise<UserPage> {
    return this.#read({ op: 'users', page });
  }

  user(userId: string): Promise<UserSummary | null> {
    return this.#read({ op: 'user', userId });
  }

  changedUsers(since: ChangeMarker | null): Promise<UserChanges> {
    return this.#read({ op: 'changedUsers', since });
  }

  minutes(userId: string, range: MinuteRange, page: PageRequest): Promise<MinutePage | null> {
    return this.#read({ op: 'minutes', userId, range, page });
  }

  track(userId: string, range: MinuteRange, request: TrackRequest): Promise<TrackBucket[] | null> {
    return this.#read({ op: 'track', userId, range, request });
  }

  #read<Op extends ReadOp>(request: Extract<ReadRequest, { op: Op }>): Promise<ReadResults[Op]> {
    const reads = this.#reads;
    if (reads instanceof ReaderPool) return reads.read(request);
    return settleLater(() => {
      this.#canRead();
      return reads.run(request);
    });
  }

  pruneDedupeKeys(beforeMs: number): Promise<number> {
    return settle(() => {
      this.#canWrite();
      return this.#statements.pruneDedupeKeys.run(beforeMs).changes;
    });
  }

  health(): Promise<void> {
    return settle(() => {
      this.#canWrite();
      this.#statements.health.get();
    });
  }

  async close(): Promise<void> {
    if (this.#writer instanceof ThreadWriter) await this.#writer.close();
    if (this.#reads instanceof ReaderPool) await this.#reads.close();
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
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
