/**
 * A track as GET /users/{id}/track answers it, as columns: each point stands for one or more of the user's minutes
 * (a bucket), with the means of every point stored in them. Pure (no DOM): the tests run it under Node.
 */

export const MINUTE_MS = 60_000;

export interface Track {
  /** How long each point's bucket is; 60 means every point is one minute and its values are exact. */
  bucketSeconds: number;
  /** Where a point is drawn: midway between its first and its last minute's start, UTC ms, ascending. */
  timeMs: Float64Array;
  /** Start of the point's first minute. */
  startMs: Float64Array;
  /** End of the point's last minute. */
  endMs: Float64Array;
  /** Minutes with data in the bucket. */
  minutes: Float64Array;
  samples: Float64Array;
  lat: Float64Array;
  long: Float64Array;
  /** NaN where no point of the bucket reported it. */
  speed: Float64Array;
  accuracy: Float64Array;
}

type Column = Exclude<keyof Track, 'bucketSeconds'>;

export const TRACK_COLUMNS: readonly Column[] = [
  'timeMs',
  'startMs',
  'endMs',
  'minutes',
  'samples',
  'lat',
  'long',
  'speed',
  'accuracy',
];

export function emptyTrack(bucketSeconds = 60): Track {
  return allocate(0, bucketSeconds);
}

function allocate(length: number, bucketSeconds: number): Track {
  const columns = Object.fromEntries(TRACK_COLUMNS.map((c) => [c, new Float64Array(length)]));
  return { bucketSeconds, ...(columns as Record<Column, Float64Array>) };
}

