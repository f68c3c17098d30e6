import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, afterEach, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { buildApp } from '../../src/http/app.js';
import { aggregate, MINUTE_MS, type MinuteAggregate } from '../../src/store/minutes.js';
import type { IngestOutcome, Point } from '../../src/ingest/point.js';
import {
  mapPostgresError,
  openPostgresStore,
  readSlotsOf,
  POSTGRES_SCHEMA_VERSION,
  PostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type Store, type UserSummary } from '../../src/store/store.js';
import { MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js';
import { storeContract } from './contract/index.js';
import { assertTotals, DedupeModel, summariesOf } from './contract/expected-users.js';
import { createTestDatabase, findTestServer, onDatabase, type TestDatabase } from './postgres-database.js';
import { startTcpProxy, type TcpProxy } from './postgres-proxy.js';
import { allUsers } from '../support/users.js';

const NOON = Date.UTC(2024, 2, 10, 12);

function point(userId: string, tsMs: number, values: Partial<Point> = {}): Point {
  return { userId, tsMs, lat: 52.52, long: 13.405, accuracy: 4.5, speed: 1.25, ...values };
}

function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
  return true;
}

function isUnmapped(error: unknown): boolean {
  assert.ok(!(error instanceof StoreUnavailableError), `expected an unmapped error, got ${String(error)}`);
  return true;
}

/** Every call a Store offers, each as a fresh promise, for checking how all of them fail. */
function everyCall(store: Store): [string, () => Promise<unknown>][] {
  return [
    ['ingest', () => store.ingest([point('ana', NOON)])],
    ['users', () => allUsers(store)],
    ['user', () => store.user('ana')],
    ['changedUsers', () => store.changedUsers(null)],
    ['track', () => store.track('ana', {}, { bucketMs: MINUTE_MS, originMs: NOON })],
    ['minutes', () => store.minutes('ana', {}, { limit: 1 })],
    ['pruneDedupeKeys', () => store.pruneDedupeKeys(NOON)],
    ['health', () => store.health()],
  ];
}

/** A database as Locus left it at schema version 2, before the user totals, holding these distinct points. */
async function databaseAtVersion2(url: string, points: readonly Point[]): Promise<void> {
  await onDatabase(url, async (client) => {
    await client.query(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const [index, sql] of MIGRATIONS.slice(0, 2).entries()) {
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [index + 1]);
    }
    for (const p of points) await client.query('INSERT INTO dedupe_keys VALUES ($1, $2)', [p.userId, p.tsMs]);
    for (const { userId, minuteMs, sums } of aggregate(points)) {
      await client.query(
        'INSERT INTO minutes VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)',
        [
          userId,
          minuteMs,
          sums.samples,
          sums.latSum,
          sums.longSum,
          sums.longMin,
          sums.longMax,
          sums.longEastSum,
          sums.longEastMin,
          sums.longEastMax,
          sums.accuracySum,
          sums.accuracyCount,
          sums.speedSum,
          sums.speedCount,
        ],
      );
    }
  });
}

async function allRows(store: Store): Promise<MinuteAggregate[]> {
  const rows: MinuteAggregate[] = [];
  for (const { userId } of await allUsers(store)) {
    const page = await store.minutes(userId, {}, { limit: 10_000 });
    rows.push(...(page?.rows ?? []));
  }
  return rows;
}

function byKey(rows: readonly MinuteAggregate[]): MinuteAggregate[] {
  return [...rows].sort((a, b) =>
    a.userId === b.userId ? a.minuteMs - b.minuteMs : a.userId < b.userId ? -1 : 1,
  );
}

/** A TCP server that accepts connections and never says a word, like a server that hangs or a black hole. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits until some other session on the blocker's database is waiting for a lock, as an ingest held up is. */
async function waitForLockWait(blocker: pg.Client): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const { rows } = await blocker.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows.length > 0) return;
    await delay(20);
  }
  assert.fail('the ingest never waited for the lock');
}

const CLOSED_PORT_URL = 'postgres://postgres@127.0.0.1:1/locus';

