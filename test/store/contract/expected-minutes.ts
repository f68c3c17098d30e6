/*
 * What a correct store holds, recomputed from the raw points the way a reader with a calculator would: keep the
 * first copy of each (user, instant), group by user and UTC minute, count, and take plain floating-point means.
 * Nothing here comes from src/store/minutes.ts's arithmetic (aggregate(), pointSums()), which the SQLite store
 * itself runs: this checks that arithmetic instead of repeating it.
 */
import assert from 'node:assert/strict';
import type { Point } from '../../../src/ingest/point.js';
import {
  COORD_UNITS_PER_DEGREE,
  means,
  METRIC_UNITS_PER_METRE,
  type MinuteAggregate,
} from '../../../src/store/minutes.js';
import { keyOf, MINUTE_MS } from './support.js';

/** One (user, minute) row as a reader sees it. */
export interface MinuteView {
  userId: string;
  minuteMs: number;
  samples: number;
  lat: number;
  long: number;
  /** Null when no point of the minute carries it; each is averaged over the points that do. */
  accuracy: number | null;
  accuracyCount: number;
  speed: number | null;
  speedCount: number;
  /** West- and eastmost longitude as given, and once shifted into [0, 360): how the antimeridian is told apart. */
  longMin: number;
  longMax: number;
  longEastMin: number;
  longEastMax: number;
}

/*
 * Tolerances. The store rounds each coordinate to a whole 1e-8° and each accuracy or speed to a whole millimetre
 * (per second), once, on the way in; a mean of rounded values is then within half a unit of the mean of the raw
 * values (README, "Averages"), and so is a rounded extreme. The float recomputation here rounds too, but far less:
 * under 2e-9° even summing 60,000 longitudes near 180°. A wrong copy of a duplicate, a lost point or a point in the
 * wrong minute moves a mean by far more than this, or changes a count, which is compared exactly.
 */
const COORD_TOLERANCE = 0.5 / COORD_UNITS_PER_DEGREE + 2e-9;
const METRIC_TOLERANCE = 0.5 / METRIC_UNITS_PER_METRE + 1e-9;

/** The points a store keeps of those sent in this order: the first of each (user, instant). */
export function firstOccurrences(points: readonly Point[]): Point[] {
  const seen = new Set<string>();
  return points.filter((p) => {
    if (seen.has(keyOf(p))) return false;
    seen.add(keyOf(p));
    return true;
  });
}

/** The rows a correct store holds for `userId` after being sent `points` in this order, ascending by minute. */
export function expectedMinutes(points: readonly Point[], userId: string): MinuteView[] {
  return minutesOfStored(firstOccurrences(points), userId);
}

/** The rows made of points that were all stored, repeats included (a point stored again after pruning). */
export function minutesOfStored(points: readonly Point[], userId: string): MinuteView[] {
  const byMinute = new Map<number, Point[]>();
  for (const p of points) {
    if (p.userId !== userId) continue;
    const minuteMs = Math.floor(p.tsMs / MINUTE_MS) * MINUTE_MS;
    const group = byMinute.get(minuteMs);
    if (group) group.push(p);
    else byMinute.set(minuteMs, [p]);
  }
  return [...byMinute]
    .sort(([a], [b]) => a - b)
    .map(([minuteMs, group]) => minuteOfPoints(userId, minuteMs, group));
}

