/*
 * Every read of the minutes and the user totals, as synchronous functions of one connection. The store runs them
 * on reader threads for a file (sqlite-reader.ts), so that no read, however long, holds up the main event loop,
 * and in process for :memory:, whose data no other connection can see.
 */
import type Database from 'better-sqlite3';
import type { MinuteSums } from '../minutes.js';
import {
  pageBounds,
  pageOf,
  userPageBounds,
  userPageOf,
  type MinutePage,
  type MinuteRange,
  type PageRequest,
  type TrackBucket,
  type TrackRequest,
  type UserChanges,
  type UserPage,
  type UserPageRequest,
  type UserSummary,
} from '../store.js';

/** A read the store can ask for; the same shape crosses to a reader thread. */
export type ReadRequest =
  | { op: 'users'; page: UserPageRequest }
  | { op: 'user'; userId: string }
  | { op: 'changedUsers'; since: string | null }
  | { op: 'minutes'; userId: string; range: MinuteRange; page: PageRequest }
  | { op: 'track'; userId: string; range: MinuteRange; request: TrackRequest };

/** What each read answers. */
export interface ReadResults {
  users: UserPage;
  user: UserSummary | null;
  changedUsers: UserChanges;
  minutes: MinutePage | null;
  track: TrackBucket[] | null;
}

export type ReadOp = ReadRequest['op'];

const USER_COLUMNS = `user_id AS userId, minutes, samples, first_minute_ms AS firstMinuteMs,
  last_minute_ms AS lastMinuteMs`;

const MINUTE_COLUMNS = `
  minute_ms AS minuteMs, samples, lat_sum AS latSum, long_sum AS longSum, long_min AS longMin,
  long_max AS longMax, long_east_sum AS longEastSum, long_east_min AS longEastMin,
  long_east_max AS longEastMax, accuracy_sum AS accuracySum,
  accuracy_count AS accuracyCount, speed_sum AS speedSum, speed_count AS speedCount`;

// One bucket's merged sums. Summed over many minutes an integer sum may pass 2^53: read as BigInt
// (safeIntegers) and rounded once to the nearest double, rather than rounded by the driver on the way.
const BUCKET_COLUMNS = `
  min(minute_ms) AS firstMinuteMs, max(minute_ms) AS lastMinuteMs, count(*) AS minutes,
  sum(samples) AS samples, sum(lat_sum) AS latSum, sum(long_sum) AS longSum, min(long_min) AS longMin,
  max(long_max) AS longMax, sum(long_east_sum) AS longEastSum, min(long_east_min) AS longEastMin,
  max(long_east_max) AS longEastMax, sum(accuracy_sum) AS accuracySum, sum(accuracy_count) AS accuracyCount,
  sum(speed_sum) AS speedSum, sum(speed_count) AS speedCount`;

interface MinuteRow extends MinuteSums {
  minuteMs: number;
}

type BigIntRow = Record<keyof MinuteSums | 'firstMinuteMs' | 'lastMinuteMs' | 'minutes', bigint>;

function prepareReadStatements(db: Database.Database) {
  return {
    // Two statements rather than one with an optional bound: the index range must end at the prefix's end, or a
    // prefix with few users would scan to the end of the table looking for more.
    userPage: db.prepare<[string, string, number], UserSummary>(`
      SELECT ${USER_COLUMNS} FROM user_totals
      WHERE user_id > ? AND user_id >= ? ORDER BY user_id LIMIT ?`),
    userPageWithin: db.prepare<[string, string, string, number], UserSummary>(`
      SELECT ${USER_COLUMNS} FROM user_totals
      WHERE user_id > ? AND user_id >= ? AND user_id < ? ORDER BY user_id LIMIT ?`),
    user: db.prepare<[string], UserSummary>(`SELECT ${USER_COLUMNS} FROM user_totals WHERE user_id = ?`),
    latestVersion: db.prepare<[], number>('SELECT coalesce(max(version), 0) FROM user_totals').pluck(),
    changedSince: db.prepare<[number, number], UserSummary>(`
      SELECT ${USER_COLUMNS} FROM user_totals WHERE version > ? AND version <= ? ORDER BY user_id`),
    // One lower bound, the range's start and the cursor folded together (pageBounds in store.ts says why); absent
    // bounds come as the widest safe integers, so one statement serves every range and page.
    minutePage: db.prepare<[string, number, number, number], MinuteRow>(`
      SELECT ${MINUTE_COLUMNS} FROM minutes
      WHERE user_id = ? AND minute_ms >= ? AND minute_ms < ?
      ORDER BY minute_ms LIMIT ?`),
    userExists: db.prepare<[string], 1>('SELECT 1 FROM user_totals WHERE user_id = ?').pluck(),
    // Minutes arrive in key order and the bucket is monotonic in the minute, so the groups come out in order;
    // the ORDER BY only makes that a guarantee. The CASTs: a JavaScript number is bound as a REAL, and a REAL
    // divisor would make the division exact, one group per minute.
    track: db
      .prepare<[string, number, number, number, number], BigIntRow>(
        `
      SELECT ${BUCKET_COLUMNS} FROM minutes
      WHERE user_id = ? AND minute_ms >= ? AND minute_ms < ?
      GROUP BY (minute_ms - CAST(? AS INTEGER)) / CAST(? AS INTEGER) ORDER BY 1`,
      )
      .safeIntegers(true),
  };
}

