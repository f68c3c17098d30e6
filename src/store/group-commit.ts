import type { IngestOutcome, Point } from '../pipeline/types.js';
import type { Store } from './store.js';

interface Waiter {
  points: readonly Point[];
  resolve: (outcomes: IngestOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: points submitted while a transaction is being written wait for the next one, which takes all of
 * them at once, so the cost of a durable commit (an fsync) is shared by every request that arrived meanwhile.
 * Each submitter is answered only after the transaction holding its points has committed. One transaction is in
 * flight at a time, so arrival order is commit order and the first submitted of two duplicates always wins.
 */
export class GroupCommitter {
  #queue: Waiter[] = [];
  #queuedPoints = 0;
  #flushing: Promise<void> | null = null;
  #scheduled = false;

  constructor(
    private readonly store: Pick<Store, 'ingest'>,
    private readonly maxBatchPoints = 10_000,
  ) {}

  /** Resolves with one outcome per point once they are durable; rejects with the store's error otherwise. */
  submit(points: readonly Point[]): Promise<IngestOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ points, resolve, reject });
      this.#queuedPoints += points.length;
      this.#schedule();
    });
  }

  /** Resolves once everything submitted so far has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) {
      await (this.#flushing ?? this.#flushNow());
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // setImmediate lets every request already read from the sockets join this transaction.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flushNow();
    });
  }

  #flushNow(): Promise<void> {
    this.#flushing ??= this.#writeOneBatch().finally(() => {
      this.#flushing = null;
      if (this.#queue.length > 0) this.#schedule();
    });
    return this.#flushing;
  }

  #takeBatch(): Waiter[] {
    let count = 0;
    let taken = 0;
    for (const waiter of this.#queue) {
      if (taken > 0 && count + waiter.points.length > this.maxBatchPoints) break;
      count += waiter.points.length;
      taken++;
    }
    this.#queuedPoints -= count;
    return this.#queue.splice(0, taken);
  }

  async #writeOneBatch(): Promise<void> {
    const batch = this.#takeBatch();
    if (batch.length === 0) return;
    try {
      const outcomes = await this.store.ingest(batch.flatMap((w) => w.points));
      let offset = 0;
      for (const waiter of batch) {
        waiter.resolve(outcomes.slice(offset, offset + waiter.points.length));
        offset += waiter.points.length;
      }
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
    }
  }

  /** Points waiting for a transaction; a measure of back-pressure. */
  get pending(): number {
    return this.#queuedPoints;
  }
}
