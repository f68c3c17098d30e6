import type { MinuteAggregate } from '../pipeline/aggregate.js';
import type { IngestOutcome, Point } from '../pipeline/types.js';

/** Per-user totals for the user list. Instants are UTC milliseconds. */
export interface UserSummary {
  userId: string;
  minutes: number;
  samples: number;
  firstMinuteMs: number;
  lastMinuteMs: number;
}

/** A half-open range of minutes: `fromMs` inclusive, `toMs` exclusive; either may be absent. */
export interface MinuteRange {
  fromMs?: number;
  toMs?: number;
}

/** Keyset paging: rows strictly after `afterMinuteMs`, at most `limit` of them. */
export interface PageRequest {
  limit: number;
  afterMinuteMs?: number;
}

export interface MinutePage {
  /** Ascending by minute. */
  rows: MinuteAggregate[];
  /** Pass as `afterMinuteMs` for the next page; null on the last page. */
  nextAfterMinuteMs: number | null;
}

/**
 * Where points end up. Every method returns a Promise so that a synchronous embedded engine and a networked
 * database fit behind the same interface. Implementations throw StoreUnavailableError when the database cannot be
 * reached or written right now (the caller answers 503 and the client retries); anything else they throw is a bug.
 */
export interface Store {
  /**
   * Stores the points in one transaction, in order. A point whose (userId, tsMs) the store has already seen — earlier
   * in this call, in an earlier call, before a restart, or from another instance — is a duplicate and changes nothing.
   * Resolves only after the transaction is durable, with one outcome per point in input order.
   */
  ingest(points: readonly Point[]): Promise<IngestOutcome[]>;
  /** Every user with at least one minute, ordered by userId. */
  users(): Promise<UserSummary[]>;
  /** One page of a user's minutes, or null when the user has no minutes at all. */
  minutes(userId: string, range: MinuteRange, page: PageRequest): Promise<MinutePage | null>;
  /** Forgets dedupe keys of points before `beforeMs` (event time); returns how many were removed. */
  pruneDedupeKeys(beforeMs: number): Promise<number>;
  /** Resolves when the store can answer a query; rejects with StoreUnavailableError otherwise. */
  health(): Promise<void>;
  /** Releases connections and files. The store is unusable afterwards. */
  close(): Promise<void>;
}

/** The database cannot be used right now (locked, full, read-only, unreachable); retrying later may succeed. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
