import { performance } from 'node:perf_hooks';
import type { IngestOutcome, Point } from '../ingest/point.js';
import type { Store } from './store.js';

interface Waiter {
  points: readonly Point[];
  origin: string | undefined;
  resolve: (outcomes: IngestOutcome[]) => void;
  reject: (error: unknown) => void;
}

/** One submission of a committed transaction: where it came from (as given to submit) and what became of it. */
export interface CommittedSubmission {
  origin: string | undefined;
  outcomes: readonly IngestOutcome[];
}

/**
 * What a GroupCommitter tells an observer (metrics), without the store depending on how it is recorded. Called on
 * the commit path after the submitters have been answered; it must be cheap and must not throw.
 */
export interface CommitObserver {
  /** A transaction committed: its submissions in commit order, its point count, and the store's time in ms. */
  committed(submissions: readonly CommittedSubmission[], points: number, ms: number): void;
  /** A transaction failed with `error`, which each of its submitters got; nothing of it was stored. */
  failed(error: unknown, points: number, ms: number): void;
}

export interface GroupCommitOptions {
  /** Points per transaction at most, except that one submission is never split; default 10,000. */
  maxBatchPoints?: number;
  observer?: CommitObserver;
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
  #lastSubmitMs = -Infinity;
  #inFlightPoints = 0;
  #flushing: Promise<void> | null = null;
  #scheduled = false;
  readonly #maxBatchPoints: number;
  readonly #observer: CommitObserver | undefined;

  constructor(
    private readonly store: Pick<Store, 'ingest'>,
    options: GroupCommitOptions = {},
  ) {
    this.#maxBatchPoints = options.maxBatchPoints ?? 10_000;
    this.#observer = options.observer;
  }

  /**
   * Resolves with one outcome per point once they are durable; rejects with the store's error otherwise. `origin`
   * (e.g. `mqtt`) is only passed on to the observer.
   */
  submit(points: readonly Point[], origin?: string): Promise<IngestOutcome[]> {
    this.#lastSubmitMs = performance.now();
    return new Promise((resolve, reject) => {
      this.#queue.push({ points, origin, resolve, reject });
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
      if (taken > 0 && count + waiter.points.length > this.#maxBatchPoints) break;
      count += waiter.points.length;
      taken++;
    }
    this.#queuedPoints -= count;
    return this.#queue.splice(0, taken);
  }

  async #writeOneBatch(): Promise<void> {
    const batch = this.#takeBatch();
    if (batch.length === 0) return;
    const points = batch.flatMap((w) => w.points);
    this.#inFlightPoints = points.length;
    const started = performance.now();
    let outcomes: IngestOutcome[];
    try {
      outcomes = await this.store.ingest(points);
    } catch (error) {
      this.#inFlightPoints = 0;
      for (const waiter of batch) waiter.reject(error);
      const ms = performance.now() - started;
      this.#tell((observer) => observer.failed(error, points.length, ms));
      return;
    }
    const ms = performance.now() - started;
    this.#inFlightPoints = 0;
    const submissions: CommittedSubmission[] = [];
    let offset = 0;
    for (const waiter of batch) {
      const own = outcomes.slice(offset, offset + waiter.points.length);
      offset += waiter.points.length;
      waiter.resolve(own);
      submissions.push({ origin: waiter.origin, outcomes: own });
    }
    this.#tell((observer) => observer.committed(submissions, points.length, ms));
  }

  // An observer that throws must not fail the flush: that would be an unhandled rejection (the flush is not
  // awaited), which ends the process with the queue's points. A warning on stderr keeps the bug visible.
  #tell(call: (observer: CommitObserver) => void): void {
    if (!this.#observer) return;
    try {
      call(this.#observer);
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : String(error), 'LocusCommitObserverWarning');
    }
  }

  /** Points waiting for a transaction; a measure of back-pressure. */
  get pending(): number {
    return this.#queuedPoints;
  }

  /**
   * Whether points came in within the last `windowMs` or are still waiting for their commit: ingest is busy, and
   * background work (an export) should make way.
   */
  busy(windowMs: number): boolean {
    return this.#queuedPoints + this.#inFlightPoints > 0 || performance.now() - this.#lastSubmitMs < windowMs;
  }

  /** Points of the transaction being written now; 0 between transactions. */
  get inFlight(): number {
    return this.#inFlightPoints;
  }
}
