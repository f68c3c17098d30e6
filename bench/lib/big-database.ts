/*
 * Large Locus databases built quickly, for bench/reads-at-scale.ts: many users, one of them ('big') with a long
 * unbroken history, and a 'little' one with a short history for the dashboard's baseline.
 *
 * The schema is Locus's own: the store of the build under test (its dist/, the same code the server runs) opens the
 * database first, so every migration runs and the tokens are made through its TokenStore. The rows are then written
 * directly, far faster than through Store.ingest: SQLite with better-sqlite3 prepared statements in large
 * transactions, in time order as ingest writes them (every user's minute m, then minute m + 1, ...); PostgreSQL in
 * SQL, generate_series sorted by time. Both use the same formulas, so the two stores hold the same data up to the
 * last unit of a rounding. When the schema has a `user_totals` table (issue #15), it is filled from the minutes at
 * the end, as its migration would fill it for an existing database; when it has none, nothing is assumed of it.
 *
 * Each minute has 1-3 samples at second 7, 27 and 47, all at the minute's position, each with a dedupe key; lat/long
 * follow a slow loop round a home position (1e-8° units), accuracy 5-24 m, speed 0-15 m/s (mm, mm/s), with an hour
 * a day without speed. Plausible, not realistic: what the reads cost depends on the row count, not on the values.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';

export const BIG_USER = 'big';
export const LITTLE_USER = 'little';
/** Where every history starts: user u's minute g is T0_MS + (offset_u + g) minutes. */
export const T0_MS = Date.UTC(2024, 0, 1);
const MINUTE_MS = 60_000;
/** A minute's samples are at these seconds: 7, 27, 47. */
const SAMPLE_STEP_S = 20;
const SAMPLE_SECONDS = [7, 7 + SAMPLE_STEP_S, 7 + 2 * SAMPLE_STEP_S] as const;
const COORD = 1e8;
const EAST_SHIFT = 360 * COORD;

export interface DatabaseSpec {
  /** Users in all, 'big' and 'little' included (at least 3). */
  users: number;
  /** Minutes in all. */
  minutes: number;
  /** Consecutive minutes of 'big'. */
  bigMinutes: number;
  /** Consecutive minutes of 'little', the last ones of big's span. */
  littleMinutes: number;
}

export interface PlannedUser {
  /** Index in id order: 0 is 'big', 1 'little', then u0002, u0003, … */
  k: number;
  userId: string;
  /** First minute, in minutes after T0_MS. */
  offset: number;
  minutes: number;
  lat0: number;
  long0: number;
}

/** Who holds how many minutes, from when, where: the same for both stores. */
export function planUsers(spec: DatabaseSpec): PlannedUser[] {
  const others = spec.users - 2;
  const rest = spec.minutes - spec.bigMinutes - spec.littleMinutes;
  if (others < 1 || rest < others || spec.littleMinutes < 1 || spec.littleMinutes > spec.bigMinutes) {
    throw new RangeError(`database spec ${JSON.stringify(spec)}: every user needs at least one minute`);
  }
  const each = Math.floor(rest / others);
  const span = Math.max(spec.bigMinutes, each + 1);
  const width = String(spec.users - 1).length;
  const users: PlannedUser[] = [
    { k: 0, userId: BIG_USER, offset: 0, minutes: spec.bigMinutes, lat0: 51.5, long0: -0.12 },
    {
      k: 1,
      userId: LITTLE_USER,
      offset: spec.bigMinutes - spec.littleMinutes,
      minutes: spec.littleMinutes,
      lat0: 48.85,
      long0: 2.35,
    },
  ];
  for (let k = 2; k < spec.users; k++) {
    const minutes = each + (k - 2 < rest % others ? 1 : 0);
    users.push({
      k,
      userId: `u${String(k).padStart(width, '0')}`,
      // Spread over big's span, so about minutes / span users are active in any one minute.
      offset: (k * 104_729) % Math.max(1, span - minutes + 1),
      minutes,
      lat0: -45 + ((k * 37) % 90) + 0.123,
      long0: -170 + ((k * 53) % 340) + 0.456,
    });
  }
  return users;
}

