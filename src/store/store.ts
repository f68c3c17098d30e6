import type { MinuteAggregate, MinuteSums } from './minutes.js';
import type { IngestOutcome, Point } from '../ingest/point.js';

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

/** Who a token speaks for: one user, or every user (an admin token). */
export type TokenScope = 'user' | 'admin';

/** A token as stored: never the secret itself, only its SHA-256 (src/auth/tokens.ts says why that is enough). */
export interface TokenRecord {
  /** Public and short: listed, and passed to revoke. */
  id: string;
  /** The user the token writes and reads as; null for an admin token. */
  userId: string | null;
  scope: TokenScope;
  label: string | null;
  createdMs: number;
  /** When it was revoked; null while it is valid. */
  revokedMs: number | null;
}

export interface NewToken {
  id: string;
  /** Hex SHA-256 of the secret. */
  hash: string;
  /** Required for a user token; must be null for an admin token. */
  userId: string | null;
  scope: TokenScope;
  label: string | null;
  createdMs: number;
}

/** The API tokens, in the same database as the points so that every Locus instance on it sees the same ones. */
export interface TokenStore {
  /** Adds a token; rejects if its id or hash is already taken. */
  create(token: NewToken): Promise<TokenRecord>;
  /** The token whose secret hashes to `hash`, revoked or not; null when there is none. */
  findByHash(hash: string): Promise<TokenRecord | null>;
  /** Every token, oldest first. */
  list(): Promise<TokenRecord[]>;
  /** Marks the token revoked at `atMs`; false when there is no such token. Revoking twice keeps the first time. */
  revoke(id: string, atMs: number): Promise<boolean>;
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
  /** Releases connections and files; calling it again resolves too. Every other call rejects afterwards. */
  close(): Promise<void>;
  /** The API tokens kept in the same database. */
  readonly tokens: TokenStore;
}

/** The database cannot be used right now (locked, full, read-only, unreachable); retrying later may succeed. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Rejects a page size no caller should ask for; the HTTP layer checks its own bounds first. */
export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`page limit must be a positive integer, got ${limit}`);
  }
}

/**
 * A page query's bounds with the absent ones widened to the extreme safe integers, so that one statement serves
 * every range and page; `fetch` is one row beyond the limit, which tells whether another page exists without a
 * count query.
 */
export function pageBounds(range: MinuteRange, page: PageRequest) {
  checkLimit(page.limit);
  return {
    fromMs: range.fromMs ?? Number.MIN_SAFE_INTEGER,
    afterMs: page.afterMinuteMs ?? Number.MIN_SAFE_INTEGER,
    toMs: range.toMs ?? Number.MAX_SAFE_INTEGER,
    fetch: page.limit + 1,
  };
}

/** The page made of rows fetched with `pageBounds`: at most `limit` of them, and where the next page starts. */
export function pageOf(
  userId: string,
  fetched: ReadonlyArray<MinuteSums & { minuteMs: number }>,
  limit: number,
): MinutePage {
  const rows = fetched
    .slice(0, limit)
    .map(({ minuteMs, ...sums }): MinuteAggregate => ({ userId, minuteMs, sums }));
  const last = rows[rows.length - 1];
  return { rows, nextAfterMinuteMs: fetched.length > limit && last ? last.minuteMs : null };
}
