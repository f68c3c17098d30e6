/*
 * Every ingest route under random and hostile requests: each answer is 200 or a 4xx problem (never a 5xx, never a
 * hang), and the store changes by exactly what the answer says was stored. test/http/fuzz.test.ts checks the sums of
 * PUT /location in depth; this file covers breadth: all routes, media types, encodings, sizes, cut bodies.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import type { LocusApp } from '../../src/http/types.js';
import { composePoint } from '../../src/ingest/compose.js';
import type { Point } from '../../src/ingest/point.js';
import type { Store } from '../../src/store/store.js';
import {
  abandonedRequest,
  assertAnswered,
  bigString,
  chunk,
  HOSTILE_JSON,
  INVALID_UTF8,
  totalSamples,
  tracePoints,
  withBytes,
} from '../support/hostile.js';
import { build, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { allUsers } from '../support/users.js';

const ROWS = tracePoints(400);
const POINTS: Point[] = ROWS.map((row) => {
  const prepared = composePoint(row, { rules: 'put' });
  assert.ok(prepared.ok);
  return prepared.value;
});

/** A request as the fuzzer builds it. */
interface Attempt {
  method: 'PUT' | 'POST' | 'GET';
  url: string;
  contentType?: string;
  payload?: string | Buffer;
  headers?: Record<string, string>;
}

/** How many points an answer says it stored; null when the answer does not say (OwnTracks answers `[]`). */
type StoredCount = (statusCode: number, body: string) => number | null;

const storedOne: StoredCount = (status, body) =>
  status === 200 && (JSON.parse(body) as { status: string }).status === 'stored' ? 1 : 0;
const storedField: StoredCount = (status, body) =>
  status === 200 ? (JSON.parse(body) as { stored: number }).stored : 0;
const ownTracksStored: StoredCount = (status) => (status === 200 ? null : 0);

// ---- bodies of each format, built from the generator's points --------------------------------------------------

const anyRow = fc.constantFrom(...ROWS);
const anyPoint = fc.constantFrom(...POINTS);

function ownTracksMessage(p: Point) {
  return {
    _type: 'location',
    tst: Math.floor(p.tsMs / 1000),
    lat: p.lat,
    lon: p.long,
    acc: p.accuracy ?? undefined,
    vel: p.speed === null ? undefined : p.speed * 3.6,
    topic: `owntracks/${p.userId}/phone`,
  };
}

function overlandFeature(p: Point) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [p.long, p.lat] },
    properties: {
      timestamp: new Date(p.tsMs).toISOString(),
      horizontal_accuracy: p.accuracy ?? undefined,
      speed: p.speed ?? -1,
      device_id: p.userId,
    },
  };
}

/** Format and bidi characters (Unicode category Cf), which no user id may hold: invisible, or reordering text. */
const FORMAT_CHARACTERS = [
  '\u00ad',
  '\u061c',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2060',
  '\u2066',
  '\u2069',
  '\ufeff',
];

/** Text that breaks a user-id rule by what it holds (`.`, `..`, a format character), or a decomposed valid id. */
const hostileUserId = fc.oneof(
  fc.constantFrom('.', '..', 'alice\u200b', 'evil\u202Egpj.exe', '\u2066x\u2069', '\ufeffa', 'A\u0308lice'),
  fc
    .tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...FORMAT_CHARACTERS), fc.string({ maxLength: 4 }))
    .map(([before, format, after]) => before + format + after),
);

/** A value that is subtly or grossly wrong for any field. */
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, '', '40.7', 'NaN', [], {}, -0, 1e308, -1e308, 2 ** 53 + 2, Number.MIN_VALUE),
  hostileUserId,
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** An object with some fields replaced by wrong values, some dropped, some hostile keys added. */
function damaged(object: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(object);
  return fc
    .record({
      broken: fc.dictionary(fc.constantFrom(...keys), wrongValue, { maxKeys: 2 }),
      dropped: fc.subarray(keys, { maxLength: 2 }),
      extra: fc.dictionary(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'x'),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 2 },
      ),
    })
    .map(({ broken, dropped, extra }) => {
      const out: Record<string, unknown> = { ...object };
      for (const key of dropped) delete out[key];
      // defineProperty, so that `__proto__` becomes an own key of the JSON text, as an attacker would send it.
      for (const [key, value] of Object.entries({ ...extra, ...broken })) {
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return out;
    });
}

