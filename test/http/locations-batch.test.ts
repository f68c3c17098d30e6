import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Point } from '../../src/ingest/point.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import type { LocusApp } from '../../src/http/types.js';
import { build, failingStore, minutesOf, wrapStore } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { allUsers } from '../support/users.js';

interface BatchAnswer {
  stored: number;
  duplicates: number;
  rejected: number;
  errors: Array<{ index: number; errors: Array<{ field: string; message: string }> }>;
}

function post(app: LocusApp, payload: string, contentType = 'application/json') {
  return app.inject({ method: 'POST', url: '/locations', headers: { 'content-type': contentType }, payload });
}

const ndjson = (items: unknown[]) => items.map((item) => JSON.stringify(item)).join('\n');

/** A store that records the size of every transaction, to see that a batch is one. */
function recordingStore(): { store: Store; transactions: number[] } {
  const base = openSqliteStore({ path: ':memory:' });
  const transactions: number[] = [];
  const store = wrapStore(base, {
    ingest: (points: readonly Point[]) => {
      transactions.push(points.length);
      return base.ingest(points);
    },
  });
  return { store, transactions };
}

/** `count` valid points a second apart, with a UTC offset so that no zone lookup slows the test down. */
function manyPoints(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    ...VALID_POINT,
    timestamp: new Date(Date.UTC(2017, 0, 1) + i * 1000).toISOString(),
  }));
}

