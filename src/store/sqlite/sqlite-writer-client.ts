import type { IngestOutcome, Point } from '../../ingest/point.js';
import type { SqliteStoreOptions } from './sqlite-db.js';
import { packPoints, unpackOutcomes } from './sqlite-ingest-packing.js';
import type { WriterOutcomes, WriterRequest } from './sqlite-writer-protocol.js';
import { StoreThread } from './sqlite-thread.js';

/**
 * Runs ingest transactions on a dedicated thread with its own connection; see sqlite-writer.ts for why. A thread
 * that dies fails only the batch it was writing (which SQLite rolls back): the next ingest starts a new one.
 */
export class ThreadWriter {
  readonly #options: SqliteStoreOptions;
  #thread: StoreThread;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    this.#options = options;
    this.#thread = new StoreThread('sqlite-writer', options);
  }

  async ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
    if (this.#closed) throw new TypeError('The database connection is not open');
    if (this.#thread.stopped) this.#thread = new StoreThread('sqlite-writer', this.#options);
    const packed = packPoints(points);
    const request: Omit<Extract<WriterRequest, { type: 'ingest' }>, 'id'> = {
      type: 'ingest',
      points: packed,
    };
    const reply = await this.#thread.call<WriterOutcomes>(request, [packed.buffer]);
    return unpackOutcomes(reply.outcomes);
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
