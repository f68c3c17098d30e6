import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Point } from '../../../src/ingest/point.js';
import type { MinuteAggregate, MinuteSums } from '../../../src/store/minutes.js';
import type { MinuteRange, Store, TrackBucket, TrackRequest } from '../../../src/store/store.js';
import type { ContractContext } from './context.js';
import { assertMinutesMatch, firstOccurrences, minutesOfStored } from './expected-minutes.js';
import { minuteOfInstant } from './expected-users.js';
import { allMinutes, MINUTE_MS, minutesFrom, NOON, point, randomPoints } from './support.js';

/** Random points of three users spread over about 45 minutes with gaps, some copies resent at other instants. */
function spreadPoints(seed: number): Point[] {
  return randomPoints(240, seed).map((p, i) => ({ ...p, tsMs: p.tsMs + (i % 9) * 5 * MINUTE_MS }));
}

function bucketIndex(minuteMs: number, { bucketMs, originMs }: TrackRequest): number {
  return Math.floor((minuteMs - originMs) / bucketMs);
}

function inRange(minuteMs: number, { fromMs, toMs }: MinuteRange): boolean {
  return (fromMs === undefined || minuteMs >= fromMs) && (toMs === undefined || minuteMs < toMs);
}

/** The stored points of `userId` in `range`, grouped by bucket index, ascending. */
function pointsByBucket(
  points: readonly Point[],
  userId: string,
  range: MinuteRange,
  request: TrackRequest,
): [number, Point[]][] {
  const byBucket = new Map<number, Point[]>();
  for (const p of firstOccurrences(points)) {
    const minuteMs = minuteOfInstant(p.tsMs);
    if (p.userId !== userId || !inRange(minuteMs, range)) continue;
    const index = bucketIndex(minuteMs, request);
    const group = byBucket.get(index);
    if (group) group.push(p);
    else byBucket.set(index, [p]);
  }
  return [...byBucket].sort(([a], [b]) => a - b);
}

/** A bucket's minutes as counted from its points. */
function bucketShape(points: readonly Point[]): Omit<TrackBucket, 'sums'> {
  const minutes = [...new Set(points.map((p) => minuteOfInstant(p.tsMs)))].sort((a, b) => a - b);
  return {
    firstMinuteMs: minutes[0] as number,
    lastMinuteMs: minutes[minutes.length - 1] as number,
    minutes: minutes.length,
  };
}

/** A bucket posing as one minute, numbered by its index, so the minute comparison of means applies to it. */
function asMinute(userId: string, index: number, sums: MinuteSums): MinuteAggregate {
  return { userId, minuteMs: index * MINUTE_MS, sums };
}

/**
 * Asserts the buckets against the raw points: the same buckets with the same minutes, and in each the means a
 * reader with a calculator gets from its points (expected-minutes.ts, as if the bucket were one long minute).
 */
function assertTrackMatches(
  buckets: readonly TrackBucket[],
  points: readonly Point[],
  userId: string,
  range: MinuteRange,
  request: TrackRequest,
): void {
  const expected = pointsByBucket(points, userId, range, request);
  const where = `${userId} ${JSON.stringify({ ...range, ...request })}`;
  assert.deepEqual(
    buckets.map(({ sums: _, ...shape }) => shape),
    expected.map(([, group]) => bucketShape(group)),
    `${where}: buckets`,
  );
  const actual = buckets.map((b) => asMinute(userId, bucketIndex(b.firstMinuteMs, request), b.sums));
  const views = expected.flatMap(([index, group]) =>
    minutesOfStored(
      group.map((p) => ({ ...p, tsMs: index * MINUTE_MS })),
      userId,
    ),
  );
  assertMinutesMatch(actual, views, where);
}

/** The sums of a bucket merged from the stored minutes by hand: added, or the least and greatest taken. */
function mergedByHand(rows: readonly MinuteAggregate[]): MinuteSums {
  const sums = rows.map((r) => r.sums);
  const total = (field: keyof MinuteSums) => sums.reduce((n, s) => n + s[field], 0);
  const least = (field: keyof MinuteSums) => sums.reduce((n, s) => Math.min(n, s[field]), Infinity);
  const greatest = (field: keyof MinuteSums) => sums.reduce((n, s) => Math.max(n, s[field]), -Infinity);
  return {
    samples: total('samples'),
    latSum: total('latSum'),
    longSum: total('longSum'),
    longMin: least('longMin'),
    longMax: greatest('longMax'),
    longEastSum: total('longEastSum'),
    longEastMin: least('longEastMin'),
    longEastMax: greatest('longEastMax'),
    accuracySum: total('accuracySum'),
    accuracyCount: total('accuracyCount'),
    speedSum: total('speedSum'),
    speedCount: total('speedCount'),
  };
}