function minuteOfPoints(userId: string, minuteMs: number, points: readonly Point[]): MinuteView {
  const longs = points.map((p) => p.long);
  const accuracies = points.flatMap((p) => (p.accuracy === null ? [] : [p.accuracy]));
  const speeds = points.flatMap((p) => (p.speed === null ? [] : [p.speed]));
  return {
    userId,
    minuteMs,
    samples: points.length,
    lat: mean(points.map((p) => p.lat)),
    long: meanLongitude(longs),
    accuracy: accuracies.length === 0 ? null : mean(accuracies),
    accuracyCount: accuracies.length,
    speed: speeds.length === 0 ? null : mean(speeds),
    speedCount: speeds.length,
    longMin: least(longs),
    longMax: greatest(longs),
    longEastMin: least(longs.map(eastward)),
    longEastMax: greatest(longs.map(eastward)),
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function eastward(long: number): number {
  return long < 0 ? long + 360 : long;
}

// Not Math.min(...values): a full minute is 60,000 values, too many arguments for one call.
function least(values: readonly number[]): number {
  return values.reduce((min, v) => Math.min(min, v), Number.POSITIVE_INFINITY);
}

function greatest(values: readonly number[]): number {
  return values.reduce((max, v) => Math.max(max, v), Number.NEGATIVE_INFINITY);
}

function spread(values: readonly number[]): number {
  return greatest(values) - least(values);
}

/**
 * The mean on the short arc (README, "Averages"): points that span more than 180° as given but not once shifted
 * into [0, 360) straddle the antimeridian, so their shifted mean is brought back into [-180, 180]. Points not
 * within 180° of each other either way get the plain mean.
 */
function meanLongitude(longs: readonly number[]): number {
  const east = longs.map(eastward);
  if (spread(longs) <= 180 || spread(east) > 180) return mean(longs);
  const shifted = mean(east);
  return shifted > 180 ? shifted - 360 : shifted;
}

/** A stored row as a reader sees it: the means the API answers with, and the extremes in degrees. */
export function viewOf(row: MinuteAggregate): MinuteView {
  const { sums } = row;
  const read = means(sums);
  const degrees = (units: number) => units / COORD_UNITS_PER_DEGREE;
  return {
    userId: row.userId,
    minuteMs: row.minuteMs,
    samples: read.samples,
    lat: read.lat,
    long: read.long,
    accuracy: read.accuracy,
    accuracyCount: sums.accuracyCount,
    speed: read.speed,
    speedCount: sums.speedCount,
    longMin: degrees(sums.longMin),
    longMax: degrees(sums.longMax),
    longEastMin: degrees(sums.longEastMin),
    longEastMax: degrees(sums.longEastMax),
  };
}

/** Degrees between two longitudes the short way round: 180 and -180 are one meridian. */
function longitudeApart(a: number, b: number): number {
  const apart = Math.abs(a - b) % 360;
  return Math.min(apart, 360 - apart);
}

const COUNTED = ['userId', 'minuteMs', 'samples', 'accuracyCount', 'speedCount'] as const;
const COORDINATES = ['lat', 'longMin', 'longMax', 'longEastMin', 'longEastMax'] as const;

/** Asserts that the stored rows are the expected ones: the same rows and counts, each mean within tolerance. */
export function assertMinutesMatch(
  rows: readonly MinuteAggregate[],
  expected: readonly MinuteView[],
  message = '',
): void {
  const actual = rows.map(viewOf);
  const counted = (view: MinuteView) => COUNTED.map((field) => view[field]);
  assert.deepEqual(actual.map(counted), expected.map(counted), `${message} rows and counts`);
  actual.forEach((view, i) => {
    const want = expected[i] as MinuteView;
    const where = `${message} ${view.userId} ${new Date(view.minuteMs).toISOString()}`;
    for (const field of COORDINATES)
      assertClose(view[field], want[field], COORD_TOLERANCE, `${where} ${field}`);
    assertClose(longitudeApart(view.long, want.long), 0, COORD_TOLERANCE, `${where} long ${view.long}`);
    assertCloseOrNull(view.accuracy, want.accuracy, METRIC_TOLERANCE, `${where} accuracy`);
    assertCloseOrNull(view.speed, want.speed, METRIC_TOLERANCE, `${where} speed`);
  });
}

function assertClose(actual: number, expected: number, tolerance: number, message: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${message}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

function assertCloseOrNull(
  actual: number | null,
  expected: number | null,
  tolerance: number,
  message: string,
): void {
  if (actual === null || expected === null) return assert.equal(actual, expected, message);
  assertClose(actual, expected, tolerance, message);
}
