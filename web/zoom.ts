/*
 * What to ask the server for when the charts zoom: the track is fetched at about one point per pixel, so zooming
 * into a time range fetches that range again, in finer buckets, down to exact minutes. Pure (no DOM).
 */
import { isExact, MINUTE_MS, type Track } from './track.js';

/** Milliseconds, UTC; `fromMs` inclusive, `toMs` exclusive; either end may be open. */
export interface TimeRange {
  fromMs?: number;
  toMs?: number;
}

/** A track and the range it was fetched for. */
export interface LoadedTrack {
  track: Track;
  range: TimeRange;
}

/** The most points the page asks for, whatever the screen; the server allows up to 10,000. */
export const MAX_POINTS = 2_000;
/** The fewest: a narrow window still gets a readable line. */
export const MIN_POINTS = 200;

/** Points to ask for a chart or map `pixels` wide (device pixels): one per pixel, within the bounds above. */
export function maxPointsFor(pixels: number): number {
  return Math.min(MAX_POINTS, Math.max(MIN_POINTS, Math.round(pixels)));
}

/**
 * The range a chart zoom to [fromMs, toMs] (both ends inclusive, as drawn) asks for: the minutes that start in it,
 * within the date range. A zoom narrower than a minute that holds no minute's start takes the minute it lies in.
 */
export function zoomRange(view: readonly [number, number], range: TimeRange): Required<TimeRange> {
  let fromMs = Math.ceil(view[0] / MINUTE_MS) * MINUTE_MS;
  let toMs = Math.floor(view[1] / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  if (toMs <= fromMs) {
    fromMs = Math.floor(view[0] / MINUTE_MS) * MINUTE_MS;
    toMs = fromMs + MINUTE_MS;
  }
  return {
    fromMs: Math.max(fromMs, range.fromMs ?? -Infinity),
    toMs: Math.min(toMs, range.toMs ?? Infinity),
  };
}

/** Whether `loaded` already holds every minute of `wanted` exactly, so zooming there needs no request. */
export function covers(loaded: LoadedTrack, wanted: Required<TimeRange>): boolean {
  return (
    isExact(loaded.track) &&
    (loaded.range.fromMs ?? -Infinity) <= wanted.fromMs &&
    wanted.toMs <= (loaded.range.toMs ?? Infinity)
  );
}
