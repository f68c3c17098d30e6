import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import pLimit, { type LimitFunction } from 'p-limit';
import { MINUTE_MS, minuteOf, pointSums, type MinuteSums } from '../minutes.js';
import type { IngestOutcome, Point } from '../../ingest/point.js';
import { isTransactionConflict, mapPostgresError } from './postgres-errors.js';
import { migratePostgres, type MigrationResult } from './postgres-migrations.js';
import {
  pageBounds,
  pageOf,
  userPageBounds,
  userPageOf,
  type ChangeMarker,
  type MinutePage,
  type MinuteRange,
  type PageRequest,
  type NewToken,
  type Store,
  type TokenRecord,
  type TokenScope,
  type TokenStore,
  type TrackBucket,
  type TrackRequest,
  type UserChanges,
  type UserPage,
  type UserPageRequest,
  type UserSummary,
} from '../store.js';

export { mapPostgresError } from './postgres-errors.js';
export { POSTGRES_SCHEMA_VERSION, type MigrationResult } from './postgres-migrations.js';

export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` connection URL. */
  url: string;
  /** How long to wait for a connection (new, or free in the pool) before answering unavailable. Default 5000. */
  connectionTimeoutMs?: number;
  /** How long to wait for the server to answer a query before giving up on the connection. Default 30000. */
  queryTimeoutMs?: number;
  /** Pool size. Default 10. Reads use at most two fewer (at least one), so ingest always finds a connection. */
  maxConnections?: number;
  /** Called when an idle pooled connection fails (e.g. the server restarted); the pool replaces it. */
  onConnectionError?: (error: Error) => void;
  /** Called before a transaction is run again after a deadlock or serialization failure. */
  onRetry?: (error: unknown, attempt: number) => void;
}

const DEFAULT_CONNECTION_TIMEOUT_MS = 5000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 10;
/** Attempts at one ingest transaction when it loses a deadlock or serialization check. */
const MAX_ATTEMPTS = 4;

/*
 * bigint comes back from the driver as text, because it may exceed 2^53. The sums here cannot (see minutes.ts),
 * so they are read as numbers, and a value that would lose precision fails the query instead of being rounded.
 * Set per pool rather than on pg.types, which is global to every user of the driver in the process.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`PostgreSQL bigint ${text} is beyond the exact integers of JavaScript`);
  }
  return value;
}

const TYPES: pg.CustomTypesConfig = {
  getTypeParser: (id, format): unknown =>
    id === pg.types.builtins.INT8 ? parseInt8 : (pg.types.getTypeParser(id, format) as unknown),
};

/*
 * One statement, one round trip, one implicit transaction: the driver resolves on ReadyForQuery, which the
 * server sends only after COMMIT, so a resolved ingest is durable, and the totals commit with the minutes.
 *
 * The points arrive as parallel arrays of integers already in fixed units (pointSums), so SQL only adds integers
 * and takes minima and maxima: the rows are bit-for-bit those SQLite computes.
 *
 * - `firsts` keeps the first occurrence of each key in the batch, by arrival (ordinality).
 * - `new_keys` is the dedupe check: the keys this transaction inserted. A key another transaction holds
 *   uncommitted makes this one wait for it; if that commits, the key is a duplicate here. First committed wins.
 * - `grouped` sums the stored points per minute; `upserted` adds them to their minutes. Its ORDER BY needs every
 *   stored row first, so all keys are locked before any minute row is.
 * - `per_minute` tells the minutes this statement created: an upserted row whose samples are exactly the batch's
 *   created it, since a row that already existed held at least one sample before. It pairs each upserted row with
 *   its batch row by grouping the two together rather than by a join, for which the planner, blind to the CTEs'
 *   sizes, picked a nested loop (quadratic in the batch). `per_user` sums those per user. Their GROUP BYs and
 *   the ORDER BY of `totals` need every upserted row first, so all minute rows are locked before any totals row is.
 * - `totals` adds the batch to each user's totals and stamps the row with this transaction's id for the live feed.
 * - Keys, minutes and totals are inserted sorted by their primary key, and the three tables are always locked in
 *   that order, so any two transactions lock rows in the same order and cannot deadlock each other; user ids are
 *   compared as the columns do, COLLATE "C".
 * - The ordinals of the stored points are the answer; every other point is a duplicate.
 */
const INGEST_SQL = `
  WITH input AS (
    SELECT user_id COLLATE "C" AS user_id, ts_ms, minute_ms, lat_u, long_u, long_east_u,
      accuracy_u, accuracy_n, speed_u, speed_n, ord
    FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
      $8::int8[], $9::int8[], $10::int8[])
      WITH ORDINALITY AS p (user_id, ts_ms, minute_ms, lat_u, long_u, long_east_u,
        accuracy_u, accuracy_n, speed_u, speed_n, ord)
  ),
  firsts AS (
    SELECT DISTINCT ON (user_id, ts_ms) * FROM input ORDER BY user_id, ts_ms, ord
  ),
  new_keys AS (
    INSERT INTO dedupe_keys (user_id, ts_ms)
    SELECT user_id, ts_ms FROM firsts ORDER BY user_id, ts_ms
    ON CONFLICT DO NOTHING
    RETURNING user_id, ts_ms
  ),
  stored AS (
    SELECT firsts.* FROM firsts JOIN new_keys USING (user_id, ts_ms)
  ),
  grouped AS (
    SELECT user_id, minute_ms, count(*) AS samples, sum(lat_u)::int8 AS lat_sum, sum(long_u)::int8 AS long_sum,
      min(long_u) AS long_min, max(long_u) AS long_max, sum(long_east_u)::int8 AS long_east_sum,
      min(long_east_u) AS long_east_min, max(long_east_u) AS long_east_max,
      sum(accuracy_u)::int8 AS accuracy_sum, sum(accuracy_n)::int8 AS accuracy_count,
      sum(speed_u)::int8 AS speed_sum, sum(speed_n)::int8 AS speed_count
    FROM stored
    GROUP BY user_id, minute_ms
  ),
  upserted AS (
    INSERT INTO minutes AS m (user_id, minute_ms, samples, lat_sum, long_sum, long_min, long_max,
      long_east_sum, long_east_min, long_east_max, accuracy_sum, accuracy_count, speed_sum, speed_count)
    SELECT user_id, minute_ms, samples, lat_sum, long_sum, long_min, long_max,
      long_east_sum, long_east_min, long_east_max, accuracy_sum, accuracy_count, speed_sum, speed_count
    FROM grouped
    ORDER BY user_id, minute_ms
    ON CONFLICT (user_id, minute_ms) DO UPDATE SET
      samples = m.samples + excluded.samples,
      lat_sum = m.lat_sum + excluded.lat_sum,
      long_sum = m.long_sum + excluded.long_sum,
      long_min = least(m.long_min, excluded.long_min),
      long_max = greatest(m.long_max, excluded.long_max),
      long_east_sum = m.long_east_sum + excluded.long_east_sum,
      long_east_min = least(m.long_east_min, excluded.long_east_min),
      long_east_max = greatest(m.long_east_max, excluded.long_east_max),
      accuracy_sum = m.accuracy_sum + excluded.accuracy_sum,
      accuracy_count = m.accuracy_count + excluded.accuracy_count,
      speed_sum = m.speed_sum + excluded.speed_sum,
      speed_count = m.speed_count + excluded.speed_count
    RETURNING m.user_id, m.minute_ms, m.samples
  ),
  per_minute AS (
    SELECT user_id, minute_ms, sum(now_samples) = sum(added) AS created, sum(added)::int8 AS added
    FROM (
      SELECT user_id, minute_ms, samples AS now_samples, 0 AS added FROM upserted
      UNION ALL
      SELECT user_id, minute_ms, 0, samples FROM grouped
    ) both_sides
    GROUP BY user_id, minute_ms
  ),
  per_user AS (
    SELECT user_id, count(*) FILTER (WHERE created) AS minutes, sum(added)::int8 AS samples,
      min(minute_ms) AS first_minute_ms, max(minute_ms) AS last_minute_ms
    FROM per_minute
    GROUP BY user_id
  ),
  totals AS (
    INSERT INTO user_totals AS t (user_id, minutes, samples, first_minute_ms, last_minute_ms, changed_xid)
    SELECT user_id, minutes, samples, first_minute_ms, last_minute_ms, pg_current_xact_id()
    FROM per_user
    ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET
      minutes = t.minutes + excluded.minutes,
      samples = t.samples + excluded.samples,
      first_minute_ms = least(t.first_minute_ms, excluded.first_minute_ms),
      last_minute_ms = greatest(t.last_minute_ms, excluded.last_minute_ms),
      changed_xid = excluded.changed_xid
  )
  SELECT ord::int4 AS ord FROM stored`;

const USER_COLUMNS = `user_id AS "userId", minutes, samples, first_minute_ms AS "firstMinuteMs",
  last_minute_ms AS "lastMinuteMs"`;

/*
 * Keyset paging on the primary key: after the previous page, from the prefix, below the prefix's end. Comparing
 * with the column's "C" collation makes these byte ranges, so `%` and `_` in a prefix are plain characters. A prefix
 * with no end (empty, or only U+10FFFF) gets the statement without that bound rather than a NULL trick the planner
 * might not see through.
 */
const USER_PAGE_SQL = `SELECT ${USER_COLUMNS} FROM user_totals
  WHERE user_id > $1 AND user_id >= $2 ORDER BY user_id LIMIT $3`;
const USER_PAGE_BELOW_SQL = `SELECT ${USER_COLUMNS} FROM user_totals
  WHERE user_id > $1 AND user_id >= $2 AND user_id < $4 ORDER BY user_id LIMIT $3`;

const USER_SQL = `SELECT ${USER_COLUMNS} FROM user_totals WHERE user_id = $1`;

/*
 * The change marker is the oldest transaction still running when this statement's snapshot was taken (the
 * snapshot pg_current_snapshot() reports is the statement's own). Every transaction below it had ended, so its
 * changes are in this answer or an earlier one; every one at or above it may commit later, and the next call, which
 * asks for changed_xid >= marker, finds it then. A change visible now whose xid is at or above the marker is sent
 * twice, which the contract allows; so is every change since a long write transaction anywhere on the server
 * began, for as long as it runs. Not the snapshot's xmax: that is one past the latest transaction to finish, which
 * can be above one that started earlier and is still running. The LEFT JOIN keeps the marker's row when nothing
 * changed.
 */
const MARKER_SQL = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS marker';
const CHANGED_USERS_SQL = `
  SELECT s.marker::text AS marker, t.user_id AS "userId", t.minutes, t.samples,
    t.first_minute_ms AS "firstMinuteMs", t.last_minute_ms AS "lastMinuteMs"
  FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS marker) s
  LEFT JOIN user_totals t ON t.changed_xid >= $1::xid8
  ORDER BY t.user_id`;

/*
 * A bucket is floor((minute - origin) / bucket); bigint division truncates toward zero, so a negative remainder
 * steps one bucket down. The sums of a bucket can pass 2^53 (a year of latitudes), so they come back as numeric
 * text and are rounded to the nearest double by the caller; counts and extremes stay bigint, which is exact.
 */
const TRACK_SQL = `
  SELECT min(minute_ms) AS "firstMinuteMs", max(minute_ms) AS "lastMinuteMs", count(*) AS minutes,
    sum(samples)::text AS samples, sum(lat_sum)::text AS "latSum", sum(long_sum)::text AS "longSum",
    min(long_min) AS "longMin", max(long_max) AS "longMax", sum(long_east_sum)::text AS "longEastSum",
    min(long_east_min) AS "longEastMin", max(long_east_max) AS "longEastMax",
    sum(accuracy_sum)::text AS "accuracySum", sum(accuracy_count)::text AS "accuracyCount",
    sum(speed_sum)::text AS "speedSum", sum(speed_count)::text AS "speedCount"
  FROM (
    SELECT *, minute_ms - $4::int8 AS offset_ms FROM minutes
    WHERE user_id = $1 AND minute_ms >= $2 AND minute_ms < $3
  ) m
  GROUP BY offset_ms / $5::int8 - (offset_ms % $5::int8 < 0)::int
  ORDER BY 1`;

const USER_EXISTS_SQL = 'SELECT 1 FROM user_totals WHERE user_id = $1';

// One lower bound, the range's start and the cursor folded together (pageBounds in store.ts); absent bounds come
// as the widest safe integers, so one statement serves every range and page.
const MINUTE_PAGE_SQL = `
  SELECT minute_ms AS "minuteMs", samples, lat_sum AS "latSum", long_sum AS "longSum", long_min AS "longMin",
    long_max AS "longMax", long_east_sum AS "longEastSum", long_east_min AS "longEastMin",
    long_east_max AS "longEastMax", accuracy_sum AS "accuracySum", accuracy_count AS "accuracyCount",
    speed_sum AS "speedSum", speed_count AS "speedCount"
  FROM minutes
  WHERE user_id = $1 AND minute_ms >= $2 AND minute_ms < $3
  ORDER BY minute_ms LIMIT $4`;

interface MinuteRow extends MinuteSums {
  minuteMs: number;
}

/** The fields of MinuteSums that a bucket adds up, read as numeric text; the extremes stay bigint. */
type SummedField =
  | 'samples'
  | 'latSum'
  | 'longSum'
  | 'longEastSum'
  | 'accuracySum'
  | 'accuracyCount'
  | 'speedSum'
  | 'speedCount';

type TrackRow = Omit<TrackBucket, 'sums'> & Omit<MinuteSums, SummedField> & Record<SummedField, string>;

/** Number() rounds a sum beyond 2^53 to the nearest double, as the Store contract asks, instead of failing. */
function trackBucket(row: TrackRow): TrackBucket {
  return {
    firstMinuteMs: row.firstMinuteMs,
    lastMinuteMs: row.lastMinuteMs,
    minutes: row.minutes,
    sums: {
      samples: Number(row.samples),
      latSum: Number(row.latSum),
      longSum: Number(row.longSum),
      longMin: row.longMin,
      longMax: row.longMax,
      longEastSum: Number(row.longEastSum),
      longEastMin: row.longEastMin,
      longEastMax: row.longEastMax,
      accuracySum: Number(row.accuracySum),
      accuracyCount: Number(row.accuracyCount),
      speedSum: Number(row.speedSum),
      speedCount: Number(row.speedCount),
    },
  };
}

/** A bucket size the caller should never ask for is a bug, refused before it reaches SQL. */
function checkTrackRequest({ bucketMs, originMs }: TrackRequest): void {
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0 || bucketMs % MINUTE_MS !== 0) {
    throw new RangeError(`track bucket must be a positive whole number of minutes, got ${bucketMs} ms`);
  }
  if (!Number.isSafeInteger(originMs)) {
    throw new RangeError(`track origin must be a safe integer, got ${originMs}`);
  }
}

/** A row of CHANGED_USERS_SQL: a user with the marker, or the marker alone (the LEFT JOIN found nobody). */
type ChangedRow =
  (UserSummary & { marker: string }) | ({ [K in keyof UserSummary]: null } & { marker: string });

/** The marker every row of a change query carries; the queries always return at least one row. */
function markerOf(rows: readonly { marker: string }[]): ChangeMarker {
  const marker = rows[0]?.marker;
  if (marker === undefined) throw new Error('the change query returned no row');
  return marker;
}

function changesOf(rows: readonly ChangedRow[]): UserChanges {
  const marker = markerOf(rows);
  const users: UserSummary[] = [];
  for (const row of rows) {
    if (row.userId === null) continue;
    const { userId, minutes, samples, firstMinuteMs, lastMinuteMs } = row;
    users.push({ userId, minutes, samples, firstMinuteMs, lastMinuteMs });
  }
  return { users, marker };
}

const MAX_XID8 = 2n ** 64n - 1n;

/**
 * The transaction id a marker of this store stands for: an unsigned 64-bit integer in decimal. A marker from
 * elsewhere (another backend, a tampered cursor) is refused here rather than left to fail as SQL.
 */
function xidOfMarker(marker: ChangeMarker): string {
  if (!/^(0|[1-9][0-9]{0,19})$/.test(marker) || BigInt(marker) > MAX_XID8) {
    throw new RangeError(`not a PostgreSQL change marker: ${JSON.stringify(marker.slice(0, 40))}`);
  }
  return marker;
}

const TOKEN_COLUMNS = `id, user_id AS "userId", scope, label, created_ms AS "createdMs", revoked_ms AS "revokedMs"`;

interface TokenRow extends Omit<TokenRecord, 'scope'> {
  scope: string;
}

function tokenRecord(row: TokenRow): TokenRecord {
  // The CHECK constraint admits only these two.
  return { ...row, scope: row.scope as TokenScope };
}

/** The tokens table on the store's pool; every call is one statement, mapped like the store's own. */
class PostgresTokenStore implements TokenStore {
  readonly #query: <R extends object>(sql: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

  constructor(query: <R extends object>(sql: string, values: unknown[]) => Promise<pg.QueryResult<R>>) {
    this.#query = query;
  }

  async create(token: NewToken): Promise<TokenRecord> {
    const { rows } = await this.#query<TokenRow>(
      `INSERT INTO tokens (id, hash, user_id, scope, label, created_ms)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${TOKEN_COLUMNS}`,
      [token.id, token.hash, token.userId, token.scope, token.label, token.createdMs],
    );
    const [row] = rows;
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return tokenRecord(row);
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    const { rows } = await this.#query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1`, [
      hash,
    ]);
    const [row] = rows;
    return row ? tokenRecord(row) : null;
  }

  async list(): Promise<TokenRecord[]> {
    const { rows } = await this.#query<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_ms, id`,
      [],
    );
    return rows.map(tokenRecord);
  }

  async revoke(id: string, atMs: number): Promise<boolean> {
    const result = await this.#query(
      'UPDATE tokens SET revoked_ms = coalesce(revoked_ms, $1) WHERE id = $2',
      [atMs, id],
    );
    return (result.rowCount ?? 0) > 0;
  }
}

