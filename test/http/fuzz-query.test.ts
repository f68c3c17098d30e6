/*
 * The read API under random and hostile paths, query strings and Accept headers: every answer is 200 or a 4xx
 * problem, never a 5xx or a hang, and reading never changes the store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LocusApp } from '../../src/http/types.js';
import { encodeCursor } from '../../src/http/routes/read/users.js';
import { assertAnswered, totalSamples, FORMAT_CHARACTERS } from '../support/hostile.js';
import { build, put, seed } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';

const T0 = Date.UTC(2017, 0, 1, 18, 0);

/** Text for a query value: right, nearly right, or hostile. */
const instant = fc.oneof(
  fc.constantFrom(
    '2017-01-01',
    '2017-01-01T18:05:00Z',
    '2017-01-01T13:05:00-05:00',
    '2017-01-01T18:05:00',
    '2017-02-30',
    '2017-01-01T24:00:00Z',
    '0000-01-01',
    '-271821-04-20T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '9999-12-31T23:59:59.999999999Z',
    '1e309',
    'now',
    'null',
    '',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer().map(String),
  fc.string({ maxLength: 30 }),
);

const limit = fc.oneof(
  fc.integer({ min: -5, max: 10_005 }).map(String),
  fc.constantFrom(
    '0',
    '1',
    '10000',
    '10001',
    '1e3',
    '1.5',
    '-0',
    '0x10',
    ' 5',
    '9007199254740993',
    'NaN',
    '',
  ),
  fc.string({ maxLength: 10 }),
);

const cursor = fc.oneof(
  fc.integer({ min: 0, max: 20 }).map((i) => encodeCursor(T0 + i * 60_000)),
  fc.constantFrom(
    encodeCursor(Number.MAX_SAFE_INTEGER),
    encodeCursor(Number.MIN_SAFE_INTEGER),
    encodeCursor(-1),
    Buffer.from('m:99999999999999999').toString('base64url'),
    Buffer.from('m:1e3').toString('base64url'),
    Buffer.from("m:1' OR 1=1 --").toString('base64url'),
    '',
    '====',
    'null',
  ),
  fc.string({ maxLength: 40 }),
  fc.base64String({ maxLength: 40 }),
);

const format = fc.oneof(
  fc.constantFrom('json', 'geojson', 'csv', 'gpx', 'GPX', 'xml', '', 'json,csv'),
  fc.string({ maxLength: 8 }),
);

/** Short ids with a format or bidi character somewhere in them. */
const withFormatCharacter = fc
  .tuple(
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.constantFrom(...FORMAT_CHARACTERS),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
  )
  .map(([before, format, after]) => before + format + after);

/** The same ids in other Unicode forms: `a1` decomposed is `a1`, `Ä` is also `A` + U+0308. */
const UNICODE_FORMS = ['\u00c4', 'A\u0308', 'a\u0308\u0301', '\u212b', '\u00c5', '\u0958'];

const userId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a1', 'b2', 'nobody') },
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
  fc.constantFrom('x'.repeat(100), '\u0000', '\u007f', ' ', '..', '.', '%', '/'),
  withFormatCharacter,
  fc.constantFrom(...UNICODE_FORMS),
);

/** A path segment: the user id percent-encoded, or odd but well-formed (bad percent-encoding: see below). */
const segment = fc.oneof(
  // Longer encoded ids are refused 414 by the router: a known bug, see injection.test.ts.
  { weight: 5, arbitrary: userId.map((u) => encodeURIComponent(u)).filter((s) => s.length <= 100) },
  fc.constantFrom('%00', '..%2F..', 'a%2Fb', '%2e%2e', ''),
);

/** Paths whose percent-encoding is not UTF-8 or not percent-encoding at all. */
const BAD_PATHS = [
  '/users/%/locations',
  '/users/%zz/locations',
  '/users/%ff/locations',
  '/users/%ED%A0%80/locations',
  '/users/%C0%AF/locations.csv',
  '/location%',
];

const param = (name: string, value: fc.Arbitrary<string>) =>
  fc.array(value, { maxLength: 2 }).map((values) => values.map((v) => `${name}=${encodeURIComponent(v)}`));

const query = fc
  .tuple(
    param('from', instant),
    param('to', instant),
    param('limit', limit),
    param('cursor', cursor),
    param('format', format),
    fc.constantFrom(
      [],
      ['__proto__=1'],
      ['constructor[prototype]=1'],
      ['from[]=1'],
      ['&&'],
      ['%ff=%ff'],
      ['x'],
    ),
  )
  .chain((parts) => fc.shuffledSubarray(parts.flat(), { minLength: 0 }))
  .map((parts) => parts.join('&'));

const accept = fc.oneof(
  fc.constantFrom(
    undefined,
    'application/json',
    'text/csv',
    'application/geo+json',
    'application/gpx+xml',
    '*/*',
    'text/*;q=0.5, application/gpx+xml;q=0',
    'text/csv;q=NaN',
    ';;;,,,',
    'application/json;q=2',
  ),
  fc.string({ maxLength: 30 }),
);

