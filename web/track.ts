/*
 * A user's minutes as columns, parsed from the GeoJSON export. Typed arrays: 100,000 minutes are 4.8 MB, and a
 * worker hands them to the page without copying. Pure (no DOM): the tests run it under Node.
 */

export interface Track {
  /** Start of each minute, UTC milliseconds, ascending. */
  minuteMs: Float64Array;
  lat: Float64Array;
  long: Float64Array;
  /** NaN where no point of the minute reported it. */
  speed: Float64Array;
  accuracy: Float64Array;
  samples: Float64Array;
}

export const TRACK_COLUMNS = ['minuteMs', 'lat', 'long', 'speed', 'accuracy', 'samples'] as const;

export function emptyTrack(): Track {
  return allocate(0);
}

function allocate(length: number): Track {
  return {
    minuteMs: new Float64Array(length),
    lat: new Float64Array(length),
    long: new Float64Array(length),
    speed: new Float64Array(length),
    accuracy: new Float64Array(length),
    samples: new Float64Array(length),
  };
}

/** A column value as the page shows it: NaN (not reported) becomes null. */
export function reported(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

interface PointFeature {
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: { minute: string; accuracy: number | null; speed: number | null; samples: number };
}

function isPointFeature(feature: unknown): feature is PointFeature {
  const f = feature as { geometry?: { type?: unknown } | null } | null;
  return f?.geometry?.type === 'Point';
}

/** The Point features of a Locus GeoJSON export, one per minute; the LineString is drawn from these instead. */
export function trackFromGeoJson(collection: unknown): Track {
  const features = (collection as { features?: unknown }).features;
  if (!Array.isArray(features)) throw new Error('not a GeoJSON FeatureCollection');
  const points = features.filter(isPointFeature);
  const track = allocate(points.length);
  points.forEach((feature, i) => {
    const p = feature.properties;
    track.minuteMs[i] = Date.parse(p.minute);
    track.long[i] = feature.geometry.coordinates[0];
    track.lat[i] = feature.geometry.coordinates[1];
    track.speed[i] = p.speed ?? NaN;
    track.accuracy[i] = p.accuracy ?? NaN;
    track.samples[i] = p.samples;
  });
  return track;
}

export function trackLength(track: Track): number {
  return track.minuteMs.length;
}

/** `base` with every minute from `update`'s first minute on replaced by `update` (a live refresh). */
export function mergeTrack(base: Track, update: Track): Track {
  const from = update.minuteMs[0];
  if (from === undefined) return base;
  const keep = lowerBound(base.minuteMs, from);
  const merged = allocate(keep + trackLength(update));
  for (const column of TRACK_COLUMNS) {
    merged[column].set(base[column].subarray(0, keep));
    merged[column].set(update[column], keep);
  }
  return merged;
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

/** The index of the minute closest in time to `ms`, or -1 for an empty track. */
export function nearestIndex(track: Track, ms: number): number {
  const n = trackLength(track);
  if (n === 0) return -1;
  const i = lowerBound(track.minuteMs, ms);
  if (i === 0) return 0;
  if (i === n) return n - 1;
  return ms - track.minuteMs[i - 1]! <= track.minuteMs[i]! - ms ? i - 1 : i;
}

/** Indices [start, end) of the minutes in [fromMs, toMs]. */
export function sliceIndices(track: Track, fromMs: number, toMs: number): [number, number] {
  return [lowerBound(track.minuteMs, fromMs), lowerBound(track.minuteMs, toMs + 1)];
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
