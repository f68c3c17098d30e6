/*
 * A worker thread of the SQLite store (the writer, a reader) and the calls waiting for its answers. Requests and
 * replies carry an id; a reply either has the answer or the error, as data.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { mapSqliteError, type SqliteStoreOptions } from './sqlite-db.js';
import { StoreUnavailableError } from '../store.js';

/** What a thread sends back when a request failed. */
export interface ThreadError {
  code: string | undefined;
  message: string;
  /** The error's class, when it is one a caller may tell apart (a RangeError for a bad argument). */
  name?: string;
}

export interface ThreadReply {
  id: number;
  error?: ThreadError;
}

/** The modules that run as threads, beside this one. */
export type ThreadModule = 'sqlite-writer' | 'sqlite-reader';

interface Waiting {
  resolve: (reply: ThreadReply) => void;
  reject: (error: unknown) => void;
}

/**
 * Compiled, a thread is a plain module beside this one. Under tsx (tests, `npm run locus`) it is TypeScript, and
 * on Node 20 a worker does not inherit the loader hooks that `--import tsx` installed, so the worker registers tsx
 * itself before importing the module.
 */
function startWorker(module: ThreadModule, options: SqliteStoreOptions): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL(`./${module}.js`, import.meta.url), { workerData: options });
  const entry = new URL(`./${module}.ts`, import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

// The thread's error crossed as data; rebuilt as the error the same failure raises in process, it is mapped
// (StoreUnavailableError or not) by the same rule.
export function threadErrorToError(error: ThreadError): unknown {
  if (error.code) return mapSqliteError(new Database.SqliteError(error.message, error.code));
  if (error.name === 'RangeError') return new RangeError(error.message);
  if (error.name === 'TypeError') return new TypeError(error.message);
  return new Error(error.message);
}

/** The reply describing `error`, for a thread to send. */
export function errorReply(id: number, error: unknown): ThreadReply {
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  return {
    id,
    error: {
      code: typeof code === 'string' ? code : undefined,
      message: String(message ?? error),
      ...(typeof name === 'string' ? { name } : {}),
    },
  };
}

/** One worker thread and the requests waiting for its answers. */
export class StoreThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  readonly exited: Promise<void>;
  #nextId = 1;
  /** Why the thread can take no more work; null while it runs. */
  stopped: Error | null = null;

  constructor(module: ThreadModule, options: SqliteStoreOptions) {
    this.#worker = startWorker(module, options);
    // An idle store someone forgot to close must not keep the process alive; a busy one must (see #track).
    this.#worker.unref();
    this.#worker.on('message', (reply: ThreadReply) => this.#settle(reply));
    // What crosses from a crashed thread may not even be an Error; the store's callers need one they understand.
    this.#worker.on('error', (error) =>
      this.#stop(new StoreUnavailableError(`the SQLite ${module} thread failed`, { cause: error })),
    );
    this.exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.#stop(new StoreUnavailableError(`the SQLite ${module} thread stopped`));
        resolve();
      }),
    );
  }

  /** How many requests wait for an answer. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** Sends `request` with a fresh id; resolves with the reply, rejects with its error mapped. */
  call<R extends ThreadReply>(request: object, transfer: readonly TransferListItem[] = []): Promise<R> {
    const id = this.#nextId++;
    return new Promise<ThreadReply>((resolve, reject) => {
      this.#track(() => this.#waiting.set(id, { resolve, reject }));
      this.#worker.postMessage({ ...request, id }, transfer);
    }).then((reply) => {
      if (reply.error) throw threadErrorToError(reply.error);
      return reply as R;
    });
  }

  /** Lets the request in flight finish, then asks the thread to close its connection and end. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.#worker.ref();
    this.#worker.postMessage({ type: 'close' });
    await this.exited;
  }

  async terminate(): Promise<void> {
    await this.#worker.terminate();
    await this.exited;
  }

  /** Keeps the process alive exactly while some request waits for its answer. */
  #track(change: () => void): void {
    change();
    if (this.#waiting.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }

  #settle(reply: ThreadReply): void {
    const waiting = this.#waiting.get(reply.id);
    this.#track(() => this.#waiting.delete(reply.id));
    waiting?.resolve(reply);
  }

  #stop(error: Error): void {
    this.stopped ??= error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#track(() => this.#waiting.clear());
  }
}
