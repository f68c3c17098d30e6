import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { newSecret } from '../../src/auth/tokens.js';
import type { LocusApp } from '../../src/http/types.js';
import { build, put, seed, wrapStore } from '../support/app.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Point } from '../../src/ingest/point.js';
import { VALID_POINT } from '../support/points.js';
import { assertProblem } from '../support/problem.js';

const POINT: Point = {
  userId: 'a1',
  tsMs: Date.UTC(2017, 0, 1, 18),
  lat: 40.7,
  long: -73.9,
  accuracy: 5,
  speed: 1,
};

interface Page {
  user_id: string;
  locations: Array<{ minute: string; samples: number }>;
  next_cursor: string | null;
}

async function getPage(app: LocusApp, url: string): Promise<Page> {
  const response = await app.inject(url);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<Page>();
}

describe('GET /users', () => {
  it('is empty on a new store', async (t) => {
    const { app } = await build(t);
    assert.deepEqual((await app.inject('/users')).json(), { users: [], next_cursor: null });
  });

  it('summarises each user', async (t) => {
    const { app } = await build(t);
    await seed(app);
    assert.deepEqual((await app.inject('/users')).json(), {
      users: [
        {
          user_id: 'a1',
          minutes: 10,
          samples: 20,
          first_minute: '2017-01-01T18:00:00.000Z',
          last_minute: '2017-01-01T18:09:00.000Z',
        },
        {
          user_id: 'b2',
          minutes: 1,
          samples: 1,
          first_minute: '2017-01-01T18:05:00.000Z',
          last_minute: '2017-01-01T18:05:00.000Z',
        },
      ],
      next_cursor: null,
    });
  });

  interface UserPageBody {
    users: Array<{ user_id: string }>;
    next_cursor: string | null;
  }

  /** Every user id, following next_cursor from `url` with `limit`. */
  async function walk(app: LocusApp, query: string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let pages = 0;
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const response: LightMyRequestResponse = await app.inject(`/users?${query}${suffix}`);
      assert.equal(response.statusCode, 200, response.body);
      const body: UserPageBody = response.json<UserPageBody>();
      ids.push(...body.users.map((u) => u.user_id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor !== null);
    return { ids, pages };
  }

  // Code point order: 'B' < 'a' < 'é' < '🚲' (U+1F6B2, above every BMP character in UTF-8, unlike in UTF-16).
  const IDS = ['a', 'ab', 'abc', 'b', 'B', 'é', '\uFFFD', '🚲', 'a%', 'a_'];
  const BY_CODE_POINT = [...IDS].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

  async function withUsers(t: Parameters<typeof build>[0]) {
    const harness = await build(t);
    for (const user_id of IDS)
      assert.equal((await put(harness.app, { ...VALID_POINT, user_id })).statusCode, 200);
    return harness;
  }

  it('pages with limit and cursor: every user once, in code point order, whatever the page size', async (t) => {
    const { app } = await withUsers(t);
    for (const limit of [1, 3, IDS.length, IDS.length + 1]) {
      const { ids, pages } = await walk(app, `limit=${limit}`);
      assert.deepEqual(ids, BY_CODE_POINT, `limit=${limit}`);
      assert.equal(pages, Math.max(1, Math.ceil(IDS.length / limit)), `limit=${limit}`);
    }
  });

  it('finds users by an exact prefix: no case folding, no wildcards, in Unicode NFC', async (t) => {
    const { app } = await withUsers(t);
    const prefixed = async (prefix: string) =>
      (await walk(app, `limit=2&prefix=${encodeURIComponent(prefix)}`)).ids;
    assert.deepEqual(await prefixed('a'), ['a', 'a%', 'a_', 'ab', 'abc']);
    assert.deepEqual(await prefixed('ab'), ['ab', 'abc']);
    assert.deepEqual(await prefixed('A'), []);
    assert.deepEqual(await prefixed('a%'), ['a%']);
    assert.deepEqual(await prefixed('_'), []);
    assert.deepEqual(await prefixed('e\u0301'), ['é'], 'a decomposed é finds the stored NFC one');
    assert.deepEqual(await prefixed('🚲'), ['🚲']);
  });

  it('answers 400 naming the parameter for a bad prefix, limit or cursor', async (t) => {
    const { app } = await withUsers(t);
    const cases: Array<[string, string]> = [
      ['prefix=', 'prefix'],
      ['prefix=%00', 'prefix'],
      [`prefix=${'x'.repeat(129)}`, 'prefix'],
      ['limit=0', 'limit'],
      ['limit=10001', 'limit'],
      ['cursor=bm9wZQ', 'cursor'],
      // A well-formed cursor of an id no user can have (a control character).
      [`cursor=${Buffer.from('u:a\u0000').toString('base64url')}`, 'cursor'],
    ];
    for (const [query, field] of cases) {
      const response = await app.inject(`/users?${query}`);
      assertProblem(response, 400);
      assert.ok(response.body.includes(field), `${query}: ${response.body}`);
    }
  });

  it("with a user token reads that user's row only, never the list", async (t) => {
    const base = openSqliteStore({ path: ':memory:' });
    const store = wrapStore(base, { users: () => Promise.reject(new Error('a user token read the list')) });
    const { app } = await build(t, { store, auth: { required: true } });
    const secret = newSecret();
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: 'ab',
      scope: 'user',
      label: null,
      createdMs: 0,
    });
    for (const user_id of ['a', 'ab', 'b']) await store.ingest([{ ...POINT, userId: user_id }]);
    const read = async (query: string) => {
      const response = await app.inject({
        url: `/users?${query}`,
        headers: { authorization: `Bearer ${secret.token}` },
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<UserPageBody>();
    };
    const own = await read('');
    assert.deepEqual(
      own.users.map((u) => u.user_id),
      ['ab'],
    );
    assert.equal(own.next_cursor, null);
    assert.deepEqual(
      (await read('prefix=a')).users.map((u) => u.user_id),
      ['ab'],
    );
    assert.deepEqual((await read('prefix=b')).users, []);
    const after = Buffer.from('u:ab').toString('base64url');
    assert.deepEqual((await read(`cursor=${after}`)).users, []);
  });
});

describe('GET /users/:user_id/locations', () => {
  it('lists minutes ascending with a null cursor on the last page', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const page = await getPage(app, '/users/a1/locations');
    assert.equal(page.user_id, 'a1');
    assert.equal(page.locations.length, 10);
    assert.deepEqual(
      page.locations.map((l) => l.minute),
      [...page.locations.map((l) => l.minute)].sort(),
    );
    assert.ok(page.locations.every((l) => l.samples === 2));
    assert.equal(page.next_cursor, null);
  });

  it('pages with limit and cursor, every minute exactly once', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const seen: string[] = [];
    let url = '/users/a1/locations?limit=3';
    for (let pages = 0; pages < 10; pages++) {
      const page = await getPage(app, url);
      seen.push(...page.locations.map((l) => l.minute));
      if (page.next_cursor === null) break;
      url = `/users/a1/locations?limit=3&cursor=${encodeURIComponent(page.next_cursor)}`;
    }
    assert.equal(seen.length, 10);
    assert.equal(new Set(seen).size, 10);
  });

  it('takes from inclusive and to exclusive, with offsets or dates', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const page = await getPage(
      app,
      '/users/a1/locations?from=2017-01-01T18:02:00Z&to=2017-01-01T13:05:00-05:00',
    );
    assert.deepEqual(
      page.locations.map((l) => l.minute),
      ['02', '03', '04'].map((m) => `2017-01-01T18:${m}:00.000Z`),
    );
    assert.equal((await getPage(app, '/users/a1/locations?from=2017-01-02')).locations.length, 0);
    assert.equal((await getPage(app, '/users/a1/locations?to=2017-01-02')).locations.length, 10);
  });

  it('answers 200 with no rows for the empty half-open range from=X&to=X, in every format (#14)', async (t) => {
    const { app } = await build(t);
    await seed(app);
    for (const query of [
      'from=2017-01-01T18:02:00Z&to=2017-01-01T18:02:00Z',
      'from=2017-01-01&to=2017-01-01',
    ]) {
      const page = await getPage(app, `/users/a1/locations?${query}`);
      assert.deepEqual(page.locations, [], query);
      assert.equal(page.next_cursor, null);
      const csv = await app.inject(`/users/a1/locations?format=csv&${query}`);
      assert.equal(csv.statusCode, 200, csv.body);
      assert.equal(csv.body, 'minute,lat,long,accuracy,speed,samples\r\n');
      const geojson = await app.inject(`/users/a1/locations.geojson?${query}`);
      assert.equal(geojson.statusCode, 200, geojson.body);
      assert.deepEqual(geojson.json(), { type: 'FeatureCollection', features: [] });
    }
    // An unknown user is still 404, whatever the range.
    const unknown = await app.inject('/users/nobody/locations?from=2017-01-01&to=2017-01-01');
    assertProblem(unknown, 404, 'unknown-user');
  });

  it('answers 404 problem for an unknown user', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/nobody/locations');
    assertProblem(response, 404, 'unknown-user');
  });

  it('returns user ids with reserved characters verbatim', async (t) => {
    const { app } = await build(t);
    const userId = "o'brien/ü 1?#%'; DROP TABLE minutes; --";
    assert.equal((await put(app, { ...VALID_POINT, user_id: userId })).statusCode, 200);
    const page = await getPage(app, `/users/${encodeURIComponent(userId)}/locations`);
    assert.equal(page.user_id, userId);
    assert.equal(page.locations.length, 1);
    const users = (await app.inject('/users')).json<{ users: Array<{ user_id: string }> }>().users;
    assert.deepEqual(
      users.map((u) => u.user_id),
      [userId],
    );
  });

  it('finds a user named in any Unicode form: the key is the id in NFC', async (t) => {
    const { app } = await build(t);
    assert.equal((await put(app, { ...VALID_POINT, user_id: '\u00c4lice' })).statusCode, 200);
    for (const form of ['\u00c4lice', 'A\u0308lice']) {
      const page = await getPage(app, `/users/${encodeURIComponent(form)}/locations`);
      assert.equal(page.user_id, '\u00c4lice');
      assert.equal(page.locations.length, 1);
      const csv = await app.inject(`/users/${encodeURIComponent(form)}/locations.csv`);
      assert.equal(csv.statusCode, 200, csv.body);
    }
  });

  it('answers for a user token reading its own user named in another Unicode form', async (t) => {
    const { app, store } = await build(t, { auth: { required: true } });
    const secret = newSecret();
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: '\u00c4lice',
      scope: 'user',
      label: null,
      createdMs: 0,
    });
    const headers = { authorization: `Bearer ${secret.token}`, 'content-type': 'application/json' };
    const written = await app.inject({
      method: 'PUT',
      url: '/location',
      headers,
      payload: JSON.stringify({ ...VALID_POINT, user_id: 'A\u0308lice' }),
    });
    assert.equal(written.statusCode, 200, written.body);
    for (const url of ['/locations', '/locations.geojson']) {
      const response = await app.inject({
        url: `/users/${encodeURIComponent('A\u0308lice')}${url}`,
        headers,
      });
      assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
    }
  });

  it('says what is wrong with a parameter', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const messages = async (query: string) =>
      (await app.inject(`/users/a1/locations?${query}`)).json<{ errors: Array<{ message: string }> }>()
        .errors;
    assert.deepEqual(await messages('limit=1.5'), [
      { field: 'limit', message: 'must be a whole number, not "1.5"' },
    ]);
    assert.deepEqual(await messages('format=kml'), [
      { field: 'format', message: 'must be one of json, geojson, csv, gpx, not "kml"' },
    ]);
  });

  for (const [query, field] of [
    ['limit=0', 'limit'],
    ['limit=10001', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['from=yesterday', 'from'],
    ['to=2017-02-30', 'to'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['cursor=%00', 'cursor'],
    ['from=2017-01-02&to=2017-01-01', 'to'],
  ] as const) {
    it(`answers 400 naming ${field} for ?${query}`, async (t) => {
      const { app } = await build(t);
      await seed(app);
      const response = await app.inject(`/users/a1/locations?${query}`);
      assertProblem(response, 400, 'invalid-parameter', [field]);
    });
  }
});
