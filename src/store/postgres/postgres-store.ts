import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { minuteOf, pointSums, type MinuteSums } from '../minutes.js';
import type { IngestOutcome, Point } from '../../ingest/point.js';
import { isTransactionConflict, mapPostgresError } from './postgres-errors.js';
import { migratePostgres, type MigrationResult } from './postgres-migrations.js';
import {
  pageBounds,
  pageOf,
  type MinutePage,
  type MinuteRange,
  type PageRequest,
  type NewToken,
  type Store,
  type TokenRecord,
  type TokenScope,
  type TokenStore,
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
  /** Pool size. Default 10. */
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
 * server sends only after COMMIT, so a resolved ingest is durable.
 *
 * The points arrive as parallel arrays of integers already in fixed units (pointSums), so SQL only adds integers
 * and takes minima and maxima: the rows are bit-for-bit those SQLite computes.
 *
 * - `firsts` keeps the first occurrence of each key in the batch, by arrival (ordinality).
 * - `new_keys` is the dedupe check: the keys this transaction inserted. A key another transaction holds
 *   uncommitted makes this one wait for it; if that commits, the key is a duplicate here. First committed wins.
 * - `upserted` adds the sums of the stored points to their minutes. Its GROUP BY and ORDER BY need every stored
 *   row first, so all keys are locked before any minute row is.
 * - Keys and minutes are inserted sorted by their primary key, so any two transactions lock rows in the same
 *   order and cannot deadlock each other; user ids are compared as the column does, COLLATE "C".
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
  upserted AS (
    INSERT INTO minutes AS m (user_id, minute_ms, samples, lat_sum, long_sum, long_min, long_max,
      long_east_sum, long_east_min, long_east_max, accuracy_sum, accuracy_count, speed_sum, speed_count)
    SELECT user_id, minute_ms, count(*), sum(lat_u)::int8, sum(long_u)::int8, min(long_u), max(long_u),
      sum(long_east_u)::int8, min(long_east_u), max(long_east_u), sum(accuracy_u)::int8, sum(accuracy_n)::int8,
      sum(speed_u)::int8, sum(speed_n)::int8
    FROM stored
    GROUP BY user_id, minute_ms
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
  )
  SELECT ord::int4 AS ord FROM stored`;

const USERS_SQL = `
  SELECT user_id AS "userId", count(*) AS minutes, sum(samples)::int8 AS samples,
    min(minute_ms) AS "firstMinuteMs", max(minute_ms) AS "lastMinuteMs"
  FROM minutes GROUP BY user_id ORDER BY user_id`;

// fromMs (inclusive) and afterMinuteMs (exclusive) stay separate terms so absent bounds need no special SQL:
// the caller passes the widest safe integers instead, and one statement serves every range and page.
const MINUTE_PAGE_SQL = `
  SELECT minute_ms AS "minuteMs", samples, lat_sum AS "latSum", long_sum AS "longSum", long_min AS "longMin",
    long_max AS "longMax", long_east_sum AS "longEastSum", long_east_min AS "longEastMin",
    long_east_max AS "longEastMax", accuracy_sum AS "accuracySum", accuracy_count AS "accuracyCount",
    speed_sum AS "speedSum", speed_count AS "speedCount"
  FROM minutes
  WHERE user_id = $1 AND minute_ms >= $2 AND minute_ms > $3 AND minute_ms < $4
  ORDER BY minute_ms LIMIT $5`;

interface MinuteRow extends MinuteSums {
  minuteMs: number;
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

  async users(): Promise<UserSummary[]> {
    return this.#mapped(async () => (await this.#pool.query<UserSummary>(USERS_SQL)).rows);
  }

  async minutes(userId: string, range: MinuteRange, page: PageRequest): Promise<MinutePage | null> {
    return this.#mapped(() => this.#minutePage(userId, range, page));
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
      bounds.afterMs,
      bounds.toMs,
      bounds.fetch,
    ]);
    if (fetched.length > 0) return pageOf(userId, fetched, page.limit);
    const known = await this.#pool.query('SELECT 1 FROM minutes WHERE user_id = $1 LIMIT 1', [userId]);
    return known.rows.length === 0 ? null : { rows: [], nextAfterMinuteMs: null };
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
