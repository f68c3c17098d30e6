import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { build, failingStore, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { assertProblem } from '../support/problem.js';
import { allUsers } from '../support/users.js';

describe('PUT /location', () => {
  it('stores a new point and says where it landed in UTC', async (t) => {
    const { app } = await build(t);
    const response = await put(app, VALID_POINT);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      status: 'stored',
      user_id: 'a1',
      timestamp_utc: '2017-01-01T18:05:12.000Z',
      minute: '2017-01-01T18:05:00.000Z',
    });
  });

  it('answers duplicate for a resend, whatever its other values, and keeps the first', async (t) => {
    const { app } = await build(t);
    await put(app, VALID_POINT);
    const again = await put(app, { ...VALID_POINT, lat: 10, accuracy: 500 });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json<{ status: string }>().status, 'duplicate');
    const read = await app.inject('/users/a1/locations');
    assert.deepEqual(read.json<{ locations: unknown[] }>().locations, [
      {
        minute: '2017-01-01T18:05:00.000Z',
        lat: 40.701,
        long: -73.916,
        accuracy: 11.3,
        speed: 1.4,
        samples: 1,
      },
    ]);
  });

  it('treats the same instant written with an explicit offset as the same point', async (t) => {
    const { app } = await build(t);
    await put(app, VALID_POINT);
    const same = await put(app, { ...VALID_POINT, timestamp: '2017-01-01T18:05:12Z' });
    assert.equal(same.json<{ status: string }>().status, 'duplicate');
  });

  it('averages the points of one minute', async (t) => {
    const { app } = await build(t);
    await put(app, VALID_POINT);
    await put(app, {
      ...VALID_POINT,
      timestamp: '2017-01-01 13:05:40',
      lat: 40.703,
      accuracy: 13.3,
      speed: 2.4,
    });
    const [minute] = (await app.inject('/users/a1/locations')).json<{ locations: unknown[] }>().locations;
    assert.deepEqual(minute, {
      minute: '2017-01-01T18:05:00.000Z',
      lat: 40.702,
      long: -73.916,
      accuracy: 12.3,
      speed: 1.9,
      samples: 2,
    });
  });

  it('ignores unknown extra fields', async (t) => {
    const { app } = await build(t);
    assert.equal((await put(app, { ...VALID_POINT, battery: 0.4, provider: 'gps' })).statusCode, 200);
  });

  it('accepts a JSON media type with parameters or a +json suffix', async (t) => {
    const { app } = await build(t);
    assert.equal((await put(app, VALID_POINT, 'application/json; charset=utf-8')).statusCode, 200);
    const other = { ...VALID_POINT, timestamp: '2017-01-01 13:05:13' };
    assert.equal((await put(app, other, 'application/vnd.locus+json')).statusCode, 200);
  });

  it('lists every invalid field in a 400 problem and stores nothing', async (t) => {
    const { app, store } = await build(t);
    const response = await put(app, {
      timestamp: '2017-02-30 12:00:00',
      lat: '40.7',
      long: 200,
      speed: null,
      user_id: '',
    });
    const problem = assertProblem(response, 400);
    assert.equal(problem.type, '/problems/invalid-body');
    assert.deepEqual(problem.errors?.map((e) => e.field).sort(), [
      'accuracy',
      'lat',
      'long',
      'speed',
      'timestamp',
      'user_id',
    ]);
    assert.deepEqual(
      problem.errors?.find((e) => e.field === 'lat'),
      { field: 'lat', message: 'must be a number, not a string' },
    );
    assert.deepEqual(await allUsers(store), []);
  });

  for (const [name, payload] of [
    ['malformed JSON', '{"lat": 40.7,'],
    ['an array', JSON.stringify([VALID_POINT])],
    ['a JSON string', '"hello"'],
    ['null', 'null'],
    ['an empty body', ''],
    ['a __proto__ key', JSON.stringify(VALID_POINT).replace('{', '{"__proto__":{"x":1},')],
    [
      'a constructor.prototype key',
      JSON.stringify(VALID_POINT).replace('{', '{"constructor":{"prototype":{"x":1}},'),
    ],
  ] as const) {
    it(`answers 400 for ${name}`, async (t) => {
      const { app, store } = await build(t);
      const problem = assertProblem(await put(app, payload), 400);
      assert.ok(problem.errors && problem.errors.length > 0, 'says which part is wrong');
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('answers 413 for a body over 64 KiB', async (t) => {
    const { app } = await build(t);
    const response = await put(app, { ...VALID_POINT, padding: 'x'.repeat(70 * 1024) });
    assert.equal(assertProblem(response, 413).type, '/problems/body-too-large');
  });

  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    it(`answers 415 for ${contentType}`, async (t) => {
      const { app } = await build(t);
      assertProblem(await put(app, JSON.stringify(VALID_POINT), contentType), 415);
    });
  }

  it('answers 415 for a body without a content type', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({
      method: 'PUT',
      url: '/location',
      payload: JSON.stringify(VALID_POINT),
    });
    assert.ok([400, 415].includes(response.statusCode), String(response.statusCode));
    assertProblem(response, response.statusCode);
  });

  it('answers 503 with Retry-After while the store is unavailable', async (t) => {
    const store = failingStore(
      openSqliteStore({ path: ':memory:' }),
      () => new StoreUnavailableError('database is locked'),
    );
    const { app } = await build(t, { store });
    const response = await put(app, VALID_POINT);
    assertProblem(response, 503);
    assert.match(String(response.headers['retry-after']), /^\d+$/);
  });

  it('answers 500 without internals for an unexpected error', async (t) => {
    const store = failingStore(
      openSqliteStore({ path: ':memory:' }),
      () => new Error('secret internal detail'),
    );
    const { app } = await build(t, { store });
    const response = await put(app, VALID_POINT);
    const problem = assertProblem(response, 500);
    assert.doesNotMatch(response.body, /secret internal detail|at .*\.ts/);
    assert.equal(problem.type, '/problems/internal-error');
  });

  it('stores a user id in Unicode NFC: Ä composed and A + U+0308 are one user', async (t) => {
    const { app, store } = await build(t);
    const decomposed = await put(app, { ...VALID_POINT, user_id: 'A\u0308lice' });
    assert.equal(decomposed.statusCode, 200, decomposed.body);
    assert.deepEqual(decomposed.json<{ status: string; user_id: string }>().user_id, '\u00c4lice');
    const composed = await put(app, { ...VALID_POINT, user_id: '\u00c4lice' });
    assert.equal(composed.json<{ status: string }>().status, 'duplicate');
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      ['\u00c4lice'],
    );
    // Read under either form of the id.
    assert.equal((await app.inject(`/users/${encodeURIComponent('A\u0308lice')}/locations`)).statusCode, 200);
    assert.equal((await app.inject(`/users/${encodeURIComponent('\u00c4lice')}/locations`)).statusCode, 200);
  });

  for (const [userId, message] of [
    ['alice\u200b', 'must not contain invisible format or bidi control characters (found U+200B)'],
    ['evil\u202Egpj.exe', 'must not contain invisible format or bidi control characters (found U+202E)'],
    ['\u2066a\u2069', 'must not contain invisible format or bidi control characters (found U+2066)'],
    ['\ufeffa', 'must not contain invisible format or bidi control characters (found U+FEFF)'],
    ['.', "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it"],
    ['..', "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it"],
    ['a\u0007', 'must not contain control characters (found U+0007)'],
  ] as const) {
    it(`refuses the user id ${JSON.stringify(userId)}, saying which rule it breaks`, async (t) => {
      const { app, store } = await build(t);
      const problem = assertProblem(await put(app, { ...VALID_POINT, user_id: userId }), 400);
      assert.deepEqual(problem.errors, [{ field: 'user_id', message }]);
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('says "did you mean" for a field sent under a look-alike name', async (t) => {
    const { app } = await build(t);
    const { long, user_id, timestamp, accuracy, ...rest } = VALID_POINT;
    const problem = assertProblem(
      await put(app, { ...rest, lng: long, userId: user_id, ts: timestamp, acc: accuracy }),
      400,
    );
    assert.deepEqual(problem.errors, [
      { field: 'timestamp', message: 'is required (got `ts`: did you mean `timestamp`?)' },
      { field: 'long', message: 'is required (got `lng`: did you mean `long`?)' },
      { field: 'accuracy', message: 'is required (got `acc`: did you mean `accuracy`?)' },
      { field: 'user_id', message: 'is required (got `userId`: did you mean `user_id`?)' },
    ]);
  });

  it('says that a zone name in the timestamp is not read, and that offsets are', async (t) => {
    const { app } = await build(t);
    for (const timestamp of ['2017-01-01 13:05:12 EST', '2017-01-01T13:05:12[America/New_York]']) {
      const problem = assertProblem(await put(app, { ...VALID_POINT, timestamp }), 400);
      assert.equal(problem.errors?.length, 1);
      assert.equal(problem.errors?.[0]?.field, 'timestamp');
      assert.match(
        problem.errors?.[0]?.message ?? '',
        /^must not name a time zone \('(EST|America\/New_York)'\): the zone comes from the coordinates \(lat, long\); send the wall time alone, or with an offset \(\+02:00, -0500, Z\)$/,
      );
    }
  });

  it('takes a wall time at the North Pole as UTC, as a step away at longitude 0', async (t) => {
    const { app } = await build(t);
    for (const [lat, long, user_id] of [
      [90, 0, 'pole-0'],
      [90, 170, 'pole-170'],
      [90, -170, 'pole-minus-170'],
      [89.9, 0, 'near'],
    ] as const) {
      const response = await put(app, { ...VALID_POINT, lat, long, user_id });
      assert.equal(
        response.json<{ timestamp_utc: string }>().timestamp_utc,
        '2017-01-01T13:05:12.000Z',
        user_id,
      );
    }
  });

  it('refuses a point older than the dedupe retention window', async (t) => {
    const now = Date.UTC(2017, 0, 10);
    const { app, store } = await build(t, { retentionMs: 7 * 86_400_000, now: () => now });
    const problem = assertProblem(await put(app, VALID_POINT), 400);
    assert.equal(problem.errors?.[0]?.field, 'timestamp');
    assert.match(problem.errors?.[0]?.message ?? '', /retention window/);
    assert.deepEqual(await allUsers(store), []);
    const recent = await put(app, { ...VALID_POINT, timestamp: '2017-01-09 13:05:12' });
    assert.equal(recent.statusCode, 200);
  });
});
