import type { Point } from '../ingest/point.js';

/*
 * Minute aggregates are kept as integer sums in fixed units, never as float sums: integer addition is associative,
 * so any arrival order, any batching and any number of concurrent writers give bit-for-bit the same row.
 * These bounds, with the field bounds of ingest/limits.ts (MAX_ACCURACY_M, MAX_SPEED_MPS), keep every sum of one
 * (user, minute) under 2^53, so JavaScript numbers, SQLite INTEGER and
 * PostgreSQL BIGINT all hold it exactly: at most 60,000 distinct millisecond instants fit in one minute.
 */
export const COORD_UNITS_PER_DEGREE = 1e8; // 1e-8° ≈ 1.1 mm
export const METRIC_UNITS_PER_METRE = 1e3; // millimetres, millimetres per second
export const MAX_SAMPLES_PER_MINUTE = 60_000;
export const MINUTE_MS = 60_000;

/**
 * Exact per-(user, minute) state. Longitude is summed twice: as given, and shifted east into [0, 360). Accuracy and
 * speed are averaged over the points that carry them, so each has its own count.
 */
export interface MinuteSums {
  samples: number;
  latSum: number;
  longSum: number;
  longMin: number;
  longMax: number;
  longEastSum: number;
  longEastMin: number;
  longEastMax: number;
  accuracySum: number;
  accuracyCount: number;
  speedSum: number;
  speedCount: number;
}

export interface MinuteAggregate {
  userId: string;
  minuteMs: number;
  sums: MinuteSums;
}

export interface MinuteMeans {
  samples: number;
  lat: number;
  long: number;
  /** Null when no point of the minute reported it. */
  accuracy: number | null;
  speed: number | null;
}

export function minuteOf(tsMs: number): number {
  return Math.floor(tsMs / MINUTE_MS) * MINUTE_MS;
}

// `+ 0` turns the -0 that Math.round gives for tiny negatives into 0, so equal aggregates compare equal.
export function toCoordUnits(degrees: number): number {
  return Math.round(degrees * COORD_UNITS_PER_DEGREE) + 0;
}

export function toMetricUnits(value: number): number {
  return Math.round(value * METRIC_UNITS_PER_METRE) + 0;
}

function emptySums(): MinuteSums {
  return {
    samples: 0,
    latSum: 0,
    longSum: 0,
    longMin: Number.POSITIVE_INFINITY,
    longMax: Number.NEGATIVE_INFINITY,
    longEastSum: 0,
    longEastMin: Number.POSITIVE_INFINITY,
    longEastMax: Number.NEGATIVE_INFINITY,
    accuracySum: 0,
    accuracyCount: 0,
    speedSum: 0,
    speedCount: 0,
  };
}

// In place, because aggregating is on the ingest path: one allocation per group instead of one per point.
function addPoint(sums: MinuteSums, point: Point): void {
  const long = toCoordUnits(point.long);
  const longEast = long < 0 ? long + 360 * COORD_UNITS_PER_DEGREE : long;
  sums.samples += 1;
  sums.latSum += toCoordUnits(point.lat);
  sums.longSum += long;
  sums.longMin = Math.min(sums.longMin, long);
  sums.longMax = Math.max(sums.longMax, long);
  sums.longEastSum += longEast;
  sums.longEastMin = Math.min(sums.longEastMin, longEast);
  sums.longEastMax = Math.max(sums.longEastMax, longEast);
  if (point.accuracy !== null) {
    sums.accuracySum += toMetricUnits(point.accuracy);
    sums.accuracyCount += 1;
  }
  if (point.speed !== null) {
    sums.speedSum += toMetricUnits(point.speed);
    sums.speedCount += 1;
  }
}

/** The sums of a single point. */
export function pointSums(point: Point): MinuteSums {
  const sums = emptySums();
  addPoint(sums, point);
  return sums;
}

/** Combines two partial aggregates of the same minute; commutative and associative. */
export function mergeSums(a: MinuteSums, b: MinuteSums): MinuteSums {
  return {
    samples: a.samples + b.samples,
    latSum: a.latSum + b.latSum,
    longSum: a.longSum + b.longSum,
    longMin: Math.min(a.longMin, b.longMin),
    longMax: Math.max(a.longMax, b.longMax),
    longEastSum: a.longEastSum + b.longEastSum,
    longEastMin: Math.min(a.longEastMin, b.longEastMin),
    longEastMax: Math.max(a.longEastMax, b.longEastMax),
    accuracySum: a.accuracySum + b.accuracySum,
    accuracyCount: a.accuracyCount + b.accuracyCount,
    speedSum: a.speedSum + b.speedSum,
    speedCount: a.speedCount + b.speedCount,
  };
}

/** Groups points by (user, minute), in first-seen order of the groups. The caller has already removed duplicates. */
export function aggregate(points: Iterable<Point>): MinuteAggregate[] {
  const groups = new Map<string, MinuteAggregate>();
  for (const point of points) {
    const minuteMs = minuteOf(point.tsMs);
    const key = `${minuteMs}\u0000${point.userId}`;
    let group = groups.get(key);
    if (!group) {
      group = { userId: point.userId, minuteMs, sums: emptySums() };
      groups.set(key, group);
    }
    addPoint(group.sums, point);
  }
  return [...groups.values()];
}

const HALF_TURN = 180 * COORD_UNITS_PER_DEGREE;
const FULL_TURN = 360 * COORD_UNITS_PER_DEGREE;

/**
 * Mean longitude on the short arc: when the points straddle the antimeridian (179.9 and -179.9), the mean is taken
 * of the east-shifted values, so it lands near ±180 instead of near 0. Points that are not all within 180° of each
 * other (never a real minute of one device) fall back to the plain mean.
 */
function meanLongUnits(s: MinuteSums): number {
  if (s.longMax - s.longMin <= HALF_TURN || s.longEastMax - s.longEastMin > HALF_TURN) return s.longSum;
  const east = s.longEastSum;
  return east > HALF_TURN * s.samples ? east - FULL_TURN * s.samples : east;
}

/** The means a reader sees. Each is one correctly rounded division of exact integers. */
export function means(s: MinuteSums): MinuteMeans {
  const coordDivisor = s.samples * COORD_UNITS_PER_DEGREE;
  const metricMean = (sum: number, count: number) =>
    count === 0 ? null : sum / (count * METRIC_UNITS_PER_METRE);
  return {
    samples: s.samples,
    lat: s.latSum / coordDivisor,
    long: meanLongUnits(s) / coordDivisor,
    accuracy: metricMean(s.accuracySum, s.accuracyCount),
    speed: metricMean(s.speedSum, s.speedCount),
  };
}
