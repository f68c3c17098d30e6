import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSecret } from '../../src/auth/tokens.js';
import type { LocusApp } from '../../src/http/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { build, failingStore, minutesOf, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { allUsers } from '../support/users.js';

// 2017-01-01 13:05:12 in New York (VALID_POINT's time) is 18:05:12Z.
const TST = Date.UTC(2017, 0, 1, 18, 5, 12) / 1000;

const LOCATION = {
  _type: 'location',
  tst: TST,
  lat: 40.701,
  lon: -73.916,
  acc: 11,
  vel: 18,
  alt: 12,
  batt: 86,
  tid: 'ph',
  topic: 'owntracks/alice/phone',
};

const LIMIT_HEADERS = { 'x-limit-u': 'alice', 'x-limit-d': 'phone' };

function post(
  app: LocusApp,
  body: unknown,
  headers: Record<string, string> = LIMIT_HEADERS,
  url = '/owntracks',
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /owntracks and /pub (OwnTracks HTTP mode)', () => {
  for (const url of ['/owntracks', '/pub']) {
    it(`${url} stores a location and answers [] as the app expects`, async (t) => {
      const { app } = await build(t);
      const response = await post(app, LOCATION, LIMIT_HEADERS, url);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), []);
      assert.deepEqual(await minutesOf(app, 'alice'), [
        {
          minute: '2017-01-01T18:05:00.000Z',
          lat: 40.701,
          long: -73.916,
          accuracy: 11,
          speed: 5,
          samples: 1,
        },
      ]);
    });
  }

  it('shows accuracy and speed as null when the app sent neither', async (t) => {
    const { app } = await build(t);
    const bare: Record<string, unknown> = { ...LOCATION };
    delete bare.acc;
    delete bare.vel;
    assert.equal((await post(app, bare)).statusCode, 200);
    const [minute] = await minutesOf(app, 'alice');
    assert.equal(minute?.accuracy, null);
    assert.equal(minute?.speed, null);
  });

  it('averages accuracy and speed over the points that carry them', async (t) => {
    const { app } = await build(t);
    await post(app, LOCATION);
    await post(app, { ...LOCATION, tst: TST + 10, acc: undefined, vel: -1 });
    const [minute] = await minutesOf(app, 'alice');
    assert.deepEqual([minute?.samples, minute?.accuracy, minute?.speed], [2, 11, 5]);
  });

  it('takes the user from HTTP Basic credentials when there is no X-Limit-U', async (t) => {
    const { app } = await build(t);
    const authorization = `Basic ${Buffer.from('bob:secret').toString('base64')}`;
    assert.equal((await post(app, LOCATION, { authorization })).statusCode, 200);
    assert.equal((await minutesOf(app, 'bob')).length, 1);
  });

  it('files a location under the user id in NFC, and refuses one with a format character', async (t) => {
    const { app, store } = await build(t);
    const response = await post(app, { ...LOCATION, topic: 'owntracks/A\u0308lice/phone' }, {});
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((await minutesOf(app, '\u00c4lice')).length, 1);
    const refused = await post(app, { ...LOCATION, topic: 'owntracks/alice\u2060/phone' }, {});
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(refused.json<{ errors: unknown[] }>().errors, [
      {
        field: 'topic',
        message: 'must not contain invisible format or bidi control characters (found U+2060)',
      },
    ]);
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      ['\u00c4lice'],
    );
  });

  it('with authentication on, matches the Basic user name to the token’s user in NFC', async (t) => {
    const { app, store } = await build(t, { auth: { required: true } });
    const secret = newSecret();
    // A token made for the decomposed form (before ids were normalised) is the composed user's.
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: 'A\u0308lice',
      scope: 'user',
      label: null,
      createdMs: 0,
    });
    for (const user of ['A\u0308lice', '\u00c4lice']) {
      const authorization = `Basic ${Buffer.from(`${user}:${secret.token}`).toString('base64')}`;
      const response = await post(app, { ...LOCATION, tst: TST + user.length }, { authorization });
      assert.equal(response.statusCode, 200, `${JSON.stringify(user)}: ${response.body}`);
    }
    const read = await app.inject({
      url: `/users/${encodeURIComponent('A\u0308lice')}/locations`,
      headers: { authorization: `Bearer ${secret.token}` },
    });
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json<{ user_id: string; locations: unknown[] }>().user_id, '\u00c4lice');
  });

  it('takes user and device from the message topic when no header names them', async (t) => {
    const { app } = await build(t, { owntracksUserId: 'user/device' });
    assert.equal((await post(app, LOCATION, {})).statusCode, 200);
    assert.equal((await minutesOf(app, 'alice/phone')).length, 1);
  });

  it('names points user/device when configured, readable with the slash escaped', async (t) => {
    const { app } = await build(t, { owntracksUserId: 'user/device' });
    await post(app, LOCATION, { 'x-limit-u': 'alice', 'x-limit-d': 'tablet' });
    const response = await app.inject('/users/alice%2Ftablet/locations');
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ user_id: string }>().user_id, 'alice/tablet');
  });

  for (const type of ['lwt', 'transition', 'waypoints', 'card', 'encrypted', 'status']) {
    it(`accepts and ignores a ${type} message`, async (t) => {
      const { app, store } = await build(t);
      const response = await post(app, { _type: type, tst: TST, data: 'whatever' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), []);
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('accepts and ignores a zero-length message (a deleted friend)', async (t) => {
    const { app, store } = await build(t);
    for (const headers of [{ 'content-type': 'application/json' }, {}]) {
      const response = await app.inject({ method: 'POST', url: '/owntracks', headers, payload: '' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), []);
    }
    assert.deepEqual(await allUsers(store), []);
  });

  it('answers 400 with every field at fault, and stores nothing', async (t) => {
    const { app, store } = await build(t);
    const response = await post(app, { ...LOCATION, tst: '1483293912', lat: 91, acc: -3 }, {});
    assert.equal(response.statusCode, 400);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const problem = response.json<{ type: string; errors: Array<{ field: string; message: string }> }>();
    assert.equal(problem.type, '/problems/invalid-body');
    assert.deepEqual(problem.errors, [
      { field: 'tst', message: 'must be a number, not a string' },
      { field: 'lat', message: 'must be ≤ 90, got 91' },
      { field: 'acc', message: 'must be ≥ 0, got -3' },
    ]);
    assert.deepEqual(await allUsers(store), []);
  });

  it('answers 400 when no user can be found', async (t) => {
    const { app, store } = await build(t);
    const withoutTopic: Record<string, unknown> = { ...LOCATION };
    delete withoutTopic.topic;
    const response = await post(app, withoutTopic, {});
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json<{ errors: unknown[] }>().errors, [
      { field: 'X-Limit-U', message: 'is required' },
    ]);
    assert.deepEqual(await allUsers(store), []);
  });

  for (const [name, payload] of [
    ['malformed JSON', '{"_type":"location",'],
    ['an array', '[]'],
    ['a message without _type', '{"lat":1}'],
  ] as const) {
    it(`answers 400 for ${name}`, async (t) => {
      const { app } = await build(t);
      assert.equal((await post(app, payload)).statusCode, 400);
    });
  }

  it('is the same point as a PUT /location of the same instant (one dedupe key across formats)', async (t) => {
    const { app } = await build(t);
    await post(app, LOCATION);
    const again = await put(app, { ...VALID_POINT, user_id: 'alice' });
    assert.equal(again.json<{ status: string }>().status, 'duplicate');
    assert.equal((await minutesOf(app, 'alice'))[0]?.samples, 1);
  });

  it('answers 503 while the store is unavailable, so the app sends the message again', async (t) => {
    const store = failingStore(
      openSqliteStore({ path: ':memory:' }),
      () => new StoreUnavailableError('locked'),
    );
    const { app } = await build(t, { store });
    const response = await post(app, LOCATION);
    assert.equal(response.statusCode, 503);
    assert.ok(response.headers['retry-after']);
  });
});
