import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { build, failingStore } from './helper.js';

describe('health and documentation', () => {
  it('GET /healthz answers while the process is up', async (t) => {
    const { app } = await build(t);
    assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
  });

  it('GET /readyz answers 200 when the store answers', async (t) => {
    const { app } = await build(t);
    const response = await app.inject('/readyz');
    assert.equal(response.statusCode, 200);
  });

  it('GET /readyz answers 503 with Retry-After when the store does not', async (t) => {
    const store = failingStore(
      openSqliteStore({ path: ':memory:' }),
      () => new StoreUnavailableError('gone'),
    );
    const { app } = await build(t, { store });
    const response = await app.inject('/readyz');
    assert.equal(response.statusCode, 503);
    assert.ok(response.headers['retry-after']);
  });

  it('GET /openapi.json describes every route from its schemas', async (t) => {
    const { app } = await build(t);
    const doc = (await app.inject('/openapi.json')).json<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    }>();
    assert.match(doc.openapi, /^3\./);
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/events',
      '/healthz',
      '/location',
      '/locations',
      '/osmand',
      '/overland',
      '/owntracks',
      '/pub',
      '/readyz',
      '/users',
      '/users/{user_id}/locations',
      '/users/{user_id}/locations.{format}',
    ]);
    const put = doc.paths['/location']?.put;
    assert.ok(put?.requestBody, 'PUT /location documents its body');
    assert.deepEqual(Object.keys(put.responses).sort(), ['200', '400', '413', '415', '500', '503']);
  });

  it('an unknown route is a 404 problem', async (t) => {
    const { app } = await build(t);
    const response = await app.inject('/nope');
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /problem\+json/);
  });
});
