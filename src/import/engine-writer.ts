import type { ImportBatch, ImportDestination, DestinationResult } from './destinations.js';

interface InFlight {
  done: Promise<void>;
  /** The batch's (user, instant) keys; only kept when several batches may be in flight. */
  keys: Set<string> | null;
}

function keyOf(userId: string, tsMs: number): string {
  return `${userId}\u0000${tsMs}`;
}

/**
 * Hands batches to a destination in file order, with at most `destination.concurrency` in flight, and stops at the first failure.
 *
 * TRICKY: batches in flight together may commit in any order (several requests to a server, its group commit), and
 * of two copies of a point the first committed wins. Deduplicating the import's own keys here would need every key
 * of a multi-GB file in memory, and the server (or store) holds keys from before the import anyway, so it alone
 * decides what is a duplicate. What the writer guarantees instead is that two batches sharing a key are never in
 * flight together: the later one waits until the earlier has committed. So the first copy in the file is always
 * offered first, and the result is the one-by-one result whatever the commit order of unrelated batches.
 */
export class BatchWriter {
  readonly #destination: ImportDestination;
  readonly #onResult: (batch: ImportBatch, result: DestinationResult) => void;
  readonly #inFlight = new Set<InFlight>();
  #failure: { error: unknown } | null = null;

  constructor(
    destination: ImportDestination,
    onResult: (batch: ImportBatch, result: DestinationResult) => void,
  ) {
    this.#destination = destination;
    this.#onResult = onResult;
  }

  /** Resolves once the batch is on its way (not committed); rejects with the failure of an earlier batch. */
  async submit(batch: ImportBatch): Promise<void> {
    if (batch.points.length === 0) return this.#throwIfFailed();
    const keys =
      this.#destination.concurrency > 1 ? new Set(batch.points.map((p) => keyOf(p.userId, p.tsMs))) : null;
    for (;;) {
      this.#throwIfFailed();
      const waitFor = this.#blocking(keys);
      if (waitFor.length === 0) break;
      await Promise.race(waitFor);
    }
    const entry: InFlight = { keys, done: Promise.resolve() };
    entry.done = this.#destination.write(batch).then(
      (result) => {
        this.#inFlight.delete(entry);
        // A batch that committed is counted even after another one failed: it is in the database.
        this.#onResult(batch, result);
      },
      (error: unknown) => {
        this.#inFlight.delete(entry);
        this.#failure ??= { error };
      },
    );
    this.#inFlight.add(entry);
  }

  /** Waits for every batch in flight; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight].map((f) => f.done));
    this.#throwIfFailed();
  }

  /** Waits for every batch in flight, whatever happened to them; for the way out of a failed import. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight].map((f) => f.done));
  }

  #blocking(keys: Set<string> | null): Promise<void>[] {
    const inFlight = [...this.#inFlight];
    if (inFlight.length >= this.#destination.concurrency) return inFlight.map((f) => f.done);
    if (keys === null) return [];
    return inFlight.filter((f) => f.keys !== null && sharesAKey(f.keys, keys)).map((f) => f.done);
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

function sharesAKey(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const key of small) if (large.has(key)) return true;
  return false;
}