/** Samples of user k's minute g: 1, 2 or 3. */
const samplesOf = (k: number, g: number) => 1 + ((g * 7 + k) % 3);

/**
 * The 14 columns of `minutes` for user u's minute g, in the table's order, into `row`. PostgreSQL computes the
 * same in MINUTES_SQL below; keep the two alike.
 */
function minuteRow(u: PlannedUser, g: number, row: Array<string | number>): void {
  const s = samplesOf(u.k, g);
  const lat = Math.round((u.lat0 + 0.12 * Math.sin(g / 9000) + 0.02 * Math.sin(g / 700)) * COORD);
  const long = Math.round((u.long0 + 0.2 * Math.cos(g / 9000) + 0.03 * Math.cos(g / 500)) * COORD);
  const east = long < 0 ? long + EAST_SHIFT : long;
  const accuracy = (5 + (g % 20)) * 1000;
  const noSpeed = g % 1440 < 60;
  const speed = Math.round(Math.max(0, 12 * Math.sin(g / 240) + 3 * Math.sin(g / 17)) * 1000);
  row[0] = u.userId;
  row[1] = T0_MS + (u.offset + g) * MINUTE_MS;
  row[2] = s;
  row[3] = s * lat;
  row[4] = s * long;
  row[5] = long;
  row[6] = long;
  row[7] = s * east;
  row[8] = east;
  row[9] = east;
  row[10] = s * accuracy;
  row[11] = s;
  row[12] = noSpeed ? 0 : s * speed;
  row[13] = noSpeed ? 0 : s;
}

/** Tokens made in each database (the secrets; only their hashes are stored). */
export interface BenchTokens {
  admin: string;
  /** A user token of 'big'. */
  bigUser: string;
  /** Admin tokens for the /events streams, each used by at most `streamsPerToken` streams. */
  streams: string[];
}

export interface BuiltDatabase {
  /** DATABASE_URL of the database. */
  url: string;
  spec: DatabaseSpec;
  tokens: BenchTokens;
  /** Wall time of the build, and its parts. */
  seconds: { rows: number; totals: number; all: number };
  bytes: number;
  /** Whether the schema had user_totals (then filled from the minutes). */
  userTotals: boolean;
  drop: () => Promise<void>;
}

export interface BuildOptions {
  /** The Locus checkout whose dist/ opens the database (migrations, tokens): the build the server runs. */
  root: string;
  streamTokens: number;
  /** Progress lines go here. */
  log?: (line: string) => void;
}

type Backends = typeof import('../../src/store/backends.js');
type Tokens = typeof import('../../src/auth/tokens.js');

/** Migrates the database with the build under test and makes the tokens in it. */
async function migrateAndMakeTokens(url: string, options: BuildOptions): Promise<BenchTokens> {
  const dist = (file: string) => pathToFileURL(path.join(options.root, 'dist/src', file)).href;
  const { openStore, parseDatabaseUrl } = (await import(dist('store/backends.js'))) as Backends;
  const { newSecret } = (await import(dist('auth/tokens.js'))) as Tokens;
  const parsed = parseDatabaseUrl(url);
  if ('problem' in parsed) throw new Error(`DATABASE_URL: ${parsed.problem}`);
  const store = await openStore(parsed.config);
  try {
    const make = async (userId: string | null, label: string) => {
      const secret = newSecret();
      await store.tokens.create({
        id: secret.id,
        hash: secret.hash,
        userId,
        scope: userId === null ? 'admin' : 'user',
        label,
        createdMs: Date.now(),
      });
      return secret.token;
    };
    const streams: string[] = [];
    for (let i = 0; i < options.streamTokens; i++) streams.push(await make(null, `bench events ${i}`));
    return { admin: await make(null, 'bench admin'), bigUser: await make(BIG_USER, 'bench big'), streams };
  } finally {
    await store.close();
  }
}