/** Turns a value into request text: as JSON, cut short, with a key repeated, or mangled. */
function asText(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return value.chain((v) => {
    const text = JSON.stringify(v) ?? '';
    return fc.oneof(
      { weight: 5, arbitrary: fc.constant(text) },
      fc.nat(text.length).map((cut) => text.slice(0, cut)),
      // The same key twice: JSON.parse keeps the last; the answer must agree with what was stored.
      fc.constant(text.startsWith('{"') ? `{"user_id":"dup",${text.slice(1)}` : text),
      fc.constant(text.replace(/:(-?\d+(\.\d+)?)/, ':1e309')),
      fc.constant(text.replace(/"[^"]*"/, '"\\ud800"')),
    );
  });
}

const hostileText = fc.constantFrom(...HOSTILE_JSON.map(([, text]) => text));

/** Content types: mostly the right one, sometimes wrong, absent or odd. */
function contentType(right: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(right) },
    fc.constantFrom(
      undefined,
      '',
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'application/x-ndjson',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/vnd.locus+json',
      'application/problem+json',
      'application/jsonx',
      ';;;',
      'application/json, text/plain',
    ),
  );
}

/** A body of the route's format, usually right, often damaged, sometimes hostile, sometimes not UTF-8. */
function payloadOf(good: fc.Arbitrary<unknown>, damagedValue: fc.Arbitrary<unknown>) {
  const text = fc.oneof(
    { weight: 4, arbitrary: good.map((v) => JSON.stringify(v)) },
    { weight: 4, arbitrary: asText(damagedValue) },
    { weight: 2, arbitrary: hostileText },
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  return fc.oneof(
    { weight: 9, arbitrary: text },
    fc.tuple(text, fc.constantFrom(...INVALID_UTF8)).map(([t, bytes]) => withBytes(t, bytes)),
  );
}

const putLocation = fc.record({
  method: fc.constant('PUT' as const),
  url: fc.constant('/location'),
  contentType: contentType('application/json'),
  payload: payloadOf(
    anyRow,
    anyRow.chain((row) => damaged({ ...row })),
  ),
});

const batchItem = fc.oneof(
  { weight: 3, arbitrary: anyRow },
  anyRow.chain((row) => damaged({ ...row })),
  wrongValue,
);

const postArray = fc.record({
  method: fc.constant('POST' as const),
  url: fc.constant('/locations'),
  contentType: contentType('application/json'),
  payload: payloadOf(
    fc.array(anyRow, { maxLength: 6 }),
    fc.oneof(
      fc.array(batchItem, { maxLength: 6 }),
      anyRow.chain((row) => damaged({ ...row })),
    ),
  ),
});

const ndjsonLine = fc.oneof(
  { weight: 3, arbitrary: anyRow.map((row) => JSON.stringify(row)) },
  asText(batchItem),
  hostileText,
  fc.constantFrom('', '   ', '\r'),
);

const postNdjson = fc.record({
  method: fc.constant('POST' as const),
  url: fc.constant('/locations'),
  contentType: contentType('application/x-ndjson'),
  payload: fc.oneof(
    { weight: 4, arbitrary: fc.array(ndjsonLine, { maxLength: 6 }).map((lines) => lines.join('\n')) },
    fc
      .tuple(fc.array(ndjsonLine, { minLength: 1, maxLength: 4 }), fc.constantFrom(...INVALID_UTF8))
      .map(([lines, bytes]) => withBytes(lines.join('\n'), bytes)),
    fc.constantFrom('\n\n\n', '\r\n', '\u2028'),
  ),
});

const ownTracksUser = fc.oneof(
  fc.constantFrom('alice', 'bob', '', ' ', '\u0000', 'x'.repeat(129), '\ud83d\ude00'),
  hostileUserId,
);

function postOwnTracks(path: '/owntracks' | '/pub') {
  const message = anyPoint.map(ownTracksMessage);
  return fc.record({
    method: fc.constant('POST' as const),
    url: fc.constant(path),
    contentType: contentType('application/json'),
    payload: payloadOf(
      message,
      message.chain((m) => damaged({ ...m })),
    ),
    headers: fc.oneof(
      fc.constant({}),
      ownTracksUser.map((u) => ({ 'x-limit-u': encodeURIComponent(u), 'x-limit-d': 'phone' })),
      ownTracksUser.map((u) => ({ authorization: `Basic ${Buffer.from(`${u}:pw`).toString('base64')}` })),
      fc.constantFrom({ authorization: 'Basic !!!' }, { authorization: 'Bearer x' }),
    ),
  });
}

const overlandBody = fc.array(anyPoint.map(overlandFeature), { maxLength: 5 }).map((locations) => ({
  locations,
}));
const damagedOverland = fc
  .array(
    fc.oneof(
      anyPoint.map(overlandFeature),
      anyPoint.chain((p) => damaged(overlandFeature(p))),
      anyPoint.chain((p) => {
        const f = overlandFeature(p);
        return damaged(f.properties).map((properties) => ({ ...f, properties }));
      }),
      wrongValue,
    ),
    { maxLength: 5 },
  )
  .chain((locations) => damaged({ locations, current: null, trip: {} }));

const postOverland = fc.record({
  method: fc.constant('POST' as const),
  url: fc.constantFrom(
    '/overland',
    '/overland?user=carol',
    '/overland?user=%00',
    '/overland?user=',
    '/overland?user=a&user=b',
    '/overland?user=..',
    '/overland?user=a%E2%80%8B',
    '/overland?user=%E2%80%AEa',
    '/overland?user=A%CC%88',
  ),
  contentType: contentType('application/json'),
  payload: payloadOf(overlandBody, damagedOverland),
});

const OSMAND_NAMES = [
  'id',
  'deviceid',
  'lat',
  'lon',
  'long',
  'timestamp',
  'speed',
  'spd',
  'accuracy',
  'acc',
  'hdop',
  '__proto__',
  'constructor',
  'id[]',
];

function osmandParams(p: Point): Record<string, string> {
  return {
    id: p.userId,
    lat: String(p.lat),
    lon: String(p.long),
    timestamp: String(p.tsMs),
    hdop: String(p.accuracy ?? ''),
    speed: String(p.speed ?? ''),
  };
}

const osmandValue = fc.oneof(
  fc.constantFrom(
    '',
    '1e309',
    '-0',
    'NaN',
    'Infinity',
    '9007199254740993',
    '0x10',
    ' 1',
    '1,5',
    '%',
    '%zz',
    '+',
  ),
  hostileUserId,
  fc.double().map(String),
  fc.string({ maxLength: 12 }),
);

/** A query string: the right parameters, with some broken, dropped, repeated or raw-percent-mangled. */
const osmandQuery = fc
  .tuple(
    anyPoint.map(osmandParams),
    fc.dictionary(fc.constantFrom(...OSMAND_NAMES), osmandValue, { maxKeys: 3 }),
    fc.subarray(['id', 'lat', 'lon', 'timestamp'], { maxLength: 2 }),
    fc.constantFrom('', '&id=again', '&&&', '&lat', '&%ff=1', '&id=%ff', '&id=%ED%A0%80', '&lat=%'),
  )
  .map(([good, broken, dropped, tail]) => {
    const params: Record<string, string> = { ...good, ...broken };
    for (const name of dropped) delete params[name];
    const encoded = Object.entries(params).map(
      ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`,
    );
    return encoded.join('&') + tail;
  });

const osmand = fc.oneof(
  osmandQuery.map((query): Attempt => ({ method: 'GET', url: `/osmand?${query}` })),
  fc
    .tuple(osmandQuery, contentType('application/x-www-form-urlencoded'))
    .map(([query, type]): Attempt => ({ method: 'POST', url: '/osmand', contentType: type, payload: query })),
  fc.tuple(anyPoint, hostileText).map(([p, text]): Attempt => ({
    method: 'POST',
    url: `/osmand?id=${encodeURIComponent(p.userId)}`,
    contentType: 'application/json',
    payload: text,
  })),
);

// ---- the property ---------------------------------------------------------------------------------------------

async function send(app: LocusApp, attempt: Attempt) {
  const headers: Record<string, string> = { ...attempt.headers };
  if (attempt.contentType !== undefined) headers['content-type'] = attempt.contentType;
  return app.inject({ method: attempt.method, url: attempt.url, headers, payload: attempt.payload });
}

function describeAttempt(attempt: Attempt): string {
  const payload = attempt.payload === undefined ? '' : String(attempt.payload).slice(0, 300);
  return `${attempt.method} ${attempt.url} [${attempt.contentType}] ${payload}`;
}

/**
 * Sends each attempt, then sends it again: every answer is 200 or a 4xx problem, the store grows by what the first
 * answer said was stored, and a resend stores nothing.
 */
async function fuzzRoute(
  t: TestContext,
  attempts: fc.Arbitrary<Attempt>,
  storedBy: StoredCount,
  numRuns = 200,
): Promise<number> {
  const { app, store } = await build(t);
  let storedTotal = 0;
  await fc.assert(
    fc.asyncProperty(attempts, async (attempt) => {
      const what = describeAttempt(attempt);
      const before = await totalSamples(store);
      const first = await send(app, attempt);
      assertAnswered(first, what);
      const grown = (await totalSamples(store)) - before;
      const said = storedBy(first.statusCode, first.body);
      if (said === null) assert.ok(grown === 0 || grown === 1, `${what}: grew by ${grown}`);
      else assert.equal(grown, said, `${what}: answered ${first.body}`);
      storedTotal += grown;

      const again = await send(app, attempt);
      assertAnswered(again, `${what} (again)`);
      assert.equal(await totalSamples(store), before + grown, `${what}: a resend stored something`);
    }),
    { numRuns, seed: 7007 },
  );
  return storedTotal;
}

describe('every ingest route under random and hostile bodies', () => {
  it('PUT /location', async (t) => {
    const stored = await fuzzRoute(t, putLocation, storedOne);
    assert.ok(stored > 20, `the generator should reach the store often, got ${stored}`);
  });

  it('POST /locations, JSON array', async (t) => {
    const stored = await fuzzRoute(t, postArray, storedField);
    assert.ok(stored > 20, `stored ${stored}`);
  });

  it('POST /locations, NDJSON', async (t) => {
    const stored = await fuzzRoute(t, postNdjson, storedField);
    assert.ok(stored > 20, `stored ${stored}`);
  });

  for (const path of ['/owntracks', '/pub'] as const) {
    it(`POST ${path} (OwnTracks HTTP)`, async (t) => {
      const stored = await fuzzRoute(t, postOwnTracks(path), ownTracksStored, 150);
      assert.ok(stored > 10, `stored ${stored}`);
    });
  }

  it('POST /overland', async (t) => {
    const stored = await fuzzRoute(t, postOverland, storedField);
    assert.ok(stored > 20, `stored ${stored}`);
  });

  it('GET and POST /osmand', async (t) => {
    const stored = await fuzzRoute(t, osmand, storedOne);
    assert.ok(stored > 10, `stored ${stored}`);
  });
});

// ---- explicit hostile cases -----------------------------------------------------------------------------------

interface IngestRoute {
  method: 'PUT' | 'POST';
  url: string;
  contentType: string;
  headers?: Record<string, string>;
}

const INGEST_ROUTES: IngestRoute[] = [
  { method: 'PUT', url: '/location', contentType: 'application/json' },
  { method: 'POST', url: '/locations', contentType: 'application/json' },
  { method: 'POST', url: '/locations', contentType: 'application/x-ndjson' },
  // The user comes from the message's topic, so that the tests below can give it any text.
  { method: 'POST', url: '/owntracks', contentType: 'application/json' },
  { method: 'POST', url: '/pub', contentType: 'application/json' },
  { method: 'POST', url: '/overland?user=carol', contentType: 'application/json' },
  { method: 'POST', url: '/osmand', contentType: 'application/x-www-form-urlencoded' },
];

function routeName(route: IngestRoute): string {
  return `${route.method} ${route.url} (${route.contentType})`;
}

function sendTo(app: LocusApp, route: IngestRoute, payload: string | Buffer, type = route.contentType) {
  return app.inject({
    method: route.method,
    url: route.url,
    headers: { ...route.headers, 'content-type': type },
    payload,
  });
}

/** One valid point in the route's own format, for the user `userId`. */
function validBodyFor(route: IngestRoute, userId: string): string {
  const p = { ...(POINTS[0] as Point), userId };
  if (route.url.startsWith('/owntracks') || route.url.startsWith('/pub'))
    return JSON.stringify({ ...ownTracksMessage(p), topic: `owntracks/${userId}/phone` });
  if (route.url.startsWith('/overland')) return JSON.stringify({ locations: [overlandFeature(p)] });
  if (route.url.startsWith('/osmand'))
    return new URLSearchParams({ ...osmandParams(p), id: userId }).toString();
  const row = JSON.stringify({ ...(ROWS[0] as (typeof ROWS)[number]), user_id: userId });
  return route.url === '/locations' && route.contentType === 'application/json' ? `[${row}]` : row;
}

describe('hostile bodies on every ingest route', () => {
  for (const route of INGEST_ROUTES) {
    it(`${routeName(route)}: parser-breaking JSON, in every media type, stores nothing`, async (t) => {
      const { app, store } = await build(t);
      for (const [name, text] of HOSTILE_JSON) {
        for (const type of [
          route.contentType,
          'application/json',
          'text/plain',
          'application/octet-stream',
        ]) {
          const response = await sendTo(app, route, text, type);
          assertAnswered(response, `${name} as ${type}`);
        }
      }
      assert.equal(await totalSamples(store), 0);
    });

    it(`${routeName(route)}: 10 MB bodies are refused whole`, async (t) => {
      const { app, store } = await build(t);
      const huge = bigString(10 * 1024 * 1024);
      const bodies: Array<[string, string]> = [
        ['a 10 MB user id', validBodyFor(route, huge)],
        ['a 10 MB string of junk', huge],
        ['a 10 MB JSON string', JSON.stringify(huge)],
      ];
      for (const [name, body] of bodies) {
        const response = await sendTo(app, route, body);
        assertAnswered(response, name);
        assert.equal(response.statusCode, 413, `${name}: ${response.body.slice(0, 200)}`);
      }
      assert.equal(await totalSamples(store), 0);
    });

    it(`${routeName(route)}: an empty body, and a body with no content type, store nothing`, async (t) => {
      const { app, store } = await build(t);
      for (const payload of ['', ' ']) {
        assertAnswered(await sendTo(app, route, payload), `empty ${JSON.stringify(payload)}`);
      }
      const untyped = await app.inject({
        method: route.method,
        url: route.url,
        headers: route.headers,
        payload: validBodyFor(route, 'untyped'),
      });
      assertAnswered(untyped, 'no content type');
      assert.equal(await totalSamples(store), 0);
    });

    it(`${routeName(route)}: a user id with a lone surrogate, a control, format or bidi character, or . or .., is refused`, async (t) => {
      const { app, store } = await build(t);
      // A URL cannot carry a lone surrogate except as bytes that are not UTF-8: see 'bytes that are not UTF-8'.
      const surrogates = route.url === '/osmand' ? [] : ['a\ud800', 'a\udc00b'];
      const formats = [
        'alice\u200b',
        'evil\u202Egpj.exe',
        '\u2066a\u2069',
        '\ufeffa',
        'a\u00ad',
        'a\u{e0041}',
      ];
      for (const userId of [
        ...surrogates,
        'a\u0000',
        'a\u0085',
        'a\u007f',
        'x'.repeat(129),
        ...formats,
        '.',
        '..',
      ]) {
        const response = await sendTo(app, route, validBodyFor(route, userId));
        assertAnswered(response, JSON.stringify(userId));
        // Overland skips a bad point and answers ok; it must still not store it.
        if (route.url.startsWith('/overland')) assert.equal(response.json<{ stored: number }>().stored, 0);
        else if (!route.url.startsWith('/locations') || route.contentType !== 'application/json')
          assert.ok(response.statusCode >= 400 || response.json<{ rejected?: number }>().rejected === 1);
      }
      assert.equal(await totalSamples(store), 0);
    });

    it(`${routeName(route)}: a user id is stored in NFC, one user for every Unicode form`, async (t) => {
      const { app, store } = await build(t);
      for (const userId of ['A\u0308lice', '\u00c4lice']) {
        const response = await sendTo(app, route, validBodyFor(route, userId));
        assert.equal(response.statusCode, 200, `${JSON.stringify(userId)}: ${response.body}`);
      }
      assert.deepEqual(
        (await allUsers(store)).map((u) => [u.userId, u.samples]),
        [['\u00c4lice', 1]],
      );
    });

    it(`${routeName(route)}: a valid body is stored, as a baseline for the cases above`, async (t) => {
      const { app, store } = await build(t);
      const response = await sendTo(app, route, validBodyFor(route, 'baseline'));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(await totalSamples(store), 1);
    });
  }

  it('duplicate keys: the stored point is the one JSON.parse reads (the last copy), and the answer says so', async (t) => {
    const { app, store } = await build(t);
    const text = JSON.stringify(VALID_POINT).replace('{', '{"user_id":"first","lat":91,');
    const response = await put(app, text);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json<{ user_id: string }>().user_id, VALID_POINT.user_id);
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      [VALID_POINT.user_id],
    );
  });

  it('huge, negative-zero and beyond-2^53 numbers are read as JSON numbers, range-checked, never wrapped', async (t) => {
    const { app, store } = await build(t);
    const cases: Array<[string, number]> = [
      ['1e309', 400],
      ['-1e309', 400],
      ['9007199254740993', 400],
      ['1' + '0'.repeat(400), 400],
      ['-0', 200],
      ['-0.0', 200],
      ['1e-400', 200],
    ];
    for (const [index, [number, status]] of cases.entries()) {
      const text = JSON.stringify({ ...VALID_POINT, user_id: `n${index}` }).replace(
        /"speed":[^,}]+/,
        `"speed":${number}`,
      );
      const response = await put(app, text);
      assertAnswered(response, number);
      assert.equal(response.statusCode, status, `${number}: ${response.body}`);
    }
    assert.equal(await totalSamples(store), 3);
  });

  it('__proto__ and constructor keys never reach the point (prototype poisoning)', async (t) => {
    const { app, store } = await build(t);
    const poisoned = [
      `{"__proto__":{"user_id":"mallory"},${JSON.stringify(VALID_POINT).slice(1)}`,
      `{"constructor":{"prototype":{"user_id":"mallory"}},${JSON.stringify(VALID_POINT).slice(1)}`,
    ];
    for (const text of poisoned) {
      const response = await put(app, text);
      assertAnswered(response, text);
      assert.equal(response.statusCode, 400, response.body);
    }
    const batch = await app.inject({
      method: 'POST',
      url: '/locations',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: poisoned.join('\n'),
    });
    assert.equal(batch.json<{ rejected: number }>().rejected, 2);
    assert.equal(await totalSamples(store), 0);
    assert.equal(({} as Record<string, unknown>).user_id, undefined, 'Object.prototype is untouched');
  });
});

describe('bytes that are not UTF-8', () => {
  it('NDJSON: a line that is not UTF-8 is a rejected item, not a point under a mangled user id', async (t) => {
    const { app, store } = await build(t);
    for (const bytes of INVALID_UTF8) {
      const response = await app.inject({
        method: 'POST',
        url: '/locations',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: withBytes(JSON.stringify(VALID_POINT), bytes),
      });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json<{ stored: number; rejected: number }>().rejected, 1);
    }
    assert.equal(await totalSamples(store), 0);
  });

  // A lenient decoder would turn "a\xff" and "a\xfe" both into "a\uFFFD": two senders merged into one user id
  // that neither sent. Bodies are decoded strictly (src/http/strict-body.ts).
  for (const route of INGEST_ROUTES.filter((r) => r.contentType === 'application/json')) {
    it(`${routeName(route)}: a body that is not UTF-8 is 400, not stored under U+FFFD`, async (t) => {
      const { app, store } = await build(t);
      for (const bytes of INVALID_UTF8) {
        const response = await sendTo(app, route, withBytes(validBodyFor(route, 'utf8'), bytes, 'utf8'));
        assertAnswered(response, `bytes ${bytes.join(',')}`);
        assert.equal(response.statusCode, 400, `bytes ${bytes.join(',')}: ${response.body}`);
      }
      assert.equal(await totalSamples(store), 0);
    });
  }

  it('OsmAnd: a percent-encoded user id that is not UTF-8 is 400, not stored under U+FFFD', async (t) => {
    const { app, store } = await build(t);
    const base = 'lat=40.701&lon=-73.916&timestamp=1483293912';
    for (const id of ['%ff', '%C3', '%ED%A0%80', 'a%80b']) {
      const get = await app.inject(`/osmand?id=${id}&${base}`);
      assert.equal(get.statusCode, 400, `GET id=${id}: ${get.body}`);
      const post = await app.inject({
        method: 'POST',
        url: '/osmand',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `id=${id}&${base}`,
      });
      assert.equal(post.statusCode, 400, `POST id=${id}: ${post.body}`);
    }
    assert.equal(await totalSamples(store), 0);
  });
});

// ---- bodies cut short on a real socket ------------------------------------------------------------------------

async function listening(t: TestContext): Promise<{ app: LocusApp; store: Store; port: number }> {
  const { app, store } = await build(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, store, port: (app.server.address() as AddressInfo).port };
}

async function openConnections(app: LocusApp): Promise<number> {
  return new Promise((resolve, reject) =>
    app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

/** Waits until the server has let go of every connection; the test's timeout bounds the wait. */
async function allClosed(app: LocusApp): Promise<void> {
  while ((await openConnections(app)) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Complete points first, then the cut: a streamed parser must not commit the complete ones. */
function cutBodyFor(route: IngestRoute): string {
  const full = validBodyFor(route, 'cut');
  if (route.contentType === 'application/x-ndjson') {
    const lines = ROWS.slice(0, 3).map((row) => JSON.stringify({ ...row, user_id: 'cut' }));
    return `${lines.join('\n')}\n${full.slice(0, 20)}`;
  }
  return full.slice(0, Math.floor(full.length / 2));
}

describe('requests that stop halfway (real socket)', () => {
  for (const route of INGEST_ROUTES) {
    for (const framing of ['chunked', 'content-length'] as const) {
      for (const how of ['end', 'destroy'] as const) {
        it(`${routeName(route)}, ${framing}, client ${how}s: answered 4xx or closed, nothing stored`, async (t) => {
          const { app, store, port } = await listening(t);
          const body = cutBodyFor(route);
          const length =
            framing === 'chunked'
              ? 'Transfer-Encoding: chunked'
              : `Content-Length: ${Buffer.byteLength(body) + 1000}`;
          const extra = Object.entries(route.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
          const head =
            `${route.method} ${route.url} HTTP/1.1\r\nHost: locus\r\nContent-Type: ${route.contentType}\r\n` +
            `${extra.join('')}${length}\r\n\r\n`;
          const { received } = await abandonedRequest(
            port,
            head,
            framing === 'chunked' ? chunk(body) : body,
            how,
          );
          assert.ok(received === '' || /^HTTP\/1\.1 4\d\d /.test(received), received);
          await allClosed(app);
          assert.equal(await totalSamples(store), 0);
          // The server is still serving.
          const after = await sendTo(app, route, validBodyFor(route, 'after'));
          assert.equal(after.statusCode, 200, after.body);
        });
      }
    }
  }

  it('a slow client that trickles complete NDJSON lines and then vanishes stores none of them', async (t) => {
    const { app, store, port } = await listening(t);
    const lines = ROWS.slice(0, 20).map((row) => `${JSON.stringify(row)}\n`);
    const head =
      'POST /locations HTTP/1.1\r\nHost: locus\r\nContent-Type: application/x-ndjson\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n';
    const trickle = Buffer.concat(lines.map((line) => chunk(line)));
    const { received } = await abandonedRequest(port, head, trickle, 'destroy');
    assert.equal(received, '');
    await allClosed(app);
    assert.equal(await totalSamples(store), 0);
  });

  it('the answer to a request cut halfway is problem+json', async (t) => {
    const { port } = await listening(t);
    const head =
      'PUT /location HTTP/1.1\r\nHost: locus\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const { received } = await abandonedRequest(port, head, '{"lat":', 'end');
    assert.match(received, /^HTTP\/1\.1 400 /);
    assert.match(received, /content-type: application\/problem\+json/i);
  });
});
