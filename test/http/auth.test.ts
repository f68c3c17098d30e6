/*
 * Authentication and per-user authorisation (AUTH=on): every route family with no token, a bad one, a revoked one,
 * a foreign user, its own user and an admin token; the ways a token may be sent; and tokens never reaching logs.
 */
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { newSecret } from '../../src/auth/tokens.js';
import type { AppOptions } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type Store, type TokenStore } from '../../src/store/store.js';
import { build, put, wrapStore } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { assertProblem } from '../support/problem.js';
import { allUsers } from '../support/users.js';
import { issueToken } from '../support/tokens.js';

const TS_MS = Date.UTC(2017, 0, 1, 18, 5, 12);
const TTL_MS = 30_000;
const JSON_HEADERS = { 'content-type': 'application/json' };

/** An app with authentication on, on a clock the test moves. */
async function authApp(t: TestContext, options: Omit<AppOptions, 'store'> & { store?: Store } = {}) {
  let nowMs = Date.UTC(2024, 0, 1);
  const harness = await build(t, {
    auth: { required: true, tokenCacheTtlMs: TTL_MS },
    now: () => nowMs,
    ...options,
  });
  return {
    ...harness,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

function withQuery(url: string, query: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

/** `options` with extra headers and query parameters. */
function sent(options: InjectOptions, headers: Record<string, string> = {}, query = ''): InjectOptions {
  return {
    ...options,
    url: query && typeof options.url === 'string' ? withQuery(options.url, query) : options.url,
    headers: { ...(options.headers as Record<string, string>), ...headers },
  };
}

const point = (user: string, second = 12) => ({
  ...VALID_POINT,
  timestamp: `2017-01-01T18:05:${String(second).padStart(2, '0')}Z`,
  user_id: user,
});

const ownTracksLocation = {
  _type: 'location',
  tst: TS_MS / 1000,
  lat: 40.701,
  lon: -73.916,
  acc: 11,
  vel: 18,
  topic: 'owntracks/someone/phone',
};

function overlandFeature(user: string) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [-73.916, 40.701] },
    properties: { timestamp: '2017-01-01T18:05:12Z', speed: 4, horizontal_accuracy: 30, device_id: user },
  };
}

const osmandQuery = (user: string) =>
  `id=${encodeURIComponent(user)}&lat=40.701&lon=-73.916&timestamp=${TS_MS}&hdop=11.3&speed=1.4`;

/** `base` with its token lookups replaced. */
function withTokens(base: Store, tokens: TokenStore): Store {
  return wrapStore(base, { tokens });
}

/** One request per ingest route and format, storing one point of `user`. */
const INGEST: Record<string, (user: string) => InjectOptions> = {
  'PUT /location': (user) => ({
    method: 'PUT',
    url: '/location',
    headers: JSON_HEADERS,
    payload: JSON.stringify(point(user)),
  }),
  'POST /locations (JSON)': (user) => ({
    method: 'POST',
    url: '/locations',
    headers: JSON_HEADERS,
    payload: JSON.stringify([point(user)]),
  }),
  'POST /locations (NDJSON)': (user) => ({
    method: 'POST',
    url: '/locations',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: `${JSON.stringify(point(user))}\n`,
  }),
  'POST /owntracks': (user) => ({
    method: 'POST',
    url: '/owntracks',
    headers: { ...JSON_HEADERS, 'x-limit-u': user },
    payload: JSON.stringify(ownTracksLocation),
  }),
  'POST /pub': (user) => ({
    method: 'POST',
    url: '/pub',
    headers: { ...JSON_HEADERS, 'x-limit-u': user },
    payload: JSON.stringify(ownTracksLocation),
  }),
  'POST /overland': (user) => ({
    method: 'POST',
    url: '/overland',
    headers: JSON_HEADERS,
    payload: JSON.stringify({ locations: [overlandFeature(user)] }),
  }),
  'GET /osmand': (user) => ({ method: 'GET', url: `/osmand?${osmandQuery(user)}` }),
  'POST /osmand (form)': (user) => ({
    method: 'POST',
    url: '/osmand',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: osmandQuery(user),
  }),
};

/** One request per read route, for `user`'s data. */
const READS: Record<string, (user: string) => InjectOptions> = {
  'GET /users/:id/locations': (user) => ({ method: 'GET', url: `/users/${user}/locations` }),
  'GET /users/:id/locations?format=csv': (user) => ({
    method: 'GET',
    url: `/users/${user}/locations?format=csv`,
  }),
  'GET /users/:id/locations (Accept: GPX)': (user) => ({
    method: 'GET',
    url: `/users/${user}/locations`,
    headers: { accept: 'application/gpx+xml' },
  }),
  'GET /users/:id/locations.geojson': (user) => ({ method: 'GET', url: `/users/${user}/locations.geojson` }),
};

