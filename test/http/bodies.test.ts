/*
 * Hostile bodies: nesting that would make the JSON parser build millions of arrays, too many values, too many
 * large bodies at once; and what a 413 says on every ingest route.
 */
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { jsonShapeProblem } from '../../src/ingest/json-shape.js';
import { LARGE_BODY_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES } from '../../src/ingest/limits.js';
import type { LocusApp } from '../../src/http/types.js';
import { DEFAULT_OVERLOAD_LIMITS } from '../../src/http/plugins/overload.js';
import { build } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { assertProblem } from '../support/problem.js';
import { allUsers } from '../support/users.js';

const MB = 1024 * 1024;

/** `depth` arrays nested in one another, `bytes` long at most (8 MB: four million levels). */
function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Every JSON body Locus parses: route, method, media type, and how large a body it takes. */
const JSON_ROUTES = [
  { method: 'PUT', url: '/location', type: 'application/json', limit: 64 * 1024 },
  { method: 'POST', url: '/locations', type: 'application/json', limit: 8 * MB },
  { method: 'POST', url: '/overland', type: 'application/json', limit: 8 * MB },
  { method: 'POST', url: '/owntracks', type: 'application/json', limit: MB },
  { method: 'POST', url: '/pub', type: 'application/json', limit: MB },
] as const;

function send(app: LocusApp, method: string, url: string, type: string, payload: string) {
  return app.inject({ method: method as 'PUT', url, headers: { 'content-type': type }, payload });
}

describe('nesting and values', () => {
  it('the byte scan finds depth and values outside strings only', () => {
    assert.equal(jsonShapeProblem(Buffer.from(nested(MAX_JSON_DEPTH))), null);
    assert.match(String(jsonShapeProblem(Buffer.from(nested(MAX_JSON_DEPTH + 1)))), /deeper than 64 levels/);
    // Brackets and quotes inside strings are text, escaped quotes included.
    const inString = JSON.stringify({ a: `"${'['.repeat(1000)}\\"[[[` });
    assert.equal(jsonShapeProblem(Buffer.from(inString)), null);
    assert.equal(
      jsonShapeProblem(Buffer.from(`[${'0,'.repeat(10)}0]`), { maxDepth: 64, maxValues: 10 }),
      'holds more than 10 values',
    );
  });

  for (const route of JSON_ROUTES) {
    it(`${route.method} ${route.url}: a body nested far too deep is 400 malformed-body, naming the limit`, async (t) => {
      const { app, store } = await build(t);
      // As deep as the route's limit allows: four million levels for a batch.
      const depth = Math.floor((route.limit - 16) / 2);
      const heapBefore = process.memoryUsage().heapUsed;
      const response = await send(app, route.method, route.url, route.type, nested(depth));
      const problem = assertProblem(response, 400, 'malformed-body', ['body']);
      assert.match(problem.detail, /deeper than 64 levels/);
      assert.match(problem.errors?.[0]?.message ?? '', /deeper than 64 levels/);
      assert.ok(
        process.memoryUsage().heapUsed - heapBefore < 200 * MB,
        'the heap did not grow by the nesting',
      );
      assert.deepEqual(await allUsers(store), []);
    });
  }

  it('POST /locations NDJSON: a line nested too deep is a rejected item naming the limit', async (t) => {
    const { app, store } = await build(t);
    const payload = `${JSON.stringify(VALID_POINT)}\n${nested(30_000)}\n`;
    const response = await send(app, 'POST', '/locations', 'application/x-ndjson', payload);
    assert.equal(response.statusCode, 200, response.body);
    type Answer = { stored: number; rejected: number; errors: Array<{ errors: Array<{ message: string }> }> };
    const answer = response.json<Answer>();
    assert.equal(answer.stored, 1);
    assert.equal(answer.rejected, 1);
    assert.match(answer.errors[0]?.errors[0]?.message ?? '', /deeper than 64 levels/);
    assert.equal((await allUsers(store)).length, 1);
  });

  it('twenty-four 8 MB nested bodies at once are refused without exhausting the heap', async (t) => {
    const { app } = await build(t, { overload: { ...DEFAULT_OVERLOAD_LIMITS, maxLargeBodies: 24 } });
    const body = nested(4 * MB - 8);
    const heapBefore = process.memoryUsage().heapUsed;
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        send(app, 'POST', i % 2 ? '/overland' : '/locations', 'application/json', body),
      ),
    );
    for (const response of answers) assertProblem(response, 400, 'malformed-body');
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 200 * MB, 'the heap stayed bounded');
  });

  it(`a batch of more than ${MAX_JSON_VALUES} values is refused before it is parsed`, async (t) => {
    const { app } = await build(t);
    const response = await send(
      app,
      'POST',
      '/locations',
      'application/json',
      `[${'0,'.repeat(MAX_JSON_VALUES)}0]`,
    );
    const problem = assertProblem(response, 400, 'malformed-body', ['body']);
    assert.match(problem.detail, new RegExp(`more than ${MAX_JSON_VALUES} values`));
  });
});

