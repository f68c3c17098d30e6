import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RETRY_AFTER_SECONDS } from '../../src/http/problem.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { build, failingStore } from '../support/app.js';
import { assertProblem } from '../support/problem.js';

const JSON_TYPE = 'application/json; charset=utf-8';

function unavailableStore() {
  return failingStore(openSqliteStore({ path: ':memory:' }), () => new StoreUnavailableError('gone'));
}

describe('GET /healthz', () => {
  it('answers ok while the process is up', async (t) => {
    const { app } = await build(t);
    const response = await app.inject('/healthz');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], JSON_TYPE);
    assert.deepEqual(response.json(), { status: 'ok' });
    assert.equal(response.headers['retry-after'], undefined);
  });

  it('answers ok even when the store does not: liveness is not readiness', async (t) => {
    const { app } = await build(t, { store: unavailableStore() });
    const response = await app.inject('/healthz');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('answers ready when the store answers and nothing else holds it back', async (t) => {
    const { app } = await build(t);
    const response = await app.inject('/readyz');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], JSON_TYPE);
    assert.deepEqual(response.json(), { status: 'ready' });
    assert.equal(response.headers['retry-after'], undefined);
  });

  it('answers 503 store-unavailable with Retry-After when the store does not answer', async (t) => {
    const { app } = await build(t, { store: unavailableStore() });
    const response = await app.inject('/readyz');
    assertProblem(response, 503, 'store-unavailable');
    assert.equal(response.headers['retry-after'], String(RETRY_AFTER_SECONDS));
  });

  it('answers 503 not-ready with the reason and Retry-After, and ready once the reason is gone', async (t) => {
    let reason: string | null = 'The MQTT broker is not connected.';
    const { app } = await build(t, { notReadyReason: () => reason });
    const response = await app.inject('/readyz');
    const body = assertProblem(response, 503, 'not-ready');
    assert.equal(body.detail, 'The MQTT broker is not connected.');
    assert.equal(body.title, 'Locus is not ready');
    assert.equal(response.headers['retry-after'], String(RETRY_AFTER_SECONDS));

    reason = null;
    assert.deepEqual((await app.inject('/readyz')).json(), { status: 'ready' });
  });

  it('asks the store before the other reasons: a store that is down is the answer', async (t) => {
    const { app } = await build(t, { store: unavailableStore(), notReadyReason: () => 'no broker' });
    assertProblem(await app.inject('/readyz'), 503, 'store-unavailable');
  });
});

describe('documentation and unknown routes', () => {
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
      '/users/{user_id}/track',
    ]);
    const put = doc.paths['/location']?.put;
    assert.ok(put?.requestBody, 'PUT /location documents its body');
    assert.deepEqual(Object.keys(put.responses).sort(), ['200', '400', '413', '415', '500', '503']);
    assert.deepEqual(Object.keys(doc.paths['/readyz']?.get?.responses ?? {}).sort(), ['200', '503']);
  });

  it('an unknown route is a 404 problem naming the request', async (t) => {
    const { app } = await build(t);
    const body = assertProblem(await app.inject('/nope'), 404, 'not-found');
    assert.equal(body.detail, 'GET /nope is not a Locus endpoint.');
  });
});