/** A column value as the page shows it: NaN (not reported) becomes null. */
export function reported(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

/** One point of the /track answer. */
export interface TrackPoint {
  start: string;
  end: string;
  minutes: number;
  samples: number;
  lat: number;
  long: number;
  accuracy: number | null;
  speed: number | null;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInstant = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

function isTrackPoint(value: unknown): value is TrackPoint {
  const p = value as Partial<Record<keyof TrackPoint, unknown>> | null;
  return (
    isInstant(p?.start) &&
    isInstant(p.end) &&
    isNumber(p.minutes) &&
    isNumber(p.samples) &&
    isNumber(p.lat) &&
    isNumber(p.long) &&
    (p.accuracy === null || isNumber(p.accuracy)) &&
    (p.speed === null || isNumber(p.speed))
  );
}

/** The columns of a GET /users/{id}/track answer; throws when the body is not one. */
export function trackFromAnswer(body: unknown): Track {
  const answer = body as { bucket_seconds?: unknown; points?: unknown } | null;
  const bucketSeconds = answer?.bucket_seconds;
  const points = answer?.points;
  if (
    !isNumber(bucketSeconds) ||
    bucketSeconds < 60 ||
    !Array.isArray(points) ||
    !points.every(isTrackPoint)
  ) {
    throw new Error('not a track answer');
  }
  const track = allocate(points.length, bucketSeconds);
  points.forEach((p, i) => {
    const [startMs, endMs] = [Date.parse(p.start), Date.parse(p.end)];
    track.startMs[i] = startMs;
    track.endMs[i] = endMs;
    track.timeMs[i] = (startMs + endMs - MINUTE_MS) / 2;
    track.minutes[i] = p.minutes;
    track.samples[i] = p.samples;
    track.lat[i] = p.lat;
    track.long[i] = p.long;
    track.speed[i] = p.speed ?? NaN;
    track.accuracy[i] = p.accuracy ?? NaN;
  });
  return track;
}

/** Point `i` as the server sent it. */
export function pointAt(track: Track, i: number): TrackPoint {
  return {
    start: new Date(track.startMs[i]!).toISOString(),
    end: new Date(track.endMs[i]!).toISOString(),
    minutes: track.minutes[i]!,
    samples: track.samples[i]!,
    lat: track.lat[i]!,
    long: track.long[i]!,
    accuracy: reported(track.accuracy[i]),
    speed: reported(track.speed[i]),
  };
}

/** Points in the track. */
export function trackLength(track: Track): number {
  return track.timeMs.length;
}

/** Minutes the track's points stand for. */
export function trackMinutes(track: Track, start = 0, end = trackLength(track)): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += track.minutes[i]!;
  return sum;
}

/** Whether every point is a single minute, so every value shown is that minute's own. */
export function isExact(track: Track): boolean {
  return track.bucketSeconds === MINUTE_MS / 1000;
}

/**
 * `base` with every point from `update`'s first one on replaced by `update` (a live refresh). Mixed bucket sizes
 * take the larger, so a coarse update never passes for exact minutes.
 */
export function mergeTrack(base: Track, update: Track): Track {
  const from = update.startMs[0];
  if (from === undefined) return base;
  const keep = lowerBound(base.startMs, from);
  const merged = allocate(keep + trackLength(update), Math.max(base.bucketSeconds, update.bucketSeconds));
  for (const column of TRACK_COLUMNS) {
    merged[column].set(base[column].subarray(0, keep));
    merged[column].set(update[column], keep);
  }
  return merged;
}

/**
 * Whether a live update appended to exact minutes (`merged`) can be shown as it is. It cannot when the update came
 * back in buckets, when the points outgrew what the page asks for, or when the user's minute count (`expected`,
 * when the whole history is shown) says points arrived for older minutes: then the range is read again.
 */
export function canAppend(merged: Track, maxPoints: number, expectedMinutes?: number): boolean {
  return (
    isExact(merged) &&
    trackLength(merged) <= maxPoints &&
    (expectedMinutes === undefined || trackMinutes(merged) === expectedMinutes)
  );
}

/** The first index whose value is ≥ `value` in an ascending array (its length when none is). */
export function lowerBound(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the point drawn closest in time to `ms`, or -1 for an empty track. */
export function nearestIndex(track: Track, ms: number): number {
  const n = trackLength(track);
  if (n === 0) return -1;
  const i = lowerBound(track.timeMs, ms);
  if (i === 0) return 0;
  if (i === n) return n - 1;
  return ms - track.timeMs[i - 1]! <= track.timeMs[i]! - ms ? i - 1 : i;
}

/** Indices [start, end) of the points drawn in [fromMs, toMs]. */
export function sliceIndices(track: Track, fromMs: number, toMs: number): [number, number] {
  return [lowerBound(track.timeMs, fromMs), lowerBound(track.timeMs, toMs + 1)];
}

/** One chart's data for uPlot: x in seconds, y with null where the line breaks (or nothing was reported). */
export type Series = [number[], Array<number | null>];

/** A silence longer than this (or than a bucket, when longer) breaks a chart's line instead of drawing across it. */
export const GAP_MS = 5 * MINUTE_MS;

/** Points [start, end) of one column as a chart series; NaN (not reported) breaks the line too. */
export function chartSeries(track: Track, values: ArrayLike<number>, start: number, end: number): Series {
  const gapMs = Math.max(GAP_MS, track.bucketSeconds * 1000);
  const xs: number[] = [];
  const ys: Array<number | null> = [];
  for (let i = start; i < end; i++) {
    const silenceFrom = track.endMs[i - 1]!;
    if (i > start && track.startMs[i]! - silenceFrom > gapMs) {
      xs.push((silenceFrom + track.startMs[i]!) / 2 / 1000);
      ys.push(null);
    }
    xs.push(track.timeMs[i]! / 1000);
    ys.push(reported(values[i]));
  }
  return [xs, ys];
}

/** Samples per minute with data, per point: a bucket's samples spread over its minutes. */
export function samplesPerMinute(track: Track): Float64Array {
  return track.samples.map((samples, i) => samples / track.minutes[i]!);
}

/**
 * Longitudes made continuous for drawing: each is moved by whole turns to within 180° of the one before, so a
 * track across the antimeridian is drawn across it (x may pass ±180) instead of jumping round the world.
 */
export function unwrapLongitudes(longs: ArrayLike<number>): Float64Array {
  const out = new Float64Array(longs.length);
  for (let i = 0; i < longs.length; i++) {
    const x = longs[i]!;
    out[i] = i === 0 ? x : x + 360 * Math.round((out[i - 1]! - x) / 360);
  }
  return out;
}