describe('PostgresStore without a database', () => {
  it('rejects every call with StoreUnavailableError, quickly, when nothing listens on the port', async () => {
    const store = new PostgresStore({ url: CLOSED_PORT_URL });
    try {
      for (const [name, call] of everyCall(store)) {
        const started = Date.now();
        await assert.rejects(call(), isUnavailable, name);
        assert.ok(Date.now() - started < 2000, `${name} took ${Date.now() - started} ms`);
      }
    } finally {
      await store.close();
    }
  });

  it('openPostgresStore rejects with StoreUnavailableError when it cannot connect to migrate', async () => {
    await assert.rejects(openPostgresStore({ url: CLOSED_PORT_URL }), isUnavailable);
  });

  it('gives up after connectionTimeoutMs on a server that accepts but never answers, instead of hanging', async () => {
    const silent = await silentServer();
    const store = new PostgresStore({
      url: `postgres://postgres@127.0.0.1:${silent.port}/locus`,
      connectionTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      await assert.rejects(store.health(), isUnavailable);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    } finally {
      await store.close();
      await silent.close();
    }
  });

  it('answers /readyz and PUT /location with 503 and Retry-After, and GET /users with 503', async () => {
    const store = new PostgresStore({ url: CLOSED_PORT_URL });
    const app = await buildApp({ store });
    try {
      const ready = await app.inject('/readyz');
      assert.equal(ready.statusCode, 503);
      assert.ok(ready.headers['retry-after']);
      const put = await app.inject({
        method: 'PUT',
        url: '/location',
        headers: { 'content-type': 'application/json' },
        payload: { timestamp: '2017-01-01T13:05:12Z', lat: 1, long: 2, accuracy: 3, speed: 4, user_id: 'a1' },
      });
      assert.equal(put.statusCode, 503, put.body);
      assert.ok(put.headers['retry-after']);
      assert.equal(put.json<{ type: string }>().type, '/problems/store-unavailable');
      assert.equal((await app.inject('/users')).statusCode, 503);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('close() is idempotent, even on a store that never connected', async () => {
    const store = new PostgresStore({ url: CLOSED_PORT_URL });
    await store.close();
    await assert.doesNotReject(store.close(), 'a second close() resolves');
    // The pool has ended: the store refuses use rather than trying to connect again.
    await assert.rejects(
      store.health(),
      (error: unknown) =>
        isUnmapped(error) && error instanceof Error && /after calling end/.test(error.message),
    );
  });

  it('rejects every call after close() with an unmapped error (a bug, not an outage)', async () => {
    const store = new PostgresStore({ url: CLOSED_PORT_URL });
    await store.close();
    for (const [name, call] of everyCall(store)) await assert.rejects(call(), isUnmapped, name);
  });
});

describe('mapPostgresError', () => {
  function databaseError(code: string): pg.DatabaseError {
    const error = new pg.DatabaseError('boom', 0, 'error');
    error.code = code;
    return error;
  }

  function systemError(code: string): Error {
    return Object.assign(new Error(`connect ${code}`), { code });
  }

  it('maps lost or refused connections, server shutdown and exhausted resources to StoreUnavailableError', () => {
    const unavailable: Error[] = [
      ...[
        '57P01',
        '57P02',
        '57P03',
        '08000',
        '08006',
        '08001',
        '53100',
        '53200',
        '53300',
        '40P01',
        '40001',
        // The server refusing the connection (#14): no database, no role, wrong password, connections disallowed.
        '3D000',
        '28000',
        '28P01',
        '55000',
        '57P04',
      ].map(databaseError),
      ...['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].map(systemError),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('timeout') }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], ''),
    ];
    for (const error of unavailable) {
      const mapped = mapPostgresError(error);
      assert.ok(
        mapped instanceof StoreUnavailableError,
        `${error.message} ${String((error as pg.DatabaseError).code)}`,
      );
      assert.equal(mapped.cause, error);
    }
  });

  it('passes SQL errors, constraint violations and everything else through unchanged', () => {
    const others: Error[] = [
      ...['23505', '42P01', '42601', '22003', '55006', 'XX000'].map(databaseError),
      new TypeError('not a database error'),
      new Error('Cannot use a pool after calling end on the pool'),
      new RangeError('PostgreSQL bigint 9007199254740993 is beyond the exact integers of JavaScript'),
    ];
    for (const error of others) assert.equal(mapPostgresError(error), error, error.message);
  });
});

const server = await findTestServer();

describe('PostgresStore', { skip: server.skip }, () => {
  let db: TestDatabase;
  const stores: Store[] = [];

  /** A store on the run's database, closed after the suite. */
  async function open(options: Partial<PostgresStoreOptions> = {}, url = db.url): Promise<PostgresStore> {
    const store = await openPostgresStore({ url, ...options });
    stores.push(store);
    return store;
  }

  function truncate(): Promise<unknown> {
    return onDatabase(db.url, (client) => client.query('TRUNCATE dedupe_keys, minutes, user_totals, tokens'));
  }

  before(async () => {
    db = await createTestDatabase(server.url);
    await (await openPostgresStore({ url: db.url })).close();
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.drop();
  });

  storeContract('PostgreSQL', async () => {
    await truncate();
    return {
      store: await openPostgresStore({ url: db.url }),
      reopen: () => openPostgresStore({ url: db.url }),
    };
  });

  describe('schema and migrations', () => {
    async function freshDatabase(t: TestContext): Promise<TestDatabase> {
      const fresh = await createTestDatabase(server.url);
      t.after(() => fresh.drop());
      return fresh;
    }

    it('creates tables whose primary keys lead with user_id, user_id in the "C" collation, no nullable column', async () => {
      const columns = await onDatabase(db.url, async (client) => {
        const keys = await client.query<{ table: string; columns: string[] }>(`
          SELECT c.relname AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indrelid
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
          WHERE i.indisprimary AND c.relname IN ('dedupe_keys', 'minutes', 'user_totals')
          GROUP BY c.relname ORDER BY c.relname`);
        const info = await client.query<{
          table_name: string;
          column_name: string;
          nullable: string;
          collation: string | null;
        }>(`
          SELECT table_name, column_name, is_nullable AS nullable, collation_name AS collation
          FROM information_schema.columns WHERE table_name IN ('dedupe_keys', 'minutes', 'user_totals')`);
        return { keys: keys.rows, info: info.rows };
      });
      assert.deepEqual(columns.keys, [
        { table: 'dedupe_keys', columns: ['user_id', 'ts_ms'] },
        { table: 'minutes', columns: ['user_id', 'minute_ms'] },
        { table: 'user_totals', columns: ['user_id'] },
      ]);
      assert.deepEqual(
        columns.info.filter((c) => c.nullable !== 'NO'),
        [],
      );
      assert.deepEqual(
        columns.info.filter((c) => c.column_name === 'user_id').map((c) => c.collation),
        ['C', 'C', 'C'],
      );
    });

    it('records each applied migration once, and reopening applies nothing again', async (t) => {
      const fresh = await freshDatabase(t);
      const first = new PostgresStore({ url: fresh.url });
      assert.deepEqual(await first.migrate(), { from: 0, to: POSTGRES_SCHEMA_VERSION });
      assert.deepEqual(await first.migrate(), { from: POSTGRES_SCHEMA_VERSION, to: POSTGRES_SCHEMA_VERSION });
      await first.close();
      const versions = await onDatabase(
        fresh.url,
        async (client) =>
          (await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'))
            .rows,
      );
      assert.deepEqual(
        versions.map((v) => v.version),
        Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    });

    it('is safe when several stores open a fresh database at the same moment', async (t) => {
      const fresh = await freshDatabase(t);
      const opened = await Promise.all(
        Array.from({ length: 6 }, () => openPostgresStore({ url: fresh.url })),
      );
      try {
        assert.deepEqual(
          await Promise.all(opened.map((s) => s.ingest([point('ana', NOON)]))).then((r) => r.flat().sort()),
          ['duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'stored'],
        );
        const count = await onDatabase(
          fresh.url,
          async (client) =>
            (await client.query<{ n: string }>('SELECT count(*)::text AS n FROM schema_migrations')).rows[0]
              ?.n,
        );
        assert.equal(count, String(POSTGRES_SCHEMA_VERSION));
      } finally {
        await Promise.all(opened.map((s) => s.close()));
      }
    });

    it('refuses a database whose schema version is newer than it knows, and leaves it alone', async (t) => {
      const fresh = await freshDatabase(t);
      const newer = POSTGRES_SCHEMA_VERSION + 1;
      await onDatabase(fresh.url, async (client) => {
        await client.query(
          'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [newer]);
      });
      await assert.rejects(
        openPostgresStore({ url: fresh.url }),
        (error: unknown) =>
          isUnmapped(error) &&
          error instanceof Error &&
          error.message.includes(`schema version ${newer} is newer`),
      );
      const tables = await onDatabase(
        fresh.url,
        async (client) =>
          (
            await client.query<{ name: string }>(
              "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
            )
          ).rows,
      );
      assert.deepEqual(tables, [{ name: 'schema_migrations' }]);
    });

    it('fills the user totals from the minutes when it migrates a database from schema version 2', async (t) => {
      const fresh = await freshDatabase(t);
      const old = [
        point('ana', NOON),
        point('ana', NOON + 1),
        point('ana', NOON + 3 * MINUTE_MS),
        point('ben', NOON - MINUTE_MS),
        point('chloé', -1),
        point('🚲', NOON + 59_999),
      ];
      await databaseAtVersion2(fresh.url, old);
      const store = new PostgresStore({ url: fresh.url });
      t.after(() => store.close());
      assert.deepEqual(await store.migrate(), { from: 2, to: POSTGRES_SCHEMA_VERSION });
      await assertTotals(store, old, 'after the migration');

      // Ingest goes on from the filled totals: resends are duplicates, a minute already there is not new.
      const model = new DedupeModel();
      model.ingest(old);
      const later = [
        ...old,
        point('ana', NOON + 2),
        point('ana', NOON + 10 * MINUTE_MS),
        point('dora', NOON),
      ];
      assert.deepEqual(await store.ingest(later), model.ingest(later));
      await assertTotals(store, model.stored, 'after ingesting on the migrated database');
    });
  });

  describe('integers', () => {
    it('reads bigint as numbers without changing how the driver parses bigint elsewhere in the process', async () => {
      await truncate();
      const store = await open();
      await store.ingest([point('ana', NOON)]);
      assert.equal(typeof (await allUsers(store))[0]?.samples, 'number');
      const globalInt8 = pg.types.getTypeParser(pg.types.builtins.INT8) as (text: string) => unknown;
      assert.equal(globalInt8('9007199254740993'), '9007199254740993');
    });

    it('fails a read rather than rounding a bigint beyond 2^53', async () => {
      await truncate();
      const store = await open();
      await store.ingest([point('ana', NOON)]);
      await onDatabase(db.url, (client) =>
        client.query("UPDATE minutes SET lat_sum = 9007199254740993 WHERE user_id = 'ana'"),
      );
      await assert.rejects(
        store.minutes('ana', {}, { limit: 1 }),
        (error: unknown) => isUnmapped(error) && error instanceof RangeError,
      );
      await truncate();
    });
  });

  describe('two stores on one database, concurrently', () => {
    /*
     * Each store is a separate pool, like two Locus processes. Every key is sent by both, with different values per
     * sender so the test can tell which copy was counted, in opposite orders (the order most likely to deadlock
     * without ordered locking), several batches in flight per store.
     */
    it('stores each key exactly once overall, deadlock-free, and the rows equal the sequential result', async () => {
      await truncate();
      const retries: unknown[] = [];
      const onRetry = (error: unknown) => retries.push(error);
      const [left, right] = [await open({ onRetry }), await open({ onRetry })];
      const users = ['ana', 'ben', 'chloé', 'Dmitri'];
      const keys = users.flatMap((userId) =>
        Array.from({ length: 300 }, (_, i) => ({ userId, tsMs: NOON + i * 997 })),
      );
      const copy = (sender: number) =>
        keys.map(({ userId, tsMs }) =>
          point(userId, tsMs, {
            lat: sender * 10 + (tsMs % 7),
            long: -170 + sender,
            accuracy: sender + 1,
            speed: sender,
          }),
        );
      const fromLeft = copy(1);
      const fromRight = copy(2).reverse();
      const chunks = (points: Point[], size: number) =>
        Array.from({ length: Math.ceil(points.length / size) }, (_, i) =>
          points.slice(i * size, (i + 1) * size),
        );
      const send = (store: Store, batches: Point[][]) =>
        Promise.all(batches.map((batch) => store.ingest(batch).then((outcomes) => ({ batch, outcomes }))));

      const results = (
        await Promise.all([send(left, chunks(fromLeft, 50)), send(right, chunks(fromRight, 70))])
      ).flat();

      const stored: Point[] = [];
      const storedPerKey = new Map<string, number>();
      for (const { batch, outcomes } of results) {
        batch.forEach((p, i) => {
          const key = `${p.userId}|${p.tsMs}`;
          const outcome: IngestOutcome | undefined = outcomes[i];
          if (outcome === 'stored') stored.push(p);
          storedPerKey.set(key, (storedPerKey.get(key) ?? 0) + (outcome === 'stored' ? 1 : 0));
        });
      }
      assert.equal(storedPerKey.size, keys.length);
      assert.deepEqual(
        [...storedPerKey].filter(([, n]) => n !== 1),
        [],
        'every key stored exactly once',
      );
      assert.deepEqual(retries, [], 'no deadlock or serialization failure to retry');

      const actual = byKey(await allRows(left));
      assert.deepEqual(actual, byKey(aggregate(stored)));
      const sequential = openSqliteStore({ path: ':memory:' });
      try {
        await sequential.ingest(stored);
        assert.deepEqual(actual, byKey(await allRows(sequential)));
      } finally {
        await sequential.close();
      }
      assert.equal(
        actual.reduce((n, row) => n + row.sums.samples, 0),
        keys.length,
        'every key counted once',
      );
    });
  });

  describe('user totals and the live feed on PostgreSQL', () => {
    /** The totals recomputed by scanning the minutes, as the store no longer does. */
    async function totalsFromMinutes(): Promise<UserSummary[]> {
      return onDatabase(db.url, async (client) => {
        const { rows } = await client.query<UserSummary>(`
          SELECT user_id AS "userId", count(*)::int AS minutes, sum(samples)::int AS samples,
            min(minute_ms)::float8 AS "firstMinuteMs", max(minute_ms)::float8 AS "lastMinuteMs"
          FROM minutes GROUP BY user_id ORDER BY user_id`);
        return rows;
      });
    }

    /*
     * Four stores, like four Locus processes, each sending every point of five users over a dozen minutes in its
     * own order and batch size, every batch in flight at once: totals rows and minute rows are created and added
     * to by many transactions at the same moment, the case the "is this minute new" test in SQL must get right.
     */
    it('keeps the totals equal to the minutes under concurrent writers, deadlock-free', async () => {
      await truncate();
      const retries: unknown[] = [];
      const stores = await Promise.all(
        [1, 2, 3, 4].map(() => open({ onRetry: (error: unknown) => retries.push(error) })),
      );
      const users = ['ana', 'ben', 'chloé', 'Dmitri', '🚲'];
      const keys = users.flatMap((userId) =>
        Array.from({ length: 240 }, (_, i) => point(userId, NOON + i * 3001)),
      );
      const send = async (store: Store, seed: number) => {
        const order = [...keys].sort((a, b) => ((a.tsMs * seed) % 977) - ((b.tsMs * seed) % 977));
        const size = 17 + seed * 11;
        const batches = Array.from({ length: Math.ceil(order.length / size) }, (_, i) =>
          order.slice(i * size, (i + 1) * size),
        );
        return (await Promise.all(batches.map((batch) => store.ingest(batch)))).flat();
      };
      const outcomes = (await Promise.all(stores.map((store, i) => send(store, i + 1)))).flat();

      assert.deepEqual(retries, [], 'no deadlock or serialization failure to retry');
      assert.equal(outcomes.filter((o) => o === 'stored').length, keys.length, 'every key stored once');
      const expected = summariesOf(keys);
      assert.deepEqual(await totalsFromMinutes(), expected);
      await assertTotals(stores[0] as Store, keys);
    });

    /*
     * A snapshot's xmax is one past the latest transaction to finish, not past the latest to start, so a marker
     * taken from it would pass over a transaction that began earlier and is still running. Here ana's ingest waits
     * with its xid taken while ben's, begun later, commits: only the oldest running xid (xmin) keeps ana's change.
     */
    it('reports a change whose transaction was still running when the marker was taken', async (t) => {
      await truncate();
      const store = await open();
      await store.ingest([point('ana', NOON)]);
      const { marker: before } = await store.changedUsers(null);
      // Holding ana's totals row makes the next ingest of ana wait with its transaction open, its xid taken.
      const blocker = new pg.Client({ connectionString: db.url });
      await blocker.connect();
      t.after(() => blocker.end());
      await blocker.query('BEGIN');
      await blocker.query("SELECT 1 FROM user_totals WHERE user_id = 'ana' FOR UPDATE");
      const held = store.ingest([point('ana', NOON + MINUTE_MS)]);
      await waitForLockWait(blocker);
      assert.deepEqual(await store.ingest([point('ben', NOON)]), ['stored']);

      const during = await store.changedUsers(before);
      assert.deepEqual(
        during.users.map((u) => u.userId),
        ['ben'],
        "ana's change is not committed yet",
      );
      await blocker.query('COMMIT');
      assert.deepEqual(await held, ['stored']);
      const afterwards = await store.changedUsers(during.marker);
      assert.equal(afterwards.users.find((u) => u.userId === 'ana')?.minutes, 2);
    });

    it('leaves connections for ingest while reads take every read slot', async (t) => {
      await truncate();
      // Three connections: one read slot, two left for ingest and health checks.
      const store = await open({ maxConnections: 3 });
      await store.ingest([point('ana', NOON)]);
      // A lock that reads of the minutes wait for: every read that gets a connection holds it.
      const blocker = new pg.Client({ connectionString: db.url });
      await blocker.connect();
      t.after(() => blocker.end());
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE minutes IN ACCESS EXCLUSIVE MODE');
      const reads = Array.from({ length: 4 }, () => store.minutes('ana', {}, { limit: 10 }));
      await waitForLockWait(blocker);
      // Four reads are waiting, yet a query outside the read slots still finds a connection.
      await store.health();
      assert.deepEqual(await store.tokens.list(), []);
      await blocker.query('COMMIT');
      for (const page of await Promise.all(reads)) assert.equal(page?.rows.length, 1);
    });

    it('gives reads all connections but two, and at least one', () => {
      assert.deepEqual([1, 2, 3, 10].map(readSlotsOf), [1, 1, 1, 8]);
    });

    it('refuses a change marker it did not make, before it reaches SQL', async () => {
      const store = await open();
      const foreign = [
        '',
        'abc',
        '-1',
        '1.5',
        '01',
        ' 1',
        '1e3',
        '0x10',
        '18446744073709551616',
        '1; SELECT 1',
      ];
      for (const marker of foreign) {
        await assert.rejects(
          store.changedUsers(marker),
          (error: unknown) => isUnmapped(error) && error instanceof RangeError,
          JSON.stringify(marker),
        );
      }
      // The largest xid8 is a well-formed marker from the far future: nothing has changed since.
      assert.deepEqual((await store.changedUsers('18446744073709551615')).users, []);
    });

    it('rounds track sums beyond 2^53 to the nearest double instead of failing', async () => {
      await truncate();
      const store = await open();
      await store.ingest([point('ana', NOON), point('ana', NOON + MINUTE_MS)]);
      const huge = Number.MAX_SAFE_INTEGER;
      await onDatabase(db.url, (client) =>
        client.query("UPDATE minutes SET lat_sum = $1, samples = $1 WHERE user_id = 'ana'", [huge]),
      );
      const [bucket] = (await store.track('ana', {}, { bucketMs: 2 * MINUTE_MS, originMs: NOON })) ?? [];
      const twice = Number((2n * BigInt(huge)).toString());
      assert.equal(bucket?.sums.latSum, twice);
      assert.equal(bucket?.sums.samples, twice);
      assert.equal(bucket?.minutes, 2);
    });
  });

  describe('the database going away and coming back', () => {
    let proxy: TcpProxy;
    let proxiedUrl: string;

    before(async () => {
      const target = new URL(db.url);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      target.hostname = '127.0.0.1';
      target.port = String(proxy.port);
      proxiedUrl = target.toString();
    });

    after(() => proxy.stop());
    // A test that fails while the database is "down" must not take the next one down with it.
    afterEach(() => proxy.start());

    it('rejects with StoreUnavailableError while it is gone, survives idle connections dying, recovers by itself', async () => {
      await truncate();
      const connectionErrors: Error[] = [];
      const store = await open({ onConnectionError: (error) => connectionErrors.push(error) }, proxiedUrl);
      assert.deepEqual(await store.ingest([point('ana', NOON)]), ['stored']);

      await proxy.stop();
      // The pool notices its idle connection die on its own; had nobody listened, the process would have ended.
      for (let waited = 0; connectionErrors.length === 0 && waited < 5000; waited += 50) await delay(50);
      assert.ok(connectionErrors.length > 0, 'the idle connection that died was reported, not thrown');
      for (const [name, call] of everyCall(store)) await assert.rejects(call(), isUnavailable, name);

      await proxy.start();
      await store.health();
      // The point offered during the outage was never committed, so it is new now, not a duplicate.
      assert.deepEqual(await store.ingest([point('ana', NOON + 1), point('ana', NOON)]), [
        'stored',
        'duplicate',
      ]);
      assert.equal((await allUsers(store))[0]?.samples, 2);
    });

    it('makes /readyz fail and PUT /location answer 503, then both recover without a restart', async (t) => {
      await truncate();
      const store = await open({}, proxiedUrl);
      const app = await buildApp({ store });
      t.after(() => app.close());
      const putPoint = (second: number) =>
        app.inject({
          method: 'PUT',
          url: '/location',
          headers: { 'content-type': 'application/json' },
          payload: {
            timestamp: `2017-01-01T13:05:${second}Z`,
            lat: 1,
            long: 2,
            accuracy: 3,
            speed: 4,
            user_id: 'a1',
          },
        });

      assert.equal((await app.inject('/readyz')).statusCode, 200);
      assert.equal((await putPoint(10)).statusCode, 200);

      await proxy.stop();
      const notReady = await app.inject('/readyz');
      assert.equal(notReady.statusCode, 503);
      assert.ok(notReady.headers['retry-after']);
      const refused = await putPoint(11);
      assert.equal(refused.statusCode, 503, refused.body);
      assert.ok(refused.headers['retry-after']);

      await proxy.start();
      assert.equal((await app.inject('/readyz')).statusCode, 200);
      const retried = await putPoint(11);
      assert.equal(retried.statusCode, 200);
      assert.equal(retried.json<{ status: string }>().status, 'stored');
    });
  });

  describe('.pruneDedupeKeys(beforeMs) on PostgreSQL', () => {
    it('forgets old keys across users in one statement and keeps the minutes', async () => {
      await truncate();
      const store = await open();
      const points = ['ana', 'ben'].flatMap((u) => [point(u, NOON - MINUTE_MS), point(u, NOON)]);
      await store.ingest(points);
      assert.equal(await store.pruneDedupeKeys(NOON), 2);
      assert.equal((await allRows(store)).length, 4);
    });
  });
});