const PROTECTED: Record<string, InjectOptions> = {
  ...Object.fromEntries(Object.entries(INGEST).map(([name, request]) => [name, request('a1')])),
  ...Object.fromEntries(Object.entries(READS).map(([name, request]) => [name, request('a1')])),
  'GET /users': { method: 'GET', url: '/users' },
  'GET /events': { method: 'GET', url: '/events' },
  'GET /nope (unknown route)': { method: 'GET', url: '/nope' },
};

function assertUnauthorized(response: LightMyRequestResponse, invalidToken: boolean) {
  assertProblem(response, 401, 'unauthorized');
  const challenge = String(response.headers['www-authenticate']);
  assert.match(challenge, /^Bearer realm="locus"/);
  assert.equal(challenge.includes('error="invalid_token"'), invalidToken, challenge);
}

/** Seeds points of a1 and b2 through an admin token. */
async function seedTwoUsers(app: LocusApp, admin: string) {
  for (const user of ['a1', 'b2']) {
    const response = await app.inject(sent(INGEST['PUT /location']!(user), bearer(admin)));
    assert.equal(response.statusCode, 200, response.body);
  }
}

describe('AUTH off (the default)', () => {
  it('takes points and answers reads with no token, and ignores a token that is sent', async (t) => {
    const { app, store } = await build(t);
    assert.equal((await put(app, point('a1'))).statusCode, 200);
    const withJunk = await app.inject(sent(INGEST['PUT /location']!('b2'), bearer('locus_nonsense')));
    assert.equal(withJunk.statusCode, 200);
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      ['a1', 'b2'],
    );
    const users = await app.inject('/users');
    assert.equal(users.json<{ users: unknown[] }>().users.length, 2);
  });
});

