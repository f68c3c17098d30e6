/*
 * What Locus answers when it refuses work: during shutdown (requests on kept-alive connections), and what its
 * "shedding load" line says.
 */
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { stalledStore, until } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';

/** The HTTP responses in `raw`, in order: status, headers (lower-case names) and body. */
function responses(raw: string): Array<{ status: number; headers: Record<string, string>; body: string }> {
  const found = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    found.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.slice(headEnd + 4 + length);
  }
  return found;
}

test('during shutdown, a request on a kept-alive connection gets a problem with Retry-After', async () => {
  const base = openSqliteStore({ path: ':memory:' });
  const { store, release, commits } = stalledStore(base);
  const app = await buildApp({ store, committer: new GroupCommitter(store) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;

  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  const body = JSON.stringify(VALID_POINT);
  socket.write(
    `PUT /location HTTP/1.1\r\nHost: locus\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
  );
  // The PUT waits for its commit; shutdown starts meanwhile, and the client sends its next request.
  await until(() => commits() === 1);
  const closing = app.close();
  await until(() => !app.server.listening);
  socket.write('GET /users HTTP/1.1\r\nHost: locus\r\n\r\n');
  release();
  await closed;
  await closing;
  await store.close();

  const [stored, refused] = responses(received);
  assert.equal(stored?.status, 200, received);
  assert.equal(refused?.status, 503, received);
  assert.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(refused.headers['retry-after'], '2');
  assert.equal(refused.headers.connection, 'close');
  const problem = JSON.parse(refused.body) as { type: string; status: number; detail: string };
  assert.equal(problem.type, '/problems/not-ready');
  assert.equal(problem.status, 503);
  assert.match(problem.detail, /shutting down/);
});

test('the "shedding load" line gives the event-loop delay as a number of milliseconds', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const store = openSqliteStore({ path: ':memory:' });
  const app = await buildApp({
    store,
    logger: { level: 'warn', stream },
    overload: { maxPendingPoints: 100_000, maxEventLoopDelayMs: 50, sampleIntervalMs: 100 },
  });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  await app.ready();
  // The loop is blocked for longer than a whole sample, several times: a sample in which the delay histogram
  // could record nothing must still measure the delay.
  for (let round = 0; round < 5; round++) {
    const until = Date.now() + 300;
    while (Date.now() < until);
    await app.inject('/users');
    await sleep(1);
  }
  const shed = lines.filter((line) => line.msg === 'shedding load');
  assert.ok(shed.length > 0, 'load was shed');
  for (const line of shed) {
    assert.equal(typeof line.eventLoopDelayMs, 'number', JSON.stringify(line));
    assert.ok((line.eventLoopDelayMs as number) > 50, JSON.stringify(line));
  }
});