/** A request whose headers and first part of the body are sent, the rest held back until `finish`. */
function heldUpload(
  port: number,
  url: string,
  length: number | null,
): { socket: Socket; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => {});
  const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  const framing = length === null ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`;
  socket.write(`POST ${url} HTTP/1.1\r\nHost: locus\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`);
  return { socket, answer };
}

describe('large bodies at once', () => {
  it('beyond the bound, a large body is answered 503 overloaded before it is read; a slot frees once one ends', async (t) => {
    const { app } = await build(t, { overload: { ...DEFAULT_OVERLOAD_LIMITS, maxLargeBodies: 2 } });
    // Runs after the bound's own hook, so only for bodies that got a slot.
    let admitted = 0;
    let onAdmit = () => {};
    app.addHook('preParsing', (_request, _reply, payload, done) => {
      admitted++;
      onAdmit();
      done(null, payload);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const admittedCount = (n: number) =>
      new Promise<void>((resolve) => {
        onAdmit = () => admitted >= n && resolve();
        onAdmit();
      });

    const length = 2 * MB;
    const first = heldUpload(port, '/locations', length);
    const second = heldUpload(port, '/overland', length);
    await admittedCount(2);

    // A third with a Content-Length: refused at once, its body unread.
    const third = heldUpload(port, '/locations', length);
    const refused = await third.answer;
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /retry-after: 2/i);
    assert.match(refused, /"type":"\/problems\/overloaded"/);
    // One without a Content-Length is refused once it passes LARGE_BODY_BYTES.
    const chunked = heldUpload(port, '/locations', null);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let sent = 0; sent <= LARGE_BODY_BYTES; sent += chunk.length) {
      chunked.socket.write(`${chunk.length.toString(16)}\r\n`);
      chunked.socket.write(chunk);
      chunked.socket.write('\r\n');
    }
    const refusedChunked = await chunked.answer;
    assert.match(refusedChunked, /^HTTP\/1\.1 503 /);
    assert.match(refusedChunked, /"type":"\/problems\/overloaded"/);

    // The first ends (a body that is not a batch: answered 400), and its slot is free for the next.
    first.socket.end(`[${' '.repeat(length - 2)}]`.replace(/^\[ /, '[1'));
    assert.match(await first.answer.catch(() => ''), /^HTTP\/1\.1 (400|200) /);
    const fourth = heldUpload(port, '/overland', length);
    await admittedCount(3);
    fourth.socket.destroy();
    second.socket.destroy();
  });
});

describe('413 says the limit', () => {
  for (const route of [
    ...JSON_ROUTES,
    { method: 'POST', url: '/locations', type: 'application/x-ndjson', limit: 8 * MB },
    { method: 'POST', url: '/osmand', type: 'application/x-www-form-urlencoded', limit: 64 * 1024 },
  ]) {
    it(`${route.method} ${route.url} (${route.type})`, async (t) => {
      const { app } = await build(t);
      const payload = `${'x'.repeat(route.limit)}y`;
      const response = await send(app, route.method, route.url, route.type, payload);
      const { detail } = assertProblem(response, 413, 'body-too-large');
      const size = route.limit >= MB ? `${route.limit / MB} MiB` : `${route.limit / 1024} KiB`;
      assert.ok(detail.includes(size), detail);
      assert.ok(detail.includes(`${route.method} ${route.url}`), detail);
      if (route.limit === 64 * 1024) assert.match(detail, /POST \/locations/);
      if (route.limit === 8 * MB) assert.match(detail, /10000 points/);
    });
  }
});