describe('AUTH on: requests without a valid token', () => {
  it('an open live feed ends after the cache time, and its revoked token cannot reopen it', async (t) => {
    // The stream's lifetime runs on the real clock; the cache's on the injected one.
    const { app, store, advance } = await authApp(t, { auth: { required: true, tokenCacheTtlMs: 200 } });
    const { token, id } = await issueToken(store, 'a1');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const open = () =>
      new Promise<IncomingMessage>((resolve) =>
        get({ port, host: '127.0.0.1', path: `/events?token=${token}` }, resolve),
      );
    const stream = await open();
    assert.equal(stream.statusCode, 200);
    assert.equal(await store.tokens.revoke(id, 0), true);
    stream.resume();
    await new Promise((resolve) => stream.once('end', resolve));
    advance(200);
    const reopened = await open();
    assert.equal(reopened.statusCode, 401);
    reopened.resume();
  });

  for (const [name, request] of Object.entries(PROTECTED)) {
    it(`${name}: no token is 401 with WWW-Authenticate: Bearer, and nothing is stored`, async (t) => {
      const { app, store } = await authApp(t);
      assertUnauthorized(await app.inject(request), false);
      assert.deepEqual(await allUsers(store), []);
    });

    it(`${name}: an unknown token is 401 (invalid_token), and nothing is stored`, async (t) => {
      const { app, store } = await authApp(t);
      const unknown = newSecret().token;
      assertUnauthorized(await app.inject(sent(request, bearer(unknown))), true);
      assertUnauthorized(await app.inject(sent(request, {}, `token=${unknown}`)), true);
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('refuses a malformed Authorization header, an empty ?token= and a repeated one', async (t) => {
    const { app, store } = await authApp(t);
    const { token } = await issueToken(store, 'a1');
    const request = INGEST['PUT /location']!('a1');
    for (const authorization of [token, `Bearer`, `Bearer ${token} extra`, `Token ${token}`, `Basic !!!`]) {
      assertUnauthorized(await app.inject(sent(request, { authorization })), false);
    }
    assertUnauthorized(await app.inject(sent(request, {}, 'token=')), false);
    assertUnauthorized(await app.inject(sent(request, {}, `token=${token}&token=${token}`)), false);
    assert.deepEqual(await allUsers(store), []);
  });

  it('keeps /healthz, /readyz, /openapi.json and the dashboard page open', async (t) => {
    const { app } = await authApp(t);
    for (const url of ['/healthz', '/readyz', '/openapi.json']) {
      assert.equal((await app.inject(url)).statusCode, 200, url);
    }
    for (const url of ['/', '/assets/app.js']) {
      assert.notEqual((await app.inject(url)).statusCode, 401, url);
    }
  });

  it('answers 503 (not 401) when the token cannot be looked up because the database is down', async (t) => {
    const base = openSqliteStore({ path: ':memory:' });
    const down: TokenStore = {
      ...base.tokens,
      findByHash: () => Promise.reject(new StoreUnavailableError('database is locked')),
    };
    const { app } = await authApp(t, { store: withTokens(base, down) });
    const response = await app.inject(sent(INGEST['PUT /location']!('a1'), bearer(newSecret().token)));
    assertProblem(response, 503, 'store-unavailable');
    assert.ok(response.headers['retry-after']);
  });
});

describe('AUTH on: revoked tokens', () => {
  it('a revoked token keeps working until the cache entry expires, then is 401', async (t) => {
    const { app, store, advance } = await authApp(t);
    const { token, id } = await issueToken(store, 'a1');
    const send = (second: number) =>
      app.inject(
        sent(
          { ...INGEST['PUT /location']!('a1'), payload: JSON.stringify(point('a1', second)) },
          bearer(token),
        ),
      );
    assert.equal((await send(1)).statusCode, 200);
    assert.equal(await store.tokens.revoke(id, 0), true);
    advance(TTL_MS - 1);
    assert.equal((await send(2)).statusCode, 200, 'within the cache time the revocation is not seen yet');
    advance(1);
    assertUnauthorized(await send(3), true);
    assert.equal((await store.minutes('a1', {}, { limit: 10 }))?.rows[0]?.sums.samples, 2);
  });

  it('a live feed ends when the cache entry its token was checked from expires, not a cache time after it opened', async (t) => {
    // Both on the injected clock: the stream's end follows the cache entry, not the stream's own age.
    const { app, store, advance } = await authApp(t, { dashboard: { heartbeatMs: 10 } });
    const { token, id } = await issueToken(store, 'a1');
    assert.equal((await app.inject(sent(PROTECTED['GET /users']!, bearer(token)))).statusCode, 200);
    assert.equal(await store.tokens.revoke(id, 0), true);
    advance(TTL_MS / 2);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const open = () =>
      new Promise<IncomingMessage>((resolve) =>
        get({ port, host: '127.0.0.1', path: `/events?token=${token}` }, resolve),
      );
    const stream = await open();
    assert.equal(
      stream.statusCode,
      200,
      'opened from the cache entry, which does not know of the revocation',
    );
    assert.equal(await endOrKeepAlives(stream, 3), 'open', 'the feed runs while the entry holds');
    advance(TTL_MS / 2); // the cache time after the lookup (and the revocation); half of it after the feed opened
    assert.equal(await endOrKeepAlives(stream, 5), 'ended', 'the feed ends with its cache entry');
    const reopened = await open();
    assert.equal(reopened.statusCode, 401);
    reopened.resume();
  });

  for (const [name, request] of Object.entries(PROTECTED)) {
    it(`${name}: a token revoked before its first use is 401`, async (t) => {
      const { app, store } = await authApp(t);
      const { token, id } = await issueToken(store, 'a1');
      await store.tokens.revoke(id, 0);
      assertUnauthorized(await app.inject(sent(request, bearer(token))), true);
      assert.deepEqual(await allUsers(store), []);
    });
  }
});

describe('AUTH on: writing', () => {
  for (const [name, request] of Object.entries(INGEST)) {
    it(`${name}: a point of the token's own user is stored`, async (t) => {
      const { app, store } = await authApp(t);
      const { token } = await issueToken(store, 'a1');
      const response = await app.inject(sent(request('a1'), bearer(token)));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(
        (await allUsers(store)).map((u) => u.userId),
        ['a1'],
      );
    });

    it(`${name}: a point of another user is 403 naming that user, and nothing is stored`, async (t) => {
      const { app, store } = await authApp(t);
      const { token } = await issueToken(store, 'a1');
      const body = assertProblem(await app.inject(sent(request('b2'), bearer(token))), 403, 'forbidden');
      assert.match(body.detail, /"b2"/);
      assert.deepEqual(await allUsers(store), []);
    });

    it(`${name}: an admin token writes any user`, async (t) => {
      const { app, store } = await authApp(t);
      const { token } = await issueToken(store, null);
      const response = await app.inject(sent(request('b2'), bearer(token)));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(
        (await allUsers(store)).map((u) => u.userId),
        ['b2'],
      );
    });

    it(`${name}: the token works as ?token=`, async (t) => {
      const { app, store } = await authApp(t);
      const { token } = await issueToken(store, 'a1');
      assert.equal((await app.inject(sent(request('a1'), {}, `token=${token}`))).statusCode, 200);
      const refused = await app.inject(sent(request('b2'), {}, `token=${token}`));
      assertProblem(refused, 403, 'forbidden');
      assert.deepEqual(
        (await allUsers(store)).map((u) => u.userId),
        ['a1'],
      );
    });
  }

  for (const format of ['JSON', 'NDJSON'] as const) {
    it(`POST /locations (${format}): one foreign item among many refuses the whole batch, and nothing is stored`, async (t) => {
      const { app, store } = await authApp(t);
      const { token } = await issueToken(store, 'a1');
      const items = [
        point('a1', 1),
        point('a1', 2),
        point('c3', 3),
        point('a1', 4),
        point('b2', 5),
        'garbage',
      ];
      const payload =
        format === 'JSON' ? JSON.stringify(items) : items.map((item) => JSON.stringify(item)).join('\n');
      const contentType = format === 'JSON' ? 'application/json' : 'application/x-ndjson';
      const response = await app.inject({
        method: 'POST',
        url: '/locations',
        headers: { 'content-type': contentType, ...bearer(token) },
        payload,
      });
      const body = assertProblem(response, 403, 'forbidden');
      assert.match(body.detail, /"c3", "b2"/);
      assert.deepEqual(
        response.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field),
        ['user_id', 'user_id'],
      );
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('POST /locations: a 403 names at most ten foreign users and counts the rest', async (t) => {
    const { app, store } = await authApp(t);
    const { token } = await issueToken(store, 'a1');
    const items = Array.from({ length: 25 }, (_, i) => point(`u${i}`));
    const response = await app.inject(
      sent(
        { method: 'POST', url: '/locations', headers: JSON_HEADERS, payload: JSON.stringify(items) },
        bearer(token),
      ),
    );
    const body = assertProblem(response, 403, 'forbidden');
    assert.match(body.detail, /"u9" and 15 more/);
    assert.equal(response.json<{ errors: unknown[] }>().errors.length, 10);
  });

  it('POST /overland: a foreign point among own ones refuses the batch', async (t) => {
    const { app, store } = await authApp(t);
    const { token } = await issueToken(store, 'a1');
    const payload = JSON.stringify({ locations: [overlandFeature('a1'), overlandFeature('b2')] });
    const response = await app.inject(sent({ ...INGEST['POST /overland']!('a1'), payload }, bearer(token)));
    assertProblem(response, 403, 'forbidden');
    assert.deepEqual(await allUsers(store), []);
  });
});

describe('AUTH on: OwnTracks HTTP mode with Basic credentials', () => {
  const ownTracks = (headers: Record<string, string>, url = '/owntracks') => ({
    method: 'POST' as const,
    url,
    headers: { ...JSON_HEADERS, ...headers },
    payload: JSON.stringify(ownTracksLocation),
  });

  for (const url of ['/owntracks', '/pub']) {
    it(`${url}: the user name is the user and the password the token`, async (t) => {
      const { app, store } = await authApp(t);
      const { token } = await issueToken(store, 'alice');
      const response = await app.inject(ownTracks(basic('alice', token), url));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), []);
      assert.deepEqual(
        (await allUsers(store)).map((u) => u.userId),
        ['alice'],
      );
    });
  }

  it('a user name that is not the token’s user is 401, and nothing is stored', async (t) => {
    const { app, store } = await authApp(t);
    const { token } = await issueToken(store, 'alice');
    assertUnauthorized(await app.inject(ownTracks(basic('bob', token))), true);
    assert.deepEqual(await allUsers(store), []);
  });

  it('a wrong password is 401', async (t) => {
    const { app, store } = await authApp(t);
    await issueToken(store, 'alice');
    assertUnauthorized(await app.inject(ownTracks(basic('alice', 'not-the-token'))), true);
    assertUnauthorized(await app.inject(ownTracks(basic('alice', ''))), false);
  });

  it('X-Limit-U naming another user than the token’s is 403', async (t) => {
    const { app, store } = await authApp(t);
    const { token } = await issueToken(store, 'alice');
    assertProblem(
      await app.inject(ownTracks({ ...basic('alice', token), 'x-limit-u': 'bob' })),
      403,
      'forbidden',
    );
    assert.deepEqual(await allUsers(store), []);
  });

  it('in user/device mode a token of alice/phone takes user name alice and device phone', async (t) => {
    const { app, store } = await authApp(t, { owntracksUserId: 'user/device' });
    const { token } = await issueToken(store, 'alice/phone');
    const own = await app.inject(ownTracks({ ...basic('alice', token), 'x-limit-d': 'phone' }));
    assert.equal(own.statusCode, 200, own.body);
    const otherDevice = await app.inject(ownTracks({ ...basic('alice', token), 'x-limit-d': 'tablet' }));
    assertProblem(otherDevice, 403, 'forbidden');
    assertUnauthorized(await app.inject(ownTracks({ ...basic('al', token), 'x-limit-d': 'phone' })), true);
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      ['alice/phone'],
    );
  });

  it('an admin token may use any user name', async (t) => {
    const { app, store } = await authApp(t);
    const { token } = await issueToken(store, null);
    assert.equal((await app.inject(ownTracks(basic('carol', token)))).statusCode, 200);
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      ['carol'],
    );
  });
});

describe('AUTH on: reading', () => {
  it('GET /users lists only the token’s user; an admin token lists everyone', async (t) => {
    const { app, store } = await authApp(t);
    const admin = await issueToken(store, null);
    const a1 = await issueToken(store, 'a1');
    const nobody = await issueToken(store, 'z9');
    await seedTwoUsers(app, admin.token);
    const ids = async (token: string) =>
      (await app.inject(sent({ method: 'GET', url: '/users' }, bearer(token))))
        .json<{ users: Array<{ user_id: string }> }>()
        .users.map((u) => u.user_id);
    assert.deepEqual(await ids(a1.token), ['a1']);
    assert.deepEqual(await ids(nobody.token), []);
    assert.deepEqual(await ids(admin.token), ['a1', 'b2']);
  });

  for (const [name, request] of Object.entries(READS)) {
    it(`${name}: the token’s own user is 200, another user is 403 (known or not), admin reads both`, async (t) => {
      const { app, store } = await authApp(t);
      const admin = await issueToken(store, null);
      const a1 = await issueToken(store, 'a1');
      await seedTwoUsers(app, admin.token);
      assert.equal((await app.inject(sent(request('a1'), bearer(a1.token)))).statusCode, 200);
      assert.equal((await app.inject(sent(request('a1'), {}, `token=${a1.token}`))).statusCode, 200);
      const foreign = assertProblem(
        await app.inject(sent(request('b2'), bearer(a1.token))),
        403,
        'forbidden',
      );
      assert.match(foreign.detail, /"b2"/);
      assertProblem(await app.inject(sent(request('nobody'), bearer(a1.token))), 403, 'forbidden');
      assert.equal((await app.inject(sent(request('b2'), bearer(admin.token)))).statusCode, 200);
      assertProblem(await app.inject(sent(request('nobody'), bearer(admin.token))), 404, 'unknown-user');
    });
  }

  it('GET /events?token= streams only the token’s user; an admin token streams everyone', async (t) => {
    const { app, store } = await authApp(t, { dashboard: { liveIntervalMs: 20 } });
    const admin = await issueToken(store, null);
    const a1 = await issueToken(store, 'a1');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const openFeed = async (token: string) => {
      const response = await new Promise<IncomingMessage>((resolve) =>
        get({ port, host: '127.0.0.1', path: `/events?token=${token}` }, resolve),
      );
      assert.equal(response.statusCode, 200);
      return response;
    };
    const own = await openFeed(a1.token);
    const all = await openFeed(admin.token);
    const ownIds = usersUntil(own, 'a1');
    const allIds = usersUntil(all, 'b2');
    await seedTwoUsers(app, admin.token);
    assert.deepEqual(await allIds, ['a1', 'b2']);
    assert.deepEqual(await ownIds, ['a1']);
    own.destroy();
    all.destroy();
  });
});

/**
 * Reads an event stream until it ends ('ended') or `count` keep-alive comments have come ('open'); only what comes
 * after the call counts.
 */
function endOrKeepAlives(response: IncomingMessage, count: number): Promise<'ended' | 'open'> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const done = (outcome: 'ended' | 'open') => {
      response.off('data', onData).off('end', onEnd).off('error', reject);
      resolve(outcome);
    };
    const onData = (chunk: string) => {
      seen += chunk.split(': keep-alive').length - 1;
      if (seen >= count) done('open');
    };
    const onEnd = () => done('ended');
    response.setEncoding('utf8');
    response.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/** The user ids of a stream's `users` events, in order, up to the event that names `last`. */
function usersUntil(response: IncomingMessage, last: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const ids: string[] = [];
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let match;
      while ((match = /event: users\ndata: (.*)\n\n/.exec(buffer))) {
        buffer = buffer.slice(match.index + match[0].length);
        const body = JSON.parse(match[1] as string) as { users: Array<{ user_id: string }> };
        ids.push(...body.users.map((u) => u.user_id));
        if (ids.includes(last)) resolve(ids);
      }
    });
    response.on('error', reject);
  });
}
