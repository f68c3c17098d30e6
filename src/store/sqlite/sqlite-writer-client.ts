import { Worker } from 'node:worker_threads';
import type { IngestOutcome, Point } from '../../ingest/point.js';
import Database from 'better-sqlite3';
import { mapSqliteError, type SqliteStoreOptions } from './sqlite-db.js';
import { packPoints, unpackOutcomes } from './sqlite-ingest-packing.js';
import type { WriterReply, WriterRequest } from './sqlite-writer-protocol.js';
import { StoreUnavailableError } from '../store.js';

interface Waiting {
  resolve: (outcomes: IngestOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Compiled, the writer is a plain module beside this one. Under tsx (tests, `npm run locus`) it is TypeScript, and
 * on Node 20 a worker does not inherit the loader hooks that `--import tsx` installed, so the worker registers tsx
 * itself before importing the writer.
 */
function startWorker(options: SqliteStoreOptions): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./sqlite-writer.js', import.meta.url), { workerData: options });
  const writer = new URL('./sqlite-writer.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(writer)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

// The writer's error crossed the thread as data; rebuilt as the error the same failure raises in process, it is
// mapped (StoreUnavailableError or not) by the same rule.
function toError(reply: { code: string | undefined; message: string }): unknown {
  return mapSqliteError(
    reply.code ? new Database.SqliteError(reply.message, reply.code) : new Error(reply.message),
  );
}

/** One writer thread and the ingests waiting for its answers. */
class WriterThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  readonly exited: Promise<void>;
  #nextId = 1;
  /** Why the thread can take no more work; null while it runs. */
  stopped: Error | null = null;

  constructor(options: SqliteStoreOptions) {
    this.#worker = startWorker(options);
    // An idle store someone forgot to close must not keep the process alive; a busy one must (see #track).
    this.#worker.unref();
    this.#worker.on('message', (reply: WriterReply) => this.#settle(reply));
    // What crosses from a crashed thread may not even be an Error; the store's callers need one they understand.
    this.#worker.on('error', (error) =>
      this.#stop(new StoreUnavailableError('the SQLite writer thread failed', { cause: error })),
    );
    this.exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.#stop(new StoreUnavailableError('the SQLite writer thread stopped'));
        resolve();
      }),
    );
  }

  ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const packed = packPoints(points);
      this.#track(() => this.#waiting.set(id, { resolve, reject }));
      this.#worker.postMessage({ type: 'ingest', id, points: packed } satisfies WriterRequest, [
        packed.buffer,
      ]);
    });
  }

  /** Lets the transaction in flight finish, then closes the writer's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.#worker.ref();
    this.#worker.postMessage({ type: 'close' } satisfies WriterRequest);
    await this.exited;
  }

  async terminate(): Promise<void> {
    await this.#worker.terminate();
    await this.exited;
  }

  /** Keeps the process alive exactly while some ingest waits for its answer. */
  #track(change: () => void): void {
    change();
    if (this.#waiting.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  #settle(reply: WriterReply): void {
    const waiting = this.#waiting.get(reply.id);
    this.#track(() => this.#waiting.delete(reply.id));
    if (reply.error) waiting?.reject(toError(reply.error));
    else waiting?.resolve(unpackOutcomes(reply.outcomes));
  }

  #stop(error: Error): void {
    this.stopped ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#track(() => this.#waiting.clear());
  }
}

/**
 * Runs ingest transactions on a dedicated thread with its own connection; see sqlite-writer.ts for why. A thread
 * that dies fails only the batch it was writing (which SQLite rolls back): the next ingest starts a new one.
 */
export class ThreadWriter {
  readonly #options: SqliteStoreOptions;
  #thread: WriterThread;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    this.#options = options;
    this.#thread = new WriterThread(options);
  }

  ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
    if (this.#closed) return Promise.reject(new TypeError('The database connection is not open'));
    if (this.#thread.stopped) this.#thread = new WriterThread(this.#options);
    return this.#thread.ingest(points);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#thread.close();
  }

  /** Ends the thread abruptly, as a crash would; for tests of recovery. */
  async crashForTest(): Promise<void> {
    await this.#thread.terminate();
  }
}
