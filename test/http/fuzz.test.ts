import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FORMAT_CHARACTERS } from '../support/hostile.js';
import { aggregate, means } from '../../src/store/minutes.js';
import { composePoint } from '../../src/ingest/compose.js';
import type { Point } from '../../src/ingest/point.js';
import { build, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { allUsers } from '../support/users.js';

const FIELDS = ['timestamp', 'lat', 'long', 'accuracy', 'speed', 'user_id'] as const;

/** Values that are almost right, plainly wrong, or hostile. */
const anyValue = fc.oneof(
  fc.constantFrom(null, true, false, '', '40.7', 'NaN', '1e400', [], {}, -0, 1e308, -1e308, Number.MIN_VALUE),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('2017-02-30 12:00:00', '2017-01-01 24:00:01', '2017-03-12 02:30:00', '2017-11-05 01:30:00'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('T', ' ').slice(0, 19)),
  fc.jsonValue(),
  // Arrays and objects nested around the depth bound of JSON bodies (64 levels, issue #14): refused, never a crash.
  fc
    .tuple(fc.integer({ min: 1, max: 100 }), fc.boolean())
    .map(([depth, objects]): unknown =>
      JSON.parse(
        objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth),
      ),
    ),
);

/** User ids that one Unicode form or another of a valid id, or that break a user-id rule only by what they hold. */
const validUserId = fc.constantFrom('a1', 'b2', 'ü', 'u\u0308', '\u00c4', 'A\u0308', '\u212b', '\u00c5');
const hostileUserId = fc.oneof(
  fc.constantFrom('.', '..', 'alice\u200b', 'evil\u202Egpj.exe', '\u2066a1\u2069', '\ufeffa1'),
  fc
    .tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...FORMAT_CHARACTERS), fc.string({ maxLength: 4 }))
    .map(([before, format, after]) => before + format + after),
);

const wallTime = fc
  .date({ min: new Date('2016-01-01'), max: new Date('2018-12-31'), noInvalidDate: true })
  .map((d) => d.toISOString().replace('T', ' ').slice(0, 19));

/** Valid points, so that a fair share of the run reaches the store (and some collide as duplicates). */
const validBody = fc.record({
  timestamp: wallTime,
  lat: fc.double({ min: -90, max: 90, noNaN: true }),
  long: fc.double({ min: -180, max: 180, noNaN: true }),
  accuracy: fc.double({ min: 0, max: 600, noNaN: true }),
  speed: fc.double({ min: 0, max: 40, noNaN: true }),
  user_id: validUserId,
});

/** Mostly-garbage bodies: valid points with fields broken, dropped or added, and arbitrary JSON. */
const body = fc.oneof(
  validBody,
  fc.record({
    timestamp: fc.oneof(fc.constant(VALID_POINT.timestamp), anyValue),
    lat: fc.oneof(fc.double({ min: -90, max: 90, noNaN: true }), anyValue),
    long: fc.oneof(fc.double({ min: -180, max: 180, noNaN: true }), anyValue),
    accuracy: fc.oneof(fc.double({ min: 0, max: 600, noNaN: true }), anyValue),
    speed: fc.oneof(fc.double({ min: 0, max: 40, noNaN: true }), anyValue),
    user_id: fc.oneof(validUserId, hostileUserId, anyValue),
  }),
  fc
    .tuple(fc.subarray([...FIELDS]), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }))
    .map(([drop, extra]) => {
      const point: Record<string, unknown> = { ...extra, ...VALID_POINT };
      for (const field of drop) delete point[field];
      return point;
    }),
  fc.jsonValue(),
);

/** Serialised bodies, some cut short or otherwise not JSON at all. */
const payload = fc.oneof(
  { weight: 4, arbitrary: body.map((b) => JSON.stringify(b) ?? '') },
  body.chain((b) => {
    const text = JSON.stringify(b) ?? '';
    return fc.nat(text.length).map((cut) => text.slice(0, cut));
  }),
  fc.string(),
);

/** The user_id of a body as JSON.parse reads it (the last of repeated keys); undefined when there is none. */
function sentUserId(text: string): unknown {
  try {
    const body = JSON.parse(text) as unknown;
    return typeof body === 'object' && body !== null ? (body as { user_id?: unknown }).user_id : undefined;
  } catch {
    return undefined;
  }
}

describe('PUT /location under random bodies', () => {
  it('always answers 200 or 4xx, and stores exactly the points answered stored', async (t) => {
    const { app, store } = await build(t);
    const stored: Point[] = [];
    await fc.assert(
      fc.asyncProperty(payload, async (text) => {
        const response = await put(app, text);
        assert.ok(
          response.statusCode === 200 || (response.statusCode >= 400 && response.statusCode < 500),
          `${response.statusCode} for ${text}: ${response.body}`,
        );
        const sent = sentUserId(text);
        if (typeof sent === 'string' && (/[\p{Cc}\p{Cf}]/u.test(sent) || sent === '.' || sent === '..'))
          assert.notEqual(response.statusCode, 200, `a user id that breaks a rule was stored: ${text}`);
        if (response.statusCode !== 200) return;
        const answer = response.json<{ status: string; user_id: string }>();
        // The user is the id in NFC, whichever form was sent.
        assert.equal(answer.user_id, String(sent).normalize('NFC'));
        if (answer.status !== 'stored') return;
        const prepared = composePoint(JSON.parse(text), { rules: 'put' });
        assert.ok(prepared.ok, 'a stored body is a valid one');
        stored.push(prepared.value);
      }),
      { numRuns: 1500 },
    );
    const expected = aggregate(stored).sort(
      (a, b) => a.userId.localeCompare(b.userId) || a.minuteMs - b.minuteMs,
    );
    const actual = [];
    for (const user of await allUsers(store)) {
      const page = await store.minutes(user.userId, {}, { limit: 100_000 });
      actual.push(...(page?.rows ?? []));
    }
    actual.sort((a, b) => a.userId.localeCompare(b.userId) || a.minuteMs - b.minuteMs);
    assert.deepEqual(actual, expected);
    assert.ok(stored.length > 50, `the generator should reach the store often, got ${stored.length}`);
    for (const row of actual) assert.ok(Number.isFinite(means(row.sums).lat));
  });
});
