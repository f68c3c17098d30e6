import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Point, RawFix } from '../ingest/point.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import {
  apiDestination,
  retryDelayMs,
  DestinationError,
  storeDestination,
  type ImportBatch,
} from './destinations.js';

const FIX: RawFix = {
  user_id: 'a1',
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: null,
  speed: 1.4,
};
const POINT: Point = {
  userId: 'a1',
  tsMs: 1483293912000,
  lat: 40.701,
  long: -73.916,
  accuracy: null,
  speed: 1.4,
};
const BATCH: ImportBatch = { points: [POINT, { ...POINT, tsMs: POINT.tsMs + 1 }], fixes: [FIX, FIX] };

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch that records each request and answers with the next of `answers`. */
function fakeFetch(answers: Array<() => Response>) {
  const calls: Call[] = [];
  const send = (url: string, init: { headers: Record<string, string>; body: string }) => {
    calls.push({ url, headers: init.headers, body: init.body });
    const answer = answers.shift();
    return answer ? Promise.resolve(answer()) : Promise.reject(new Error('no more answers'));
  };
  return { calls, fetch: send as unknown as typeof fetch };
}

const ok = (body: unknown) => () => Response.json(body);
const problem =
  (status: number, headers: Record<string, string> = {}) =>
  () =>
    Response.json({ type: '/problems/x', title: `Status ${status}`, status }, { status, headers });

describe('apiDestination', () => {
  it('posts the fixes as NDJSON to /locations with the token, and reads the answer', async () => {
    const answer = { stored: 1, duplicates: 0, rejected: 1, errors: [{ index: 0, errors: [] }] };
    const { calls, fetch } = fakeFetch([ok(answer)]);
    const destination = apiDestination({ url: 'http://locus.test:5000/', token: 'T', fetch });
    const result = await destination.write(BATCH);
    assert.deepEqual(result, { stored: 1, duplicates: 0, rejected: [{ index: 0, errors: [] }] });
    assert.equal(calls[0]?.url, 'http://locus.test:5000/locations');
    assert.equal(calls[0]?.headers['content-type'], 'application/x-ndjson');
    assert.equal(calls[0]?.headers.authorization, 'Bearer T');
    assert.deepEqual(
      calls[0]?.body.split('\n').map((line) => JSON.parse(line) as unknown),
      [FIX, FIX],
    );
    assert.equal(destination.needsFixes, true);
    assert.equal(destination.maxBatchSize, 10_000);
  });

  it('sends no Authorization header without a token', async () => {
    const { calls, fetch } = fakeFetch([ok({ stored: 2, duplicates: 0, rejected: 0, errors: [] })]);
    await apiDestination({ url: 'http://locus.test', fetch }).write(BATCH);
    assert.equal('authorization' in (calls[0]?.headers ?? {}), false);
  });

  it('resends the batch after a 503 or a 429, waiting as Retry-After says', async () => {
    const { calls, fetch } = fakeFetch([
      problem(503, { 'retry-after': '0' }),
      problem(429, { 'retry-after': '0' }),
      ok({ stored: 2, duplicates: 0, rejected: 0, errors: [] }),
    ]);
    const result = await apiDestination({ url: 'http://locus.test', fetch }).write(BATCH);
    assert.equal(result.stored, 2);
    assert.equal(calls.length, 3);
    assert.equal(calls[2]?.body, calls[0]?.body);
  });

  it('gives up after the last attempt answered 503', async () => {
    const { calls, fetch } = fakeFetch([
      problem(503, { 'retry-after': '0' }),
      problem(503, { 'retry-after': '0' }),
    ]);
    await assert.rejects(
      apiDestination({ url: 'http://locus.test', fetch, attempts: 2 }).write(BATCH),
      (error: unknown) =>
        error instanceof DestinationError &&
        error.message === 'http://locus.test/locations answered 503: Status 503',
    );
    assert.equal(calls.length, 2);
  });

  for (const status of [400, 401, 413, 500]) {
    it(`stops at once on a ${status}, naming it`, async () => {
      const { calls, fetch } = fakeFetch([problem(status), ok({})]);
      await assert.rejects(
        apiDestination({ url: 'http://locus.test', fetch }).write(BATCH),
        (error: unknown) => {
          assert.ok(error instanceof DestinationError);
          assert.equal(error.message, `http://locus.test/locations answered ${status}: Status ${status}`);
          return true;
        },
      );
      assert.equal(calls.length, 1);
    });
  }

  it('stops with a DestinationError on a 200 that is not a batch answer (a proxy page, a wrong URL)', async () => {
    for (const answer of [
      () => new Response('<html>login</html>', { status: 200 }),
      ok({ hello: 'world' }),
    ]) {
      const { fetch } = fakeFetch([answer]);
      await assert.rejects(
        apiDestination({ url: 'http://locus.test', fetch }).write(BATCH),
        (error: unknown) =>
          error instanceof DestinationError && /not a Locus batch answer/.test(error.message),
      );
    }
  });

  it('says which server it cannot reach', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: new Error('connect ECONNREFUSED'),
    });
    const fetch = (() => Promise.reject(refused)) as typeof globalThis.fetch;
    await assert.rejects(
      apiDestination({ url: 'http://locus.test', fetch }).write(BATCH),
      new DestinationError('cannot reach http://locus.test/locations: connect ECONNREFUSED'),
    );
  });
});

describe('retryDelayMs', () => {
  it('reads seconds or an HTTP date, bounded; one second when absent or unreadable', () => {
    assert.equal(retryDelayMs('2', 30_000), 2000);
    assert.equal(retryDelayMs('120', 30_000), 30_000);
    assert.equal(retryDelayMs(null, 30_000), 1000);
    assert.equal(retryDelayMs('soon', 30_000), 1000);
    assert.equal(retryDelayMs(new Date(Date.now() - 5000).toUTCString(), 30_000), 0);
    const later = retryDelayMs(new Date(Date.now() + 10_000).toUTCString(), 30_000);
    assert.ok(later > 8000 && later <= 10_000, String(later));
  });
});

describe('storeDestination', () => {
  it('counts what the store stored and what it had already', async (t) => {
    const store = openSqliteStore({ path: ':memory:' });
    t.after(() => store.close());
    const destination = storeDestination(store, 'memory');
    const duplicated = { points: [POINT, POINT, { ...POINT, tsMs: POINT.tsMs + 1 }], fixes: [] };
    assert.deepEqual(await destination.write(duplicated), { stored: 2, duplicates: 1, rejected: [] });
    assert.deepEqual(await destination.write(duplicated), { stored: 0, duplicates: 3, rejected: [] });
  });

  it('turns a store failure into a DestinationError that says the database failed', async (t) => {
    const store = openSqliteStore({ path: ':memory:' });
    t.after(() => store.close());
    await store.close();
    await assert.rejects(storeDestination(store, 'memory').write(BATCH), (error: unknown) => {
      assert.ok(error instanceof DestinationError);
      assert.match(error.message, /^the database failed: /);
      return true;
    });
  });
});