const url = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(segment, query).map(([s, q]) => `/users/${s}/locations?${q}`) },
  fc
    .tuple(segment, fc.constantFrom('geojson', 'csv', 'gpx', 'GPX', 'json', 'xml', ''), query)
    .map(([s, ext, q]) => `/users/${s}/locations.${ext}?${q}`),
  query.map((q) => `/users?${q}`),
  fc.constantFrom('/users/', '/users//locations', '/users/a1/locations/', '/users/a1'),
);

async function seeded(t: Parameters<typeof build>[0]): Promise<LocusApp & { samples: number }> {
  const { app, store } = await build(t);
  await seed(app);
  return Object.assign(app, { samples: await totalSamples(store) });
}

describe('the read API under random paths, query strings and Accept headers', () => {
  it('always answers 200 or a 4xx problem, and reading changes nothing', async (t) => {
    const { app, store } = await build(t);
    await seed(app);
    const samples = await totalSamples(store);
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(url, accept, async (path, acceptHeader) => {
        const headers = acceptHeader === undefined ? {} : { accept: acceptHeader };
        const response = await app.inject({ method: 'GET', url: path, headers });
        assertAnswered(response, `GET ${path} (accept ${acceptHeader})`);
        if (response.statusCode === 200) ok++;
      }),
      { numRuns: 300, seed: 4242 },
    );
    assert.equal(await totalSamples(store), samples);
    assert.ok(ok > 30, `the generator should reach real answers often, got ${ok}`);
  });

  it('reads a user under any Unicode form of its id, and never stores one that breaks a rule', async (t) => {
    const { app } = await build(t);
    const forms = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
      withFormatCharacter,
      fc.constantFrom(...UNICODE_FORMS, '.', '..', '...'),
    );
    await fc.assert(
      fc.asyncProperty(forms, async (sent) => {
        const written = await put(app, { ...VALID_POINT, user_id: sent });
        assertAnswered(written, `PUT ${JSON.stringify(sent)}`);
        const normal = sent.normalize('NFC');
        const breaks =
          /[\p{Cc}\p{Cf}]/u.test(sent) || sent === '.' || sent === '..' || [...normal].length > 128;
        assert.equal(written.statusCode, breaks ? 400 : 200, `PUT ${JSON.stringify(sent)}: ${written.body}`);
        if (breaks) return;
        for (const form of [sent, normal, sent.normalize('NFD')]) {
          const path = `/users/${encodeURIComponent(form)}/locations`;
          // Longer encoded ids are refused 414 by the router: a known bug, see injection.test.ts.
          if (path.length > 120) continue;
          const read = await app.inject(path);
          assert.equal(read.statusCode, 200, `GET ${path}: ${read.body}`);
          assert.equal(read.json<{ user_id: string }>().user_id, normal);
        }
      }),
      { numRuns: 200, seed: 4243 },
    );
  });

  it('follows every next_cursor to the end, whatever the page size, and sees each minute once', async (t) => {
    const app = await seeded(t);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), async (size) => {
        const minutes: string[] = [];
        let next: string | null = '';
        for (let pages = 0; next !== null; pages++) {
          assert.ok(pages <= 10, 'paging ends');
          const cursorPart: string = next === '' ? '' : `&cursor=${encodeURIComponent(next)}`;
          const response = await app.inject(`/users/a1/locations?limit=${size}${cursorPart}`);
          assert.equal(response.statusCode, 200, response.body);
          const page = response.json<{ locations: Array<{ minute: string }>; next_cursor: string | null }>();
          minutes.push(...page.locations.map((l) => l.minute));
          next = page.next_cursor;
        }
        assert.equal(minutes.length, 10);
        assert.equal(new Set(minutes).size, 10);
      }),
      { numRuns: 12 },
    );
    assert.ok(app.samples > 0);
  });

  it('names the parameter at fault in a 400', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const cases: Array<[string, string]> = [
      ['/users/a1/locations?limit=0', 'limit'],
      ['/users/a1/locations?limit=10001', 'limit'],
      ['/users/a1/locations?limit=abc', 'limit'],
      ['/users/a1/locations?from=2017-02-30', 'from'],
      ['/users/a1/locations?to=yesterday', 'to'],
      ['/users/a1/locations?cursor=bm90IGEgY3Vyc29y', 'cursor'],
      ['/users/a1/locations?format=xml', 'format'],
      ['/users/a1/locations?from=2017-01-02&to=2017-01-01', 'to'],
    ];
    for (const [path, field] of cases) {
      const response = await app.inject(path);
      assertAnswered(response, path);
      assert.equal(response.statusCode, 400, `${path}: ${response.body}`);
      const fields = response.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field);
      assert.ok(
        fields.some((f) => f.includes(field)),
        `${path}: ${JSON.stringify(fields)}`,
      );
    }
  });

  it('answers a path that is not valid percent-encoding with a 400 problem', async (t) => {
    const { app } = await build(t);
    for (const path of BAD_PATHS) {
      const response = await app.inject(path);
      assertAnswered(response, path);
      assert.equal(response.statusCode, 400, path);
    }
  });

  it('answers a bad path 400 at least, and never 5xx, while the problem+json wiring is missing', async (t) => {
    const { app } = await build(t);
    for (const path of BAD_PATHS) assert.equal((await app.inject(path)).statusCode, 400, path);
  });
});
