import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { LocusApp } from '../../src/http/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { build, put, wrapStore } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { issueToken } from '../support/tokens.js';

interface UsersEvent {
  users: Array<{ user_id: string; samples: number }>;
}

/** The events of a stream as they come: their names, and the bodies of `users` events. */
class EventReader {
  readonly names: string[] = [];
  readonly users: UsersEvent[] = [];
  #buffer = '';
  #waiters: Array<() => void> = [];

  constructor(response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.#take(chunk));
  }

  /** Resolves once `test` holds for what has come. */
  until(test: (reader: EventReader) => boolean): Promise<void> {
    if (test(this)) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!test(this)) return;
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve();
      };
      this.#waiters.push(check);
    });
  }

  #take(chunk: string): void {
    this.#buffer += chunk;
    let end;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      if (!name) continue;
      this.names.push(name);
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name === 'users' && data) this.users.push(JSON.parse(data) as UsersEvent);
    }
    for (const waiter of [...this.#waiters]) waiter();
  }
}

async function listen(app: LocusApp): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

function open(port: number, path = '/events'): Promise<IncomingMessage> {
  return new Promise((resolve) => get({ port, host: '127.0.0.1', path }, resolve));
}

/** Reads a refused stream's problem document. */
async function problemOf(response: IncomingMessage): Promise<{ status: number; type: string }> {
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) body += chunk as string;
  return JSON.parse(body) as { status: number; type: string };
}

async function userToken(store: Store, userId: string | null): Promise<string> {
  return (await issueToken(store, userId)).token;
}

describe('GET /events', () => {
  it('says ready without reading the users, then sends only the users that changed', async (t) => {
    const { app } = await build(t, { dashboard: { liveIntervalMs: 20 } });
    await put(app, VALID_POINT);
    await put(app, { ...VALID_POINT, user_id: 'b2' });
    const response = await open(await listen(app));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
    const events = new EventReader(response);
    await events.until((e) => e.names.includes('ready'));
    assert.equal(events.users.length, 0, 'no user list on connect: the page loads it from GET /users');
    await put(app, { ...VALID_POINT, timestamp: '2017-01-01 13:06:00' });
    await events.until((e) => e.users.length > 0);
    const changed = (events.users[0]?.users ?? []).map((u): [string, number] => [u.user_id, u.samples]);
    assert.deepEqual(changed, [['a1', 2]], 'only a1 changed; b2 is not sent again');
    const ended = new Promise((resolve) => response.on('end', resolve));
    await app.close(); // would hang if the open stream kept the server waiting
    await ended;
  });

  it('sends a user token only its own user; an admin token every changed user', async (t) => {
    const { app, store } = await build(t, { auth: { required: true }, dashboard: { liveIntervalMs: 20 } });
    const admin = await userToken(store, null);
    const a1 = await userToken(store, 'a1');
    const port = await listen(app);
    const own = new EventReader(await open(port, `/events?token=${a1}`));
    const all = new EventReader(await open(port, `/events?token=${admin}`));
    await own.until((e) => e.names.includes('ready'));
    await all.until((e) => e.names.includes('ready'));
    // One transaction for both users, so a single poll finds them together.
    await store.ingest([
      { userId: 'a1', tsMs: Date.UTC(2017, 0, 1, 18), lat: 1, long: 2, accuracy: null, speed: null },
      { userId: 'b2', tsMs: Date.UTC(2017, 0, 1, 18), lat: 1, long: 2, accuracy: null, speed: null },
    ]);
    await all.until((e) => e.users.length > 0);
    await own.until((e) => e.users.length > 0);
    assert.deepEqual(
      all.users[0]?.users.map((u) => u.user_id),
      ['a1', 'b2'],
    );
    assert.deepEqual(
      own.users.flatMap((e) => e.users.map((u) => u.user_id)),
      ['a1'],
    );
  });

  it('reads the store once for many streams opening together, not once per stream', async (t) => {
    const base = openSqliteStore({ path: ':memory:' });
    const calls: Array<string | null> = [];
    const store = wrapStore(base, {
      changedUsers: (since) => {
        calls.push(since);
        return base.changedUsers(since);
      },
    });
    const { app } = await build(t, { store, dashboard: { liveIntervalMs: 60_000 } });
    const port = await listen(app);
    const streams = await Promise.all(Array.from({ length: 20 }, () => open(port)));
    await Promise.all(streams.map((s) => new EventReader(s).until((e) => e.names.includes('ready'))));
    assert.deepEqual(calls, [null], 'one marker read for twenty streams, and no poll yet');
    for (const stream of streams) stream.destroy();
  });

  it('answers 429 problem+json past the streams of one token, and 503 past the streams in all', async (t) => {
    const { app, store } = await build(t, {
      auth: { required: true },
      dashboard: { maxFeedsPerToken: 2, maxFeeds: 3 },
    });
    const [one, two] = [await userToken(store, 'a1'), await userToken(store, 'b2')];
    const port = await listen(app);
    const opened = [await open(port, `/events?token=${one}`), await open(port, `/events?token=${one}`)];
    assert.deepEqual(
      opened.map((r) => r.statusCode),
      [200, 200],
    );
    const third = await open(port, `/events?token=${one}`);
    assert.equal(third.statusCode, 429);
    assert.equal(third.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.ok(Number(third.headers['retry-after']) > 0);
    assert.equal((await problemOf(third)).type, '/problems/too-many-feeds');
    opened.push(await open(port, `/events?token=${two}`));
    const full = await open(port, `/events?token=${two}`);
    assert.equal(full.statusCode, 503);
    assert.equal((await problemOf(full)).type, '/problems/feeds-full');
    // A closed stream frees its place.
    const closed = new Promise((resolve) => opened[0]?.once('close', resolve));
    opened[0]?.destroy();
    await closed;
    let again = await open(port, `/events?token=${one}`);
    // The server sees the close a moment after the client: ask until the place is free.
    while (again.statusCode !== 200) {
      again.resume();
      again = await open(port, `/events?token=${one}`);
    }
    assert.equal(again.statusCode, 200);
    for (const stream of [...opened, again]) stream.destroy();
  });
});
