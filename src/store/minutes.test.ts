import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ACCURACY_M, MAX_SPEED_MPS } from '../ingest/limits.js';
import {
  aggregate,
  COORD_UNITS_PER_DEGREE,
  MAX_SAMPLES_PER_MINUTE,
  means,
  mergeSums,
  minuteOf,
  pointSums,
} from './minutes.js';
import type { Point } from '../ingest/point.js';

const T0 = Date.UTC(2017, 0, 1, 18, 5, 0);

function point(over: Partial<Point> = {}): Point {
  return { userId: 'a1', tsMs: T0, lat: 40.7, long: -73.9, accuracy: 10, speed: 1, ...over };
}

function meanOf(points: Point[]) {
  const [group] = aggregate(points);
  assert.ok(group);
  return means(group.sums);
}

describe('minuteOf', () => {
  it('floors to the minute', () => {
    assert.equal(minuteOf(T0 + 59_999), T0);
    assert.equal(minuteOf(T0 + 60_000), T0 + 60_000);
  });
  it('floors instants before 1970 too', () => assert.equal(minuteOf(-1), -60_000));
});

describe('aggregate', () => {
  it('groups by user and minute, in first-seen order', () => {
    const groups = aggregate([
      point({ tsMs: T0 + 1000 }),
      point({ userId: 'b2', tsMs: T0 + 2000 }),
      point({ tsMs: T0 + 61_000 }),
      point({ tsMs: T0 + 59_999 }),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.userId, g.minuteMs, g.sums.samples]),
      [
        ['a1', T0, 2],
        ['b2', T0, 1],
        ['a1', T0 + 60_000, 1],
      ],
    );
  });

  it('does not mix users whose ids only look alike', () => {
    const groups = aggregate([point({ userId: 'a' }), point({ userId: 'a\u0000' }), point({ userId: 'A' })]);
    assert.equal(groups.length, 3);
  });

  it('gives the simple average of each value', () => {
    const m = meanOf([
      point({ lat: 40.7, long: -73.9, accuracy: 10, speed: 1 }),
      point({ tsMs: T0 + 20_000, lat: 40.8, long: -74.1, accuracy: 20, speed: 2 }),
      point({ tsMs: T0 + 40_000, lat: 40.9, long: -74.2, accuracy: 33, speed: 0 }),
    ]);
    assert.deepEqual(m, { samples: 3, lat: 40.8, long: -74.06666666666666, accuracy: 21, speed: 1 });
  });

  it('is exact and independent of order and grouping', () => {
    const points = Array.from({ length: 500 }, (_, i) =>
      point({
        tsMs: T0 + i * 100,
        lat: 40 + Math.sin(i) * 0.123456789,
        long: -73 + Math.cos(i) * 0.987654321,
        accuracy: (i * 7.77) % 600,
        speed: (i * 1.31) % 33,
      }),
    );
    const forward = aggregate(points)[0]?.sums;
    const backward = aggregate([...points].reverse())[0]?.sums;
    const halves = aggregate(points.slice(0, 123))[0]?.sums;
    const rest = aggregate(points.slice(123))[0]?.sums;
    assert.ok(forward && backward && halves && rest);
    assert.deepEqual(backward, forward);
    assert.deepEqual(mergeSums(rest, halves), forward);
    assert.deepEqual(mergeSums(halves, rest), forward);
  });
});

describe('means: points without accuracy or speed', () => {
  it('averages accuracy and speed over the points that carry them', () => {
    const m = meanOf([
      point({ accuracy: 10, speed: null }),
      point({ tsMs: T0 + 1, accuracy: null, speed: 3 }),
      point({ tsMs: T0 + 2, accuracy: 20, speed: null }),
    ]);
    assert.deepEqual(m, { samples: 3, lat: 40.7, long: -73.9, accuracy: 15, speed: 3 });
  });
  it('gives null when no point of the minute carries them', () => {
    const m = meanOf([point({ accuracy: null, speed: null })]);
    assert.equal(m.accuracy, null);
    assert.equal(m.speed, null);
  });
});

describe('means: longitude across the antimeridian', () => {
  it('averages 179.9 and -179.9 to 180, not 0', () => {
    assert.equal(meanOf([point({ long: 179.9 }), point({ tsMs: T0 + 1, long: -179.9 })]).long, 180);
  });
  it('keeps a mean west of the antimeridian negative', () => {
    const long = meanOf([
      point({ long: 179.9 }),
      point({ tsMs: T0 + 1, long: -179.5 }),
      point({ tsMs: T0 + 2, long: -179.5 }),
    ]).long;
    assert.ok(Math.abs(long - -179.7) < 1e-12, String(long));
  });
  it('keeps a mean east of the antimeridian positive', () => {
    const long = meanOf([
      point({ long: 179.5 }),
      point({ tsMs: T0 + 1, long: 179.5 }),
      point({ tsMs: T0 + 2, long: -179.9 }),
    ]).long;
    assert.ok(Math.abs(long - 179.7) < 1e-12, String(long));
  });
  it('averages across the prime meridian plainly', () => {
    assert.equal(meanOf([point({ long: -0.5 }), point({ tsMs: T0 + 1, long: 0.5 })]).long, 0);
  });
  it('treats -180 and 180 as the same meridian', () => {
    assert.equal(meanOf([point({ long: -180 }), point({ tsMs: T0 + 1, long: 180 })]).long, 180);
  });
  it('falls back to the plain mean when points are not within 180° of each other', () => {
    const long = meanOf([
      point({ long: -170 }),
      point({ tsMs: T0 + 1, long: 0 }),
      point({ tsMs: T0 + 2, long: 170 }),
    ]).long;
    assert.equal(long, 0);
  });
});

describe('fixed-point bounds', () => {
  it('a full minute of extreme values sums below 2^53', () => {
    const extreme = pointSums(
      point({ lat: -90, long: -180, accuracy: MAX_ACCURACY_M, speed: MAX_SPEED_MPS }),
    );
    for (const value of Object.values(extreme) as number[]) {
      assert.ok(Number.isSafeInteger(Math.abs(value) * MAX_SAMPLES_PER_MINUTE), String(value));
    }
    assert.equal(extreme.longEastSum, 180 * COORD_UNITS_PER_DEGREE);
  });
  it('rounds to the unit and never yields -0', () => {
    const sums = pointSums(point({ lat: -1e-12, long: -1e-12, accuracy: 0.0004, speed: 0.0006 }));
    assert.ok(Object.is(sums.latSum, 0) && Object.is(sums.longSum, 0));
    assert.equal(sums.accuracySum, 0);
    assert.equal(sums.speedSum, 1);
  });
});