/** The columns a filled user_totals row gets beyond the five of the contract, for the ones with no default. */
const TOTALS_EXTRA_VALUES: Record<string, string> = { version: '0' };
const TOTALS_COLUMNS = ['user_id', 'minutes', 'samples', 'first_minute_ms', 'last_minute_ms'];

interface Column {
  name: string;
  required: boolean;
}

/** The INSERT … SELECT that fills user_totals from minutes; throws on a column it cannot fill. */
function totalsSql(columns: Column[]): string {
  const names = columns.map((c) => c.name);
  const missing = TOTALS_COLUMNS.filter((c) => !names.includes(c));
  const unknown = columns.filter(
    (c) => c.required && !TOTALS_COLUMNS.includes(c.name) && !(c.name in TOTALS_EXTRA_VALUES),
  );
  if (missing.length || unknown.length) {
    throw new Error(
      `user_totals has columns ${names.join(', ')}: the bench builder fills ${TOTALS_COLUMNS.join(', ')} ` +
        `(and ${Object.keys(TOTALS_EXTRA_VALUES).join(', ')}); update bench/lib/big-database.ts`,
    );
  }
  const extra = columns.filter((c) => c.required && c.name in TOTALS_EXTRA_VALUES).map((c) => c.name);
  return `
    INSERT INTO user_totals (${[...TOTALS_COLUMNS, ...extra].join(', ')})
    SELECT user_id, count(*), sum(samples), min(minute_ms), max(minute_ms)
      ${extra.map((name) => `, ${TOTALS_EXTRA_VALUES[name]}`).join('')}
    FROM minutes GROUP BY user_id`;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** A SQLite file at `file` (which must not exist), migrated by the build under test and filled as `spec` says. */
export async function buildSqliteDatabase(
  file: string,
  spec: DatabaseSpec,
  options: BuildOptions,
): Promise<BuiltDatabase> {
  const url = `sqlite:${file}`;
  const began = performance.now();
  const tokens = await migrateAndMakeTokens(url, options);
  const db = new Database(file);
  let rowsSeconds: number;
  let totalsSeconds = 0;
  let userTotals: boolean;
  try {
    // The file is scratch until the build ends: no journal, no fsync; WAL again (Locus's mode) at the end.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insertMinute = db.prepare(`
      INSERT INTO minutes (user_id, minute_ms, samples, lat_sum, long_sum, long_min, long_max, long_east_sum,
        long_east_min, long_east_max, accuracy_sum, accuracy_count, speed_sum, speed_count)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertKey = db.prepare('INSERT INTO dedupe_keys (ts_ms, user_id) VALUES (?, ?)');
    const started = performance.now();
    writeSqliteRows(db, planUsers(spec), insertMinute, insertKey, options.log);
    rowsSeconds = seconds(started);
    userTotals =
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'user_totals'").get() !==
      undefined;
    if (userTotals) {
      const totalsStarted = performance.now();
      const columns = db
        .prepare<[], { name: string; notnull: number; dflt_value: unknown; pk: number }>(
          'PRAGMA table_info(user_totals)',
        )
        .all()
        .map((c) => ({ name: c.name, required: c.notnull === 1 && c.dflt_value === null }));
      db.transaction(() => {
        db.exec('DELETE FROM user_totals');
        db.exec(totalsSql(columns));
      })();
      totalsSeconds = seconds(totalsStarted);
    }
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
  return {
    url,
    spec,
    tokens,
    seconds: { rows: rowsSeconds, totals: totalsSeconds, all: seconds(began) },
    bytes: (await stat(file)).size,
    userTotals,
    drop: async () => {
      for (const suffix of ['', '-wal', '-shm']) await rm(`${file}${suffix}`, { force: true });
    },
  };
}

/**
 * Every minute and dedupe key, in time order: for each minute of big's span, the minute rows of the users active
 * then (in id order), then their keys by (ts_ms, user_id), the order of dedupe_keys' primary key.
 */
function writeSqliteRows(
  db: Database.Database,
  users: PlannedUser[],
  insertMinute: Database.Statement,
  insertKey: Database.Statement,
  log?: (line: string) => void,
): void {
  const byStart = [...users].sort((a, b) => a.offset - b.offset);
  const end = Math.max(...users.map((u) => u.offset + u.minutes));
  const total = users.reduce((sum, u) => sum + u.minutes, 0);
  const row: Array<string | number> = new Array<string | number>(14);
  let active: PlannedUser[] = [];
  let next = 0;
  let written = 0;
  let loggedAt = 0;
  const MINUTES_PER_TRANSACTION = 2_000;
  const span = db.transaction((from: number, to: number) => {
    for (let m = from; m < to; m++) {
      let changed = false;
      while (next < byStart.length && byStart[next]!.offset === m) {
        active.push(byStart[next++]!);
        changed = true;
      }
      if (changed) active.sort((a, b) => (a.userId < b.userId ? -1 : 1));
      const minuteMs = T0_MS + m * MINUTE_MS;
      for (const u of active) {
        minuteRow(u, m - u.offset, row);
        insertMinute.run(row);
      }
      written += active.length;
      for (let i = 0; i < SAMPLE_SECONDS.length; i++) {
        const tsMs = minuteMs + SAMPLE_SECONDS[i]! * 1000;
        for (const u of active) if (samplesOf(u.k, m - u.offset) > i) insertKey.run(tsMs, u.userId);
      }
      if (active.some((u) => u.offset + u.minutes === m + 1))
        active = active.filter((u) => u.offset + u.minutes > m + 1);
    }
  });
  for (let m = 0; m < end; m += MINUTES_PER_TRANSACTION) {
    span(m, Math.min(end, m + MINUTES_PER_TRANSACTION));
    if (log && written - loggedAt >= 1_000_000) {
      loggedAt = written;
      log(`  ${written.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} minutes`);
    }
  }
}

/** The minutes of MINUTES_SQL, by the same formulas as minuteRow. */
const MINUTES_SQL = `
  INSERT INTO minutes (user_id, minute_ms, samples, lat_sum, long_sum, long_min, long_max, long_east_sum,
    long_east_min, long_east_max, accuracy_sum, accuracy_count, speed_sum, speed_count)
  SELECT user_id, minute_ms, s, s * lat, s * lng, lng, lng, s * east, east, east, s * acc, s,
    CASE WHEN no_speed THEN 0 ELSE s * spd END, CASE WHEN no_speed THEN 0 ELSE s END
  FROM (
    SELECT p.user_id, ${T0_MS}::bigint + (p.offset_minutes + g) * 60000::bigint AS minute_ms,
      1 + (g * 7 + p.k) % 3 AS s,
      round((p.lat0 + 0.12 * sin(g / 9000.0) + 0.02 * sin(g / 700.0)) * 1e8)::bigint AS lat,
      round((p.long0 + 0.2 * cos(g / 9000.0) + 0.03 * cos(g / 500.0)) * 1e8)::bigint AS lng,
      (5 + g % 20) * 1000::bigint AS acc,
      g % 1440 < 60 AS no_speed,
      round(greatest(0, 12 * sin(g / 240.0) + 3 * sin(g / 17.0)) * 1000)::bigint AS spd
    FROM bench_plan p, generate_series(0, p.minutes - 1) g
  ) r, LATERAL (SELECT CASE WHEN lng < 0 THEN lng + ${EAST_SHIFT}::bigint ELSE lng END AS east) e
  ORDER BY minute_ms, user_id`;

const KEYS_SQL = `
  INSERT INTO dedupe_keys (user_id, ts_ms)
  SELECT user_id, minute_ms + (${SAMPLE_SECONDS[0]} + ${SAMPLE_STEP_S} * i) * 1000
  FROM minutes, generate_series(0, samples - 1) i`;

const POSTGRES_DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The PostgreSQL server to make the bench databases on: BENCH_POSTGRES_URL, TEST_DATABASE_URL, or the local one. */
export function postgresServerUrl(): string {
  return process.env.BENCH_POSTGRES_URL || process.env.TEST_DATABASE_URL || POSTGRES_DEFAULT_SERVER;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {
    // Reported by the query that fails; this only keeps a dropped connection from ending the process.
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Why PostgreSQL cannot be used at `serverUrl`, or null when it can. */
export async function postgresProblem(serverUrl: string): Promise<string | null> {
  try {
    await withClient(serverUrl, (client) => client.query('SELECT 1'));
    return null;
  } catch (error) {
    return `no PostgreSQL at ${serverUrl} (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Drops database `name` (made of [a-z0-9_]) if it exists, closing the connections still open to it. */
export async function dropPostgresDatabase(serverUrl: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name ${name}: [a-z0-9_] only`);
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/**
 * A new database `name` (made of [a-z0-9_]) on the server at `serverUrl`, migrated by the build under test and
 * filled as `spec` says; `drop()` removes it.
 */
export async function buildPostgresDatabase(
  serverUrl: string,
  name: string,
  spec: DatabaseSpec,
  options: BuildOptions,
): Promise<BuiltDatabase> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name ${name}: [a-z0-9_] only`);
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const began = performance.now();
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const drop = () => dropPostgresDatabase(serverUrl, name);
  try {
    const tokens = await migrateAndMakeTokens(url, options);
    const users = planUsers(spec);
    let rowsSeconds = 0;
    let totalsSeconds = 0;
    const userTotals = await withClient(url, async (client) => {
      await client.query("SET work_mem = '256MB'");
      await client.query("SET maintenance_work_mem = '1GB'");
      await client.query('SET synchronous_commit = off');
      await client.query(`
        CREATE TEMP TABLE bench_plan (k int, user_id text COLLATE "C", offset_minutes bigint, minutes int,
          lat0 float8, long0 float8)`);
      await client.query(
        'INSERT INTO bench_plan SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::int[], $5::float8[], $6::float8[])',
        [
          users.map((u) => u.k),
          users.map((u) => u.userId),
          users.map((u) => u.offset),
          users.map((u) => u.minutes),
          users.map((u) => u.lat0),
          users.map((u) => u.long0),
        ],
      );
      const started = performance.now();
      await client.query('BEGIN');
      await client.query(MINUTES_SQL);
      options.log?.(`  minutes written (${seconds(started).toFixed(0)} s)`);
      await client.query(KEYS_SQL);
      await client.query('COMMIT');
      rowsSeconds = seconds(started);
      const { rows: columns } = await client.query<{ name: string; required: boolean }>(`
        SELECT column_name AS name, is_nullable = 'NO' AND column_default IS NULL AS required
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'user_totals' ORDER BY ordinal_position`);
      if (columns.length > 0) {
        const totalsStarted = performance.now();
        await client.query('BEGIN');
        await client.query('DELETE FROM user_totals');
        await client.query(totalsSql(columns));
        await client.query('COMMIT');
        totalsSeconds = seconds(totalsStarted);
      }
      // As a database that has lived a while: hint bits set, visibility map and statistics there.
      await client.query('VACUUM (ANALYZE)');
      return columns.length > 0;
    });
    const bytes = await withClient(url, async (client) => {
      const { rows } = await client.query<{ size: string }>(
        'SELECT pg_database_size(current_database()) AS size',
      );
      return Number(rows[0]?.size ?? 0);
    });
    return {
      url,
      spec,
      tokens,
      seconds: { rows: rowsSeconds, totals: totalsSeconds, all: seconds(began) },
      bytes,
      userTotals,
      drop,
    };
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
}