/** The ingest statement's parameters $1…$10, in order: one array per column, element i describing point i. */
const INGEST_COLUMNS: readonly ((point: Point, sums: MinuteSums) => string | number)[] = [
  (p) => p.userId,
  (p) => p.tsMs,
  (p) => minuteOf(p.tsMs),
  (_, s) => s.latSum,
  (_, s) => s.longSum,
  (_, s) => s.longEastSum,
  (_, s) => s.accuracySum,
  (_, s) => s.accuracyCount,
  (_, s) => s.speedSum,
  (_, s) => s.speedCount,
];

function ingestParameters(points: readonly Point[]): (string | number)[][] {
  const sums = points.map(pointSums);
  return INGEST_COLUMNS.map((column) => points.map((point, i) => column(point, sums[i] as MinuteSums)));
}

function outcomesFrom(count: number, storedOrdinals: readonly { ord: number }[]): IngestOutcome[] {
  const outcomes = new Array<IngestOutcome>(count).fill('duplicate');
  for (const { ord } of storedOrdinals) outcomes[ord - 1] = 'stored';
  return outcomes;
}

/** How many connections reads may hold at once: all but two, and at least one. */
export function readSlotsOf(maxConnections: number): number {
  return Math.max(1, maxConnections - 2);
}

/** A short random pause, so that two transactions that just deadlocked do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  return delay(Math.random() * 10 * 2 ** attempt);
}

/**
 * The Store on PostgreSQL, for one or many Locus processes sharing a database. Construct it with
 * openPostgresStore, which also migrates the schema; the constructor alone never touches the network.
 */
