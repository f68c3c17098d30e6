import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ACCURACY_M, MAX_SPEED_MPS } from '../../../src/ingest/limits.js';
import { MAX_SAMPLES_PER_MINUTE } from '../../../src/store/minutes.js';
import type { ContractContext } from './context.js';
import { assertMinutesMatch, expectedMinutes } from './expected-minutes.js';
import { allMinutes, batches, MINUTE_MS, NOON, point } from './support.js';
import { allUsers } from '../../support/users.js';

/** Instants on minute boundaries and before 1970, extreme and missing values, hostile user ids. */
export function awkwardValueTests(context: ContractContext): void {
  describe('minute boundaries', () => {
    it('.ingest(points) puts 12:00:59.999 and 12:01:00.000 in different minutes', async () => {
      const { store } = context;
      await store.ingest([point('ana', NOON), point('ana', NOON + 59_999), point('ana', NOON + 60_000)]);
      const rows = await allMinutes(store, 'ana');
      assert.deepEqual(
        rows.map((r) => [r.minuteMs, r.sums.samples]),
        [
          [NOON, 2],
          [NOON + 60_000, 1],
        ],
      );
    });

    it('.ingest(points) puts instants before 1970 (negative epoch ms) in the minute containing them', async () => {
      const { store } = context;
      const moonLanding = Date.UTC(1969, 6, 20, 20, 17, 40, 500);
      const points = [-60_001, -60_000, -1, 0, 59_999, moonLanding].map((ts) => point('ana', ts));
      await store.ingest(points);
      const rows = await allMinutes(store, 'ana');
      assert.deepEqual(
        rows.map((r) => [r.minuteMs, r.sums.samples]),
        [
          [Date.UTC(1969, 6, 20, 20, 17), 1],
          [-120_000, 1],
          [-60_000, 2],
          [0, 2],
        ],
      );
      assertMinutesMatch(rows, expectedMinutes(points, 'ana'));
    });
  });

  describe('awkward values', () => {
    it('.ingest(points) keeps extreme coordinates, zero and maximum accuracy and speed exactly', async () => {
      const { store } = context;
      const points = [
        point('ana', NOON, { lat: 90, long: 180, accuracy: 0, speed: 0 }),
        point('ana', NOON + MINUTE_MS, {
          lat: -90,
          long: -180,
          accuracy: MAX_ACCURACY_M,
          speed: MAX_SPEED_MPS,
        }),
        point('ana', NOON + 2 * MINUTE_MS, { lat: 0, long: 0, accuracy: 0.001, speed: 0.001 }),
      ];
      await store.ingest(points);
      const rows = await allMinutes(store, 'ana');
      assertMinutesMatch(rows, expectedMinutes(points, 'ana'));
      // Each of these values is a whole number of units, so its sums are exact: 1e-8° and millimetres.
      assert.deepEqual(
        rows.map(({ sums }) => [
          sums.latSum,
          sums.longSum,
          sums.longEastSum,
          sums.accuracySum,
          sums.speedSum,
        ]),
        [
          [9_000_000_000, 18_000_000_000, 18_000_000_000, 0, 0],
          [-9_000_000_000, -18_000_000_000, 18_000_000_000, 20_000_000_000, 100_000_000],
          [0, 0, 0, 1, 1],
        ],
      );
    });

    it('.ingest(points) averages accuracy and speed over the points that carry them', async () => {
      const { store } = context;
      const points = [
        point('ana', NOON, { accuracy: null, speed: 2 }),
        point('ana', NOON + 1, { accuracy: 8, speed: null }),
        point('ana', NOON + MINUTE_MS, { accuracy: null, speed: null }),
      ];
      for (const p of points) await store.ingest([p]);
      const rows = await allMinutes(store, 'ana');
      assertMinutesMatch(rows, expectedMinutes(points, 'ana'));
      assert.deepEqual(
        rows.map((r) => [r.sums.accuracyCount, r.sums.speedCount]),
        [
          [1, 1],
          [0, 0],
        ],
      );
    });

    it('.ingest(points) keeps antimeridian points 179.9 and -179.9 in one minute with exact extremes', async () => {
      const { store } = context;
      const points = [point('ana', NOON, { long: 179.9 }), point('ana', NOON + 1, { long: -179.9 })];
      // Separate calls, so the extremes are merged by the store's upsert rather than in memory.
      for (const p of points) await store.ingest([p]);
      const rows = await allMinutes(store, 'ana');
      assert.equal(rows.length, 1);
      assertMinutesMatch(rows, expectedMinutes(points, 'ana'));
      const sums = rows[0]?.sums;
      assert.deepEqual(
        [sums?.longMin, sums?.longMax, sums?.longEastMin, sums?.longEastMax],
        [-17_990_000_000, 17_990_000_000, 17_990_000_000, 18_010_000_000],
      );
    });

    it('.ingest(points) sums a full minute of extreme values exactly (no float rounding, no overflow)', async () => {
      const { store } = context;
      const points = Array.from({ length: MAX_SAMPLES_PER_MINUTE }, (_, i) =>
        point('ana', NOON + i, {
          lat: i % 2 ? 90 : 89.99999999,
          long: i % 2 ? 179.99999999 : -179.99999999,
          accuracy: MAX_ACCURACY_M,
          speed: MAX_SPEED_MPS,
        }),
      );
      for (const batch of batches(points, 10_000)) await store.ingest(batch);
      const rows = await allMinutes(store, 'ana');
      assertMinutesMatch(rows, expectedMinutes(points, 'ana'));
      // Worked by hand in 1e-8° and millimetres, half the points each way: beyond float precision, within 2^53.
      const half = MAX_SAMPLES_PER_MINUTE / 2;
      assert.deepEqual(rows[0]?.sums, {
        samples: MAX_SAMPLES_PER_MINUTE,
        latSum: half * (9_000_000_000 + 8_999_999_999),
        longSum: 0, // as many points a hair east of the antimeridian as west of it
        longMin: -17_999_999_999,
        longMax: 17_999_999_999,
        longEastSum: half * (17_999_999_999 + 18_000_000_001),
        longEastMin: 17_999_999_999,
        longEastMax: 18_000_000_001,
        accuracySum: MAX_SAMPLES_PER_MINUTE * 20_000_000_000,
        accuracyCount: MAX_SAMPLES_PER_MINUTE,
        speedSum: MAX_SAMPLES_PER_MINUTE * 100_000_000,
        speedCount: MAX_SAMPLES_PER_MINUTE,
      });
    });

    it('.ingest(points) stores user ids verbatim: Unicode, quotes, SQL, 128 characters', async () => {
      const { store } = context;
      const ids = [
        'Zoë 🚲 東京',
        'e\u0301', // decomposed é: must not be normalised into the next id
        '\u00e9',
        `O'Brien "the quoted"`,
        "'; DROP TABLE minutes; --",
        '100% _like_ \\escaped\\',
        ' padded ',
        'x'.repeat(127) + 'y',
      ];
      await store.ingest(ids.map((id) => point(id, NOON)));
      const users = await allUsers(store);
      // Sorted here because the order of non-ASCII ids depends on the backend's collation; see .users() tests.
      assert.deepEqual(users.map((u) => u.userId).sort(), [...ids].sort());
      for (const id of ids) {
        const rows = await allMinutes(store, id);
        assertMinutesMatch(rows, expectedMinutes([point(id, NOON)], id), id);
      }
      assert.deepEqual(
        await store.ingest(ids.map((id) => point(id, NOON))),
        ids.map(() => 'duplicate'),
      );
    });
  });
}
