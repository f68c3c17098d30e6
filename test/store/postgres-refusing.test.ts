/*
 * PostgreSQL refusing connections (#14, item 5): a database whose connections an operator disallowed (SQLSTATE
 * 55000), one that does not exist (3D000), a role that does not exist (28000). Each was a 500 with an error-level
 * stack; each is now StoreUnavailableError, so 503 store-unavailable with Retry-After and a failing /readyz, and
 * the store recovers by itself once the server lets it in.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { VALID_POINT } from '../support/points.js';
import { createTestDatabase, findTestServer, onDatabase, type TestDatabase } from './postgres-database.js';

const server = await findTestServer();

function unavailable(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`\\(${code}\\)`));
    return true;
  };
}

function withPath(url: string, name: string, user?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  if (user !== undefined) parsed.username = user;
  return parsed.toString();
}

const NOON = Date.UTC(2024, 2, 10, 12);
const point = (second: number) => ({
  userId: 'ana',
  tsMs: NOON + second * 1000,
  lat: 52.52,
  long: 13.405,
  accuracy: null,
  speed: null,
});

describe('PostgreSQL refusing connections', { skip: server.skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase(server.url);
  });
  after(async () => {
    // Let the drop's own connection in whatever a failed test left behind.
    await onDatabase(server.url, (c) => c.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`));
    await db?.drop();
  });

  it('ALLOW_CONNECTIONS false (55000): 503 with Retry-After, /readyz 503, warnings only; recovers by itself', async (t) => {
    const store: PostgresStore = await openPostgresStore({ url: db.url, connectionTimeoutMs: 2000 });
    const errors: number[] = [];
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) {
          if (line) errors.push((JSON.parse(line) as { level: number }).level);
        }
        done();
      },
    });
    const app = await buildApp({ store, logger: { level: 'info', stream: logs } });
    t.after(async () => {
      await app.close();
      await store.close();
    });
    const put = (second: number) =>
      app.inject({
        method: 'PUT',
        url: '/location',
        payload: { ...VALID_POINT, timestamp: `2017-01-01 13:05:${String(second).padStart(2, '0')}` },
      });
    assert.equal((await put(1)).statusCode, 200);

    await onDatabase(server.url, async (client) => {
      await client.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
        db.name,
      ]);
    });
    await assert.rejects(store.ingest([point(9)]), unavailable('(55000|57P01|08\\w{3})'));
    // Once the terminated connections are gone, every new one is refused with 55000.
    await assert.rejects(store.health(), unavailable('55000'));
    for (const response of [await put(2), await app.inject('/readyz'), await app.inject('/users')]) {
      assert.equal(response.statusCode, 503, response.body);
      assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After');
      assert.equal(response.json<{ type: string }>().type, '/problems/store-unavailable');
    }
    assert.deepEqual(
      errors.filter((level) => level >= 50),
      [],
      'no error-level lines: the refusal is not a bug',
    );

    await onDatabase(server.url, (c) => c.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`));
    assert.equal((await put(2)).statusCode, 200);
    await store.health();
  });

  it('a database that does not exist (3D000) is StoreUnavailableError at open and on every call', async () => {
    const url = withPath(server.url, `locus_missing_${process.pid}`);
    await assert.rejects(openPostgresStore({ url }), unavailable('3D000'));
  });

  it('a role that does not exist (28000) is StoreUnavailableError at open', async () => {
    const url = withPath(server.url, db.name, `locus_nobody_${process.pid}`);
    await assert.rejects(openPostgresStore({ url }), unavailable('28000'));
  });
});
