import type { SqliteStoreOptions } from './sqlite-db.js';
import { unpackMinutePage, unpackTrack, type PackedMinutePage } from './sqlite-read-packing.js';
import type { ReadOp, ReadRequest, ReadResults } from './sqlite-reads.js';
import { StoreThread, type ThreadReply } from './sqlite-thread.js';

/** Two: a long read (a track of years) on one still leaves the other for the next request, on two cores. */
export const DEFAULT_READER_THREADS = 2;

interface ReadReply extends ThreadReply {
  result: unknown;
}

/** The result as it crossed, unpacked into what the store answers. */
function unpack(op: ReadOp, result: unknown): ReadResults[ReadOp] {
  switch (op) {
    case 'minutes':
      return unpackMinutePage(result as PackedMinutePage | null);
    case 'track':
      return unpackTrack(result as Float64Array | null);
    default:
      return result as ReadResults[ReadOp];
  }
}

/**
 * Reader threads, each with its own connection, started on the first read. A read goes to the thread with the
 * fewest waiting; a thread that dies fails the reads it held, and the next read starts a new one.
 */
export class ReaderPool {
  readonly #options: SqliteStoreOptions;
  readonly #threads: Array<StoreThread | null>;
  #closed = false;

  constructor(options: SqliteStoreOptions, size = DEFAULT_READER_THREADS) {
    this.#options = options;
    this.#threads = new Array<StoreThread | null>(size).fill(null);
  }

  read<Op extends ReadOp>(request: Extract<ReadRequest, { op: Op }>): Promise<ReadResults[Op]>;
  async read(request: ReadRequest): Promise<ReadResults[ReadOp]> {
    if (this.#closed) throw new TypeError('The database connection is not open');
    const reply = await this.#thread().call<ReadReply>(request);
    return unpack(request.op, reply.result);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#threads.map((thread) => (thread ? thread.close() : Promise.resolve())));
  }

  /** An idle thread; else a new one in an empty or dead slot; else the least busy. */
  #thread(): StoreThread {
    let best: StoreThread | null = null;
    for (const [slot, thread] of this.#threads.entries()) {
      if (thread === null || thread.stopped) {
        const started = new StoreThread('sqlite-reader', this.#options);
        this.#threads[slot] = started;
        return started;
      }
      if (thread.pending === 0) return thread;
      if (best === null || thread.pending < best.pending) best = thread;
    }
    if (best === null) throw new RangeError('a reader pool needs at least one thread');
    return best;
  }
}
