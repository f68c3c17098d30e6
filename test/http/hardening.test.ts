import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { DEFAULT_OVERLOAD_LIMITS } from '../../src/http/plugins/overload.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { build, minutesOf, put, stalledStore, until } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { assertProblem } from '../support/problem.js';

// Long enough for the delay histogram to get samples: one without any reads as an unmeasurable (infinite) delay.
const QUICK_SAMPLES = { maxPendingPoints: 100_000, maxEventLoopDelayMs: 50, sampleIntervalMs: 100 };

function point(second: number) {
  return { ...VALID_POINT, timestamp: `2017-01-01 13:05:${String(second).padStart(2, '0')}` };
}

test('ingest is refused with 503 and Retry-After while too many points wait for a commit', async (t) => {
  const base = openSqliteStore({ path: ':memory:' });
  const { store, release, commits } = stalledStore(base);
  const committer = new GroupCommitter(store);
  const { app } = await build(t, {
    store,
    committer,
    overload: { ...DEFAULT_OVERLOAD_LIMITS, maxPendingPoints: 3 },
  });

  // The first request's point goes to the stalled transaction; the next four queue behind it.
  const inFlight = [put(app, point(0))];
  await until(() => commits() === 1);
  inFlight.push(...[1, 2, 3, 4].map((s) => put(app, point(s))));
  await until(() => committer.pending === 4);

  const shed = await put(app, point(5));
  assertProblem(shed, 503, 'overloaded');
  assert.equal(shed.headers['retry-after'], '2');
  // Reads are not ingest: they still work.
  assert.equal((await app.inject('/users')).statusCode, 200);

  release();
  for (const response of await Promise.all(inFlight)) assert.equal(response.statusCode, 200);
  // The refused point was not stored; once the queue has drained it is taken.
  assert.equal((await minutesOf(app, 'a1'))[0]?.samples, 5);
  assert.equal((await put(app, point(5))).statusCode, 200);
  assert.equal((await minutesOf(app, 'a1'))[0]?.samples, 6);
});

test('while the event loop lags, everything but /healthz is refused with 503', async (t) => {
  const { app } = await build(t, { overload: QUICK_SAMPLES });
  await app.ready();
  // Keep the loop lagging (a 90 ms block every 100 ms) until shedding is seen; sampling decides when.
  const blocker = setInterval(() => {
    const until = Date.now() + 90;
    while (Date.now() < until);
  }, 100);
  t.after(() => clearInterval(blocker));
  // Each attempt is a new point, so that every 200 before the shedding starts is `stored`.
  let attempt = 0;
  let shed = await put(app, point(attempt));
  while (shed.statusCode === 200) {
    assert.equal(shed.json<{ status: string }>().status, 'stored');
    await sleep(50);
    shed = await put(app, point(++attempt % 60));
  }
  assertProblem(shed, 503, 'overloaded');
  assert.equal(shed.headers['retry-after'], '2');
  assert.equal((await app.inject('/healthz')).statusCode, 200);
  assert.equal((await app.inject('/users')).statusCode, 503);

  // Once the loop is quiet again the samples say so, and the refused point, never stored, is taken as new.
  clearInterval(blocker);
  const refused = point(attempt % 60);
  let retried = await put(app, refused);
  while (retried.statusCode === 503) {
    await sleep(QUICK_SAMPLES.sampleIntervalMs);
    retried = await put(app, refused);
  }
  assert.equal(retried.statusCode, 200);
  assert.equal(retried.json<{ status: string }>().status, 'stored');
});

async function listening(app: Awaited<ReturnType<typeof build>>['app']): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

/** Everything the server sends on the socket until it closes it. */
function untilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => resolve(received));
    socket.on('close', () => resolve(received));
  });
}

const SHORT_TIMEOUTS = {
  headersMs: 200,
  requestMs: 300,
  keepAliveMs: 5_000,
  idleSocketMs: 10_000,
  checkIntervalMs: 50,
};

test('a client that never finishes its headers is cut off (slowloris)', async (t) => {
  const { app } = await build(t, { timeouts: SHORT_TIMEOUTS });
  const socket = connect(await listening(app), '127.0.0.1');
  socket.write('PUT /location HTTP/1.1\r\nHost: locus\r\nContent-Type: application/json\r\n');
  const answer = await untilClosed(socket);
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

test('a body that stops half way is cut off, and nothing of it is stored', async (t) => {
  const { app } = await build(t, { timeouts: SHORT_TIMEOUTS });
  const socket = connect(await listening(app), '127.0.0.1');
  const body = JSON.stringify(VALID_POINT);
  socket.write(
    `PUT /location HTTP/1.1\r\nHost: locus\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
  );
  const answer = await untilClosed(socket);
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.deepEqual(await minutesOf(app, 'a1'), []);
});

test('answers to browsers carry security headers; the dashboard keeps its own content security policy', async (t) => {
  const { app } = await build(t);
  const api = await app.inject('/users');
  assert.equal(api.headers['x-content-type-options'], 'nosniff');
  assert.equal(api.headers['x-frame-options'], 'SAMEORIGIN');
  assert.equal(api.headers['strict-transport-security'], undefined);
  // Ingest answers go to apps, not browsers: no headers to set there.
  assert.equal((await put(app, VALID_POINT)).headers['x-frame-options'], undefined);
  const missing = await app.inject('/no-such-page');
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers['x-content-type-options'], 'nosniff');
  const page = await app.inject('/');
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
});

test('CORS is closed unless origins are configured', async (t) => {
  const { app } = await build(t);
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/location',
    headers: { origin: 'https://app.example.org', 'access-control-request-method': 'PUT' },
  });
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  const read = await app.inject({ url: '/users', headers: { origin: 'https://app.example.org' } });
  assert.equal(read.headers['access-control-allow-origin'], undefined);
});

test('configured origins, and only they, may call the API from a browser', async (t) => {
  const { app } = await build(t, { corsOrigins: ['https://app.example.org'] });
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/location',
    headers: {
      origin: 'https://app.example.org',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type,authorization',
    },
  });
  assert.equal(preflight.statusCode, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.org');
  assert.match(String(preflight.headers['access-control-allow-methods']), /PUT/);
  assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);

  const other = await app.inject({ url: '/users', headers: { origin: 'https://evil.example.com' } });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
});