type ReadStatements = ReturnType<typeof prepareReadStatements>;

/** A marker this store issued: a version, as a decimal string. */
function parseMarker(marker: string): number {
  const version = /^\d{1,15}$/.test(marker) ? Number(marker) : NaN;
  if (!Number.isSafeInteger(version)) throw new RangeError(`not a change marker of this store: ${marker}`);
  return version;
}

function bucketOf(row: BigIntRow): TrackBucket {
  return {
    firstMinuteMs: Number(row.firstMinuteMs),
    lastMinuteMs: Number(row.lastMinuteMs),
    minutes: Number(row.minutes),
    sums: {
      samples: Number(row.samples),
      latSum: Number(row.latSum),
      longSum: Number(row.longSum),
      longMin: Number(row.longMin),
      longMax: Number(row.longMax),
      longEastSum: Number(row.longEastSum),
      longEastMin: Number(row.longEastMin),
      longEastMax: Number(row.longEastMax),
      accuracySum: Number(row.accuracySum),
      accuracyCount: Number(row.accuracyCount),
      speedSum: Number(row.speedSum),
      speedCount: Number(row.speedCount),
    },
  };
}

function checkBucket({ bucketMs, originMs }: TrackRequest): void {
  if (!Number.isSafeInteger(bucketMs) || bucketMs < 1 || !Number.isSafeInteger(originMs)) {
    throw new RangeError(`track buckets need a positive whole width and an origin: ${bucketMs}, ${originMs}`);
  }
}

/** The reads of one connection. */
export class SqliteReads {
  readonly #db: Database.Database;
  readonly #statements: ReadStatements;
  readonly #changes: Database.Transaction<(since: string | null) => UserChanges>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = prepareReadStatements(db);
    // One read transaction: the marker and the rows come from the same snapshot.
    this.#changes = db.transaction((since: string | null) => this.#changedUsers(since));
  }

  run<Op extends ReadOp>(request: Extract<ReadRequest, { op: Op }>): ReadResults[Op];
  run(request: ReadRequest): ReadResults[ReadOp] {
    switch (request.op) {
      case 'users':
        return this.#users(request.page);
      case 'user':
        return this.#statements.user.get(request.userId) ?? null;
      case 'changedUsers':
        return this.#changes.deferred(request.since);
      case 'minutes':
        return this.#minutes(request.userId, request.range, request.page);
      case 'track':
        return this.#track(request.userId, request.range, request.request);
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #users(page: UserPageRequest): UserPage {
    const { after, prefix, end, fetch } = userPageBounds(page);
    const fetched =
      end === null
        ? this.#statements.userPage.all(after, prefix, fetch)
        : this.#statements.userPageWithin.all(after, prefix, end, fetch);
    return userPageOf(fetched, page.limit);
  }

  #changedUsers(since: string | null): UserChanges {
    const latest = this.#statements.latestVersion.get() as number;
    const users = since === null ? [] : this.#statements.changedSince.all(parseMarker(since), latest);
    return { users, marker: String(latest) };
  }

  #minutes(userId: string, range: MinuteRange, page: PageRequest): MinutePage | null {
    const bounds = pageBounds(range, page);
    const fetched = this.#statements.minutePage.all(userId, bounds.fromMs, bounds.toMs, bounds.fetch);
    if (fetched.length > 0) return pageOf(userId, fetched, page.limit);
    return this.#statements.userExists.get(userId) === undefined
      ? null
      : { rows: [], nextAfterMinuteMs: null };
  }

  #track(userId: string, range: MinuteRange, request: TrackRequest): TrackBucket[] | null {
    checkBucket(request);
    if (this.#statements.userExists.get(userId) === undefined) return null;
    const rows = this.#statements.track.all(
      userId,
      range.fromMs ?? Number.MIN_SAFE_INTEGER,
      range.toMs ?? Number.MAX_SAFE_INTEGER,
      request.originMs,
      request.bucketMs,
    );
    return rows.map(bucketOf);
  }
}