describe('POST /locations', () => {
  it('stores the valid points of a JSON array and reports the others by index', async (t) => {
    const { app } = await build(t);
    const response = await post(
      app,
      JSON.stringify([VALID_POINT, { ...VALID_POINT, lat: '40.7' }, { ...VALID_POINT, user_id: 'b2' }, 42]),
    );
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      stored: 2,
      duplicates: 0,
      rejected: 2,
      errors: [
        { index: 1, errors: [{ field: 'lat', message: 'must be a number, not a string' }] },
        { index: 3, errors: [{ field: 'body', message: 'must be an object, not a number' }] },
      ],
    });
    assert.equal((await minutesOf(app, 'a1')).length, 1);
    assert.equal((await minutesOf(app, 'b2')).length, 1);
  });

  it('normalises each item’s user id to NFC, and says "did you mean" for a look-alike key', async (t) => {
    const { app } = await build(t);
    const { user_id, ...noUser } = VALID_POINT;
    const items = [
      { ...VALID_POINT, user_id: 'A\u0308lice' },
      { ...VALID_POINT, user_id: '\u00c4lice' },
      { ...noUser, userId: user_id },
      { ...VALID_POINT, user_id: 'evil\u202Egpj.exe' },
    ];
    for (const [payload, type] of [
      [JSON.stringify(items), 'application/json'],
      [ndjson(items), 'application/x-ndjson'],
    ] as const) {
      const response = await post(app, payload, type);
      assert.equal(response.statusCode, 200, response.body);
      const answer = response.json<BatchAnswer>();
      // The two forms are one user at one instant: one point, then its duplicates.
      assert.deepEqual([answer.stored, answer.duplicates], type === 'application/json' ? [1, 1] : [0, 2]);
      assert.deepEqual(answer.errors, [
        {
          index: 2,
          errors: [{ field: 'user_id', message: 'is required (got `userId`: did you mean `user_id`?)' }],
        },
        {
          index: 3,
          errors: [
            {
              field: 'user_id',
              message: 'must not contain invisible format or bidi control characters (found U+202E)',
            },
          ],
        },
      ]);
    }
    const minutes = await minutesOf(app, '\u00c4lice');
    assert.equal(minutes[0]?.samples, 1);
    assert.deepEqual(await minutesOf(app, 'A\u0308lice'), minutes);
  });

  it('takes null accuracy and speed, as imports and app formats do, but not missing ones', async (t) => {
    const { app } = await build(t);
    const items = [
      { ...VALID_POINT, accuracy: null, speed: 2 },
      { ...VALID_POINT, timestamp: '2017-01-01 13:05:40', accuracy: 4, speed: null },
      { ...VALID_POINT, timestamp: '2017-01-01 13:05:50', accuracy: undefined },
      { ...VALID_POINT, timestamp: '2017-01-01 13:05:55', speed: -1 },
    ];
    const response = await post(app, JSON.stringify(items));
    assert.deepEqual(response.json(), {
      stored: 2,
      duplicates: 0,
      rejected: 2,
      errors: [
        { index: 2, errors: [{ field: 'accuracy', message: 'is required' }] },
        { index: 3, errors: [{ field: 'speed', message: 'must be ≥ 0, got -1' }] },
      ],
    });
    const [minute] = await minutesOf(app, 'a1');
    // Each mean is over the points that carry the field.
    assert.equal(minute?.accuracy, 4);
    assert.equal(minute?.speed, 2);
    assert.equal(minute?.samples, 2);
  });

  it('keeps the first of two points with the same instant, in array order', async (t) => {
    const { app } = await build(t);
    const first = { ...VALID_POINT, accuracy: 5 };
    const sameInstant = { ...VALID_POINT, timestamp: '2017-01-01T18:05:12Z', accuracy: 500 };
    const answer = (await post(app, JSON.stringify([first, sameInstant]))).json<BatchAnswer>();
    assert.equal(answer.stored, 1);
    assert.equal(answer.duplicates, 1);
    assert.equal((await minutesOf(app, 'a1'))[0]?.accuracy, 5);
  });

  it('counts a resent batch as duplicates', async (t) => {
    const { app } = await build(t);
    const body = JSON.stringify([VALID_POINT, { ...VALID_POINT, timestamp: '2017-01-01 13:05:40' }]);
    await post(app, body);
    const again = (await post(app, body)).json<BatchAnswer>();
    assert.deepEqual([again.stored, again.duplicates], [0, 2]);
  });

  it('commits the whole batch in one transaction', async (t) => {
    const { store, transactions } = recordingStore();
    const { app } = await build(t, { store });
    const answer = (await post(app, JSON.stringify(manyPoints(500)))).json<BatchAnswer>();
    assert.equal(answer.stored, 500);
    assert.deepEqual(transactions, [500]);
  });

  it('reads NDJSON, a malformed line being one rejected item', async (t) => {
    const { app } = await build(t);
    const body = [
      JSON.stringify(VALID_POINT),
      '{"lat": 40.7,',
      '',
      JSON.stringify({ ...VALID_POINT, user_id: 'b2' }),
    ];
    const response = await post(app, `${body.join('\r\n')}\n`, 'application/x-ndjson; charset=utf-8');
    assert.equal(response.statusCode, 200);
    const answer = response.json<BatchAnswer>();
    assert.deepEqual([answer.stored, answer.duplicates, answer.rejected], [2, 0, 1]);
    assert.equal(answer.errors[0]?.index, 1);
    assert.match(answer.errors[0]?.errors[0]?.message ?? '', /^is not valid JSON/);
  });

  it('takes 10,000 NDJSON points in one transaction', async (t) => {
    const { store, transactions } = recordingStore();
    const { app } = await build(t, { store });
    const response = await post(app, ndjson(manyPoints(10_000)), 'application/x-ndjson');
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<BatchAnswer>().stored, 10_000);
    assert.deepEqual(transactions, [10_000]);
  });

  it('rejects an NDJSON line over 64 KiB as an item, and stores the rest', async (t) => {
    const { app } = await build(t);
    const long = { ...VALID_POINT, user_id: 'b2', padding: 'x'.repeat(70 * 1024) };
    const answer = (await post(app, ndjson([long, VALID_POINT]), 'application/x-ndjson')).json<BatchAnswer>();
    assert.deepEqual([answer.stored, answer.rejected], [1, 1]);
    assert.deepEqual(answer.errors[0], {
      index: 0,
      errors: [{ field: 'body', message: 'is longer than 65536 bytes' }],
    });
  });

  for (const [name, body, contentType] of [
    ['JSON', JSON.stringify(manyPoints(10_001)), 'application/json'],
    ['NDJSON', ndjson(manyPoints(10_001)), 'application/x-ndjson'],
  ] as const) {
    it(`answers 413 for more than 10,000 points (${name}) and stores nothing`, async (t) => {
      const { app, store } = await build(t);
      const response = await post(app, body, contentType);
      assert.equal(response.statusCode, 413);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.match(response.json<{ detail: string }>().detail, /at most 10000 points/);
      assert.deepEqual(await allUsers(store), []);
    });
  }

  for (const contentType of ['application/json', 'application/x-ndjson']) {
    it(`answers 413 for a body over 8 MiB (${contentType})`, async (t) => {
      const { app, store } = await build(t);
      const padding = 'x'.repeat(60 * 1024);
      const items = Array.from({ length: 140 }, () => ({ ...VALID_POINT, padding }));
      const body = contentType === 'application/json' ? JSON.stringify(items) : ndjson(items);
      const response = await post(app, body, contentType);
      assert.equal(response.statusCode, 413);
      assert.equal(response.json<{ type: string }>().type, '/problems/body-too-large');
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('counts the bytes of a streamed NDJSON body sent without a Content-Length', async (t) => {
    const { app, store } = await build(t);
    const line = `${JSON.stringify({ ...VALID_POINT, padding: 'x'.repeat(60 * 1024) })}\n`;
    const response = await app.inject({
      method: 'POST',
      url: '/locations',
      headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
      payload: Readable.from(Array.from({ length: 140 }, () => Buffer.from(line))),
    });
    assert.equal(response.statusCode, 413);
    assert.deepEqual(await allUsers(store), []);
  });

  it('answers an empty array with zeros', async (t) => {
    const { app } = await build(t);
    const response = await post(app, '[]');
    assert.deepEqual(response.json(), { stored: 0, duplicates: 0, rejected: 0, errors: [] });
  });

  for (const [name, payload] of [
    ['an object', JSON.stringify(VALID_POINT)],
    ['a string', '"points"'],
    ['null', 'null'],
    ['malformed JSON', '[{"lat": 40.7,'],
  ] as const) {
    it(`answers 400 for ${name}, which is not a batch`, async (t) => {
      const { app } = await build(t);
      const response = await post(app, payload);
      assert.equal(response.statusCode, 400);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.ok(response.json<{ errors?: unknown[] }>().errors?.length, 'says what is wrong');
    });
  }

  it('answers 415 for a body that is neither JSON nor NDJSON', async (t) => {
    const { app } = await build(t);
    assert.equal((await post(app, ndjson([VALID_POINT]), 'text/plain')).statusCode, 415);
  });

  it('answers 503 when the store cannot commit, and says nothing was stored', async (t) => {
    const base = openSqliteStore({ path: ':memory:' });
    const store = failingStore(base, () => new StoreUnavailableError('database is locked'));
    const { app } = await build(t, { store });
    const response = await post(app, JSON.stringify([VALID_POINT]));
    assert.equal(response.statusCode, 503);
    assert.ok(response.headers['retry-after']);
  });

  it('is described in the OpenAPI document for both media types', async (t) => {
    const { app } = await build(t);
    const spec = (await app.inject('/openapi.json')).json<{
      paths: Record<string, { post?: { requestBody?: { content: Record<string, unknown> } } }>;
    }>();
    const content = spec.paths['/locations']?.post?.requestBody?.content ?? {};
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/x-ndjson']);
  });
});
