/** The app under test: built on a fresh store per test, and the requests most tests send. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { VALID_POINT } from './points.js';

export interface Harness {
  app: LocusApp;
  store: Store;
}

/** An app on a fresh in-memory store, closed when the test ends. */
export async function build(
  t: TestContext,
  options: Omit<AppOptions, 'store'> & { store?: Store } = {},
): Promise<Harness> {
  const store = options.store ?? openSqliteStore({ path: ':memory:' });
  const app = await buildApp({ ...options, store });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  return { app, store };
}

export async function put(app: LocusApp, body: unknown, contentType = 'application/json') {
  return app.inject({
    method: 'PUT',
    url: '/location',
    headers: { 'content-type': contentType },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** `base` with some of its methods replaced; every other call goes to `base`. */
export function wrapStore(base: Store, overrides: Partial<Store>): Store {
  return {
    ingest: (points) => base.ingest(points),
    users: (page) => base.users(page),
    user: (userId) => base.user(userId),
    changedUsers: (since) => base.changedUsers(since),
    minutes: (...args) => base.minutes(...args),
    track: (...args) => base.track(...args),
    pruneDedupeKeys: (beforeMs) => base.pruneDedupeKeys(beforeMs),
    health: () => base.health(),
    close: () => base.close(),
    tokens: base.tokens,
    ...overrides,
  };
}

/** A store whose ingest fails with the given error, to test how failures are answered. */
export function failingStore(base: Store, error: () => Error): Store {
  return wrapStore(base, {
    ingest: () => Promise.reject(error()),
    health: () => Promise.reject(error()),
  });
}

/** A user's minutes as the read API answers them; none for a user it does not know. */
export async function minutesOf(app: LocusApp, userId: string) {
  const response = await app.inject(`/users/${encodeURIComponent(userId)}/locations`);
  return response.statusCode === 404
    ? []
    : response.json<{ locations: Array<Record<string, unknown>> }>().locations;
}

/** Ten minutes of a1 (18:00Z to 18:09Z), two points each, and one minute of b2 (18:05Z). */
export async function seed(app: LocusApp): Promise<void> {
  for (let minute = 0; minute < 10; minute++) {
    for (const second of ['05', '35']) {
      const timestamp = `2017-01-01 13:${String(minute).padStart(2, '0')}:${second}`;
      assert.equal((await put(app, { ...VALID_POINT, timestamp })).statusCode, 200);
    }
  }
  await put(app, { ...VALID_POINT, user_id: 'b2' });
}

/** A store whose commits wait until `release` is called: points pile up in the group commit's queue. */
export function stalledStore(base: Store): { store: Store; release: () => void; commits: () => number } {
  let release = () => {};
  let commits = 0;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const ingest: Store['ingest'] = (points) => {
    commits++;
    return gate.then(() => base.ingest(points));
  };
  const store = new Proxy(base, {
    get: (target, property) => {
      if (property === 'ingest') return ingest;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store, release, commits: () => commits };
}

/** Resolves once `condition` holds, checking every 5 ms: waits on an event the test cannot await directly. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}
