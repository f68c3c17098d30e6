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

/** One page of the user list, ordered by user id (by code point, the same on every store). */
export interface UserPageRequest {
  limit: number;
  /** Users strictly after this id: the last id of the previous page. */
  afterUserId?: string;
  /** Only ids that begin with this string, compared exactly (no case folding, no normalisation). */
  prefix?: string;
}

export interface UserPage {
  users: UserSummary[];
  /** Pass as `afterUserId` for the next page; null on the last page. */
  nextAfterUserId: string | null;
}

/** A position in the stream of user changes, made by the store and opaque to everyone else. */
export type ChangeMarker = string;

export interface UserChanges {
  /**
   * The users whose summary changed after the marker passed in, ordered by id, with their summaries now. It never
   * misses a change; it may repeat a user that did not change (a reader compares with what it last sent).
   */
  users: UserSummary[];
  /** Pass to the next call. */
  marker: ChangeMarker;
}

/** A run of a user's minutes merged into one: the exact sums of every point in them. */
export interface TrackBucket {
  firstMinuteMs: number;
  lastMinuteMs: number;
  /** How many minutes were merged. */
  minutes: number;
  sums: MinuteSums;
}

/**
 * Buckets of `bucketMs` (a whole number of minutes) aligned on `originMs`: a minute m falls in bucket
 * floor((m - originMs) / bucketMs). `originMs` is at or before every minute of the range.
 */
export interface TrackRequest {
  bucketMs: number;
  originMs: number;
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
  /**
   * One page of the users with at least one minute, ordered by user id. Read from totals kept with the minutes
   * (never a scan of the minutes), so it costs the same at any size of history.
   */
  users(page: UserPageRequest): Promise<UserPage>;
  /** One user's totals, or null when it has no minutes. */
  user(userId: string): Promise<UserSummary | null>;
  /**
   * The users changed since `since` (null: none, only the current marker), for the live feed: one cheap call
   * however many pages watch.
   */
  changedUsers(since: ChangeMarker | null): Promise<UserChanges>;
  /**
   * A user's minutes in `range` merged into buckets (ascending; empty buckets omitted), or null when the user has
   * no minutes at all. With `bucketMs` of one minute the buckets are the minutes.
   */
  track(userId: string, range: MinuteRange, request: TrackRequest): Promise<TrackBucket[] | null>;
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
 * count query. The range's start and the cursor are folded into one lower bound: given both as separate terms,
 * SQLite seeks the index by one of them only (the range's start) and walks every row before the cursor, so each
 * page of an export cost more than the one before (a page 250,000 rows in took 11 ms instead of 0.5).
 */
export function pageBounds(range: MinuteRange, page: PageRequest) {
  checkLimit(page.limit);
  const fromMs = range.fromMs ?? Number.MIN_SAFE_INTEGER;
  // Minutes are whole milliseconds, so "after the cursor" is "from the cursor plus one".
  const afterMs = page.afterMinuteMs === undefined ? Number.MIN_SAFE_INTEGER : page.afterMinuteMs + 1;
  return {
    fromMs: Math.max(fromMs, afterMs),
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

/** The largest code point, and the UTF-16 surrogates that no code point of a valid string is. */
const MAX_CODE_POINT = 0x10ffff;
const SURROGATES_START = 0xd800;
const SURROGATES_END = 0xdfff;

/**
 * The least string above every string that begins with `prefix`, in code point order (which is the byte order of
 * UTF-8, how SQLite's BINARY and PostgreSQL's "C" collation compare): the prefix with its last code point raised by
 * one. Null when there is no such string (an empty prefix, or one made only of U+10FFFF).
 */
export function prefixEnd(prefix: string): string | null {
  const codePoints = [...prefix].map((c) => c.codePointAt(0) as number);
  while (codePoints.length > 0) {
    const last = codePoints.pop() as number;
    if (last === MAX_CODE_POINT) continue;
    const next = last + 1 === SURROGATES_START ? SURROGATES_END + 1 : last + 1;
    return String.fromCodePoint(...codePoints, next);
  }
  return null;
}

/**
 * A user page query's bounds: ids above `after` (the empty string is below every id), from `prefix` up to its end,
 * and one row beyond the limit, which tells whether another page exists.
 */
export function userPageBounds(page: UserPageRequest) {
  checkLimit(page.limit);
  const prefix = page.prefix ?? '';
  return { after: page.afterUserId ?? '', prefix, end: prefixEnd(prefix), fetch: page.limit + 1 };
}

/** The page made of rows fetched with `userPageBounds`. */
export function userPageOf(fetched: readonly UserSummary[], limit: number): UserPage {
  const users = fetched.slice(0, limit);
  const last = users[users.length - 1];
  return { users, nextAfterUserId: fetched.length > limit && last ? last.userId : null };
}