export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #onRetry: PostgresStoreOptions['onRetry'];
  /**
   * Reads (user pages, minutes, tracks, the live feed) hold at most the pool's size less two connections: a burst of
   * exports or dashboards then waits for a read slot instead of taking every connection, and ingest, token checks
   * and health checks always find one.
   */
  readonly #readSlots: LimitFunction;
  #closed: Promise<void> | null = null;
  readonly tokens: TokenStore;

  constructor(options: PostgresStoreOptions) {
    this.#pool = new pg.Pool({
      connectionString: options.url,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      keepAlive: true,
      application_name: 'locus',
      types: TYPES,
    });
    const onConnectionError = options.onConnectionError ?? (() => {});
    // An idle connection that dies (server restart, network cut) is reported here and dropped by the pool; with
    // no listener the 'error' event would end the process. The next query simply opens a new connection.
    this.#pool.on('error', (error) => onConnectionError(error));
    this.#onRetry = options.onRetry;
    this.#readSlots = pLimit(readSlotsOf(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS));
    this.tokens = new PostgresTokenStore((sql, values) => this.#mapped(() => this.#pool.query(sql, values)));
  }

  /** Applies pending schema migrations; safe to run from several processes at once. */
  async migrate(): Promise<MigrationResult> {
    return this.#mapped(() => migratePostgres(this.#pool));
  }

  async ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
    if (points.length === 0) return [];
    const parameters = ingestParameters(points);
    const rows = await this.#withRetries(async () => {
      const result = await this.#pool.query<{ ord: number }>(INGEST_SQL, parameters);
      return result.rows;
    });
    return outcomesFrom(points.length, rows);
  }

  async users(page: UserPageRequest): Promise<UserPage> {
    return this.#read(async () => {
      const { after, prefix, end, fetch } = userPageBounds(page);
      const { rows } =
        end === null
          ? await this.#pool.query<UserSummary>(USER_PAGE_SQL, [after, prefix, fetch])
          : await this.#pool.query<UserSummary>(USER_PAGE_BELOW_SQL, [after, prefix, fetch, end]);
      return userPageOf(rows, page.limit);
    });
  }

  async user(userId: string): Promise<UserSummary | null> {
    return this.#read(async () => {
      const { rows } = await this.#pool.query<UserSummary>(USER_SQL, [userId]);
      return rows[0] ?? null;
    });
  }

  async changedUsers(since: ChangeMarker | null): Promise<UserChanges> {
    return this.#read(async () => {
      if (since === null) {
        const { rows } = await this.#pool.query<{ marker: string }>(MARKER_SQL);
        return { users: [], marker: markerOf(rows) };
      }
      const { rows } = await this.#pool.query<ChangedRow>(CHANGED_USERS_SQL, [xidOfMarker(since)]);
      return changesOf(rows);
    });
  }

  async track(userId: string, range: MinuteRange, request: TrackRequest): Promise<TrackBucket[] | null> {
    return this.#read(async () => {
      checkTrackRequest(request);
      const { rows } = await this.#pool.query<TrackRow>(TRACK_SQL, [
        userId,
        range.fromMs ?? Number.MIN_SAFE_INTEGER,
        range.toMs ?? Number.MAX_SAFE_INTEGER,
        request.originMs,
        request.bucketMs,
      ]);
      if (rows.length > 0) return rows.map(trackBucket);
      return (await this.#userExists(userId)) ? [] : null;
    });
  }

  async minutes(userId: string, range: MinuteRange, page: PageRequest): Promise<MinutePage | null> {
    return this.#read(() => this.#minutePage(userId, range, page));
  }

  async pruneDedupeKeys(beforeMs: number): Promise<number> {
    return this.#mapped(async () => {
      const result = await this.#pool.query('DELETE FROM dedupe_keys WHERE ts_ms < $1', [beforeMs]);
      return result.rowCount ?? 0;
    });
  }

  async health(): Promise<void> {
    await this.#mapped(() => this.#pool.query('SELECT 1'));
  }

  /** Idempotent: the pool refuses to be ended twice, so every call shares the first one's promise. */
  close(): Promise<void> {
    this.#closed ??= this.#pool.end();
    return this.#closed;
  }

  async #minutePage(userId: string, range: MinuteRange, page: PageRequest): Promise<MinutePage | null> {
    const bounds = pageBounds(range, page);
    const { rows: fetched } = await this.#pool.query<MinuteRow>(MINUTE_PAGE_SQL, [
      userId,
      bounds.fromMs,
      bounds.toMs,
      bounds.fetch,
    ]);
    if (fetched.length > 0) return pageOf(userId, fetched, page.limit);
    return (await this.#userExists(userId)) ? { rows: [], nextAfterMinuteMs: null } : null;
  }

  /** Whether the user has any minute: one row of the totals, however long the user's history. */
  async #userExists(userId: string): Promise<boolean> {
    return (await this.#pool.query(USER_EXISTS_SQL, [userId])).rows.length > 0;
  }

  /** A read, in one of the read slots. */
  #read<T>(work: () => Promise<T>): Promise<T> {
    return this.#mapped(() => this.#readSlots(work));
  }

  async #mapped<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw mapPostgresError(error);
    }
  }

  /*
   * Ordered locking should leave no deadlock to retry; this is the safety net for what ordering cannot cover
   * (an operator running SERIALIZABLE by default, a future statement that locks differently). A failed
   * statement changed nothing, so running it again is safe and keeps first-committed-wins.
   */
  async #withRetries<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isTransactionConflict(error) || attempt >= MAX_ATTEMPTS) throw mapPostgresError(error);
        this.#onRetry?.(error, attempt);
        await backoff(attempt);
      }
    }
  }
}

/** A PostgresStore whose schema is current, or a rejection (StoreUnavailableError when it cannot connect). */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.migrate();
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}