/** Asserts that each bucket's sums are exactly its stored minutes' sums merged. */
async function assertExactMerge(
  store: Store,
  userId: string,
  buckets: readonly TrackBucket[],
): Promise<void> {
  const rows = await allMinutes(store, userId);
  for (const bucket of buckets) {
    const merged = rows.filter(
      (r) => r.minuteMs >= bucket.firstMinuteMs && r.minuteMs <= bucket.lastMinuteMs,
    );
    assert.equal(merged.length, bucket.minutes);
    assert.deepEqual(bucket.sums, mergedByHand(merged), `bucket from ${bucket.firstMinuteMs}`);
  }
}

/** `.track(userId, range, request)`: a user's minutes merged into buckets of whole minutes. */
export function trackTests(context: ContractContext): void {
  describe('.track(userId, range, request)', () => {
    const minute = { bucketMs: MINUTE_MS, originMs: NOON };

    it('.track(userId) resolves to null for a user without minutes, and [] for an empty range', async () => {
      const { store } = context;
      assert.equal(await store.track('ana', {}, minute), null);
      await store.ingest(minutesFrom(NOON, 3).map((m) => point('ana', m)));
      assert.equal(await store.track('ben', {}, minute), null);
      assert.equal(await store.track('an', {}, minute), null);
      for (const range of [
        { fromMs: NOON + MINUTE_MS, toMs: NOON + MINUTE_MS },
        { toMs: NOON },
        { fromMs: NOON + 3 * MINUTE_MS },
        { fromMs: NOON + 2 * MINUTE_MS, toMs: NOON + MINUTE_MS },
      ]) {
        assert.deepEqual(await store.track('ana', range, minute), [], JSON.stringify(range));
      }
    });

    it('.track(userId) with one-minute buckets answers the minutes themselves', async () => {
      const { store } = context;
      const points = spreadPoints(3);
      await store.ingest(points);
      for (const userId of ['ana', 'ben', 'chloé']) {
        const rows = await allMinutes(store, userId);
        const asBuckets = rows.map(({ minuteMs, sums }) => ({
          firstMinuteMs: minuteMs,
          lastMinuteMs: minuteMs,
          minutes: 1,
          sums,
        }));
        for (const originMs of [rows[0]?.minuteMs ?? 0, NOON - 7 * MINUTE_MS, 0]) {
          assert.deepEqual(await store.track(userId, {}, { bucketMs: MINUTE_MS, originMs }), asBuckets);
        }
      }
    });

    it('.track(userId, range, request) merges minutes into buckets equal to a recomputation', async () => {
      const { store } = context;
      const points = spreadPoints(5);
      await store.ingest(points);
      const first = Math.min(...points.map((p) => minuteOfInstant(p.tsMs)));
      for (const bucketMinutes of [2, 3, 5, 7, 60, 1440]) {
        const bucketMs = bucketMinutes * MINUTE_MS;
        for (const originMs of [Math.floor(first / bucketMs) * bucketMs, first, first - 4 * MINUTE_MS]) {
          for (const range of [{}, { fromMs: first + 6 * MINUTE_MS, toMs: first + 31 * MINUTE_MS }]) {
            const request = { bucketMs, originMs };
            const buckets = await store.track('ben', range, request);
            assert.ok(buckets);
            assertTrackMatches(buckets, points, 'ben', range, request);
            await assertExactMerge(store, 'ben', buckets);
          }
        }
      }
    });

    it('.track(userId, range) includes fromMs, excludes toMs, and merges only the minutes in range', async () => {
      const { store } = context;
      const ten = minutesFrom(NOON, 10);
      await store.ingest(ten.map((m, i) => point('ana', m + i, { lat: i })));
      const buckets = await store.track(
        'ana',
        { fromMs: ten[3], toMs: ten[9] },
        { bucketMs: 5 * MINUTE_MS, originMs: NOON },
      );
      assert.deepEqual(
        buckets?.map(({ firstMinuteMs, lastMinuteMs, minutes, sums }) => [
          firstMinuteMs,
          lastMinuteMs,
          minutes,
          sums.samples,
        ]),
        [
          [ten[3], ten[4], 2, 2],
          [ten[5], ten[8], 4, 4],
        ],
      );
    });

    it('.track(userId) places minutes before 1970 in the buckets that hold them', async () => {
      const { store } = context;
      const points = [-180_001, -120_000, -60_001, -1, 0, 59_999, 60_000].map((tsMs) => point('ana', tsMs));
      await store.ingest(points);
      const request = { bucketMs: 2 * MINUTE_MS, originMs: -4 * MINUTE_MS };
      const buckets = await store.track('ana', {}, request);
      assert.ok(buckets);
      assert.deepEqual(
        buckets.map((b) => [b.firstMinuteMs, b.lastMinuteMs, b.minutes, b.sums.samples]),
        [
          [-240_000, -240_000, 1, 1],
          [-120_000, -60_000, 2, 3],
          [0, 60_000, 2, 3],
        ],
      );
      assertTrackMatches(buckets, points, 'ana', {}, request);
    });
  });
}
