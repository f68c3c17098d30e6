/*
 * GeoJSON (RFC 7946) export: one Point Feature per minute, then one Feature for the track.
 *
 * The body is streamed, so the whole track is never held in memory. That takes two reads of the minutes: the
 * first writes the points and learns what the track needs (how many positions, whether it crosses the
 * antimeridian, which decides LineString or MultiLineString); the second writes the track's coordinates. The
 * second read ends where the first did, so minutes stored in between do not appear in the track only.
 */
import { isoMinute } from './chunks.js';
import { MINUTE_MS } from '../store/minutes.js';
import type { ExportMinute, MinuteReader } from './minutes.js';

export const GEOJSON_MEDIA_TYPE = 'application/geo+json';

export interface GeoJsonOptions {
  userId: string;
}

/** [longitude, latitude], the RFC 7946 order. */
export type Position = readonly [number, number];

/** Where the segment from `from` to `to` leaves one side of the antimeridian and enters the other. */
export interface AntimeridianCut {
  /** On the edge `from` is on (±180), or null when `from` is already on it. */
  leave: Position | null;
  /** On the opposite edge, or null when `to` is already on it. */
  enter: Position | null;
}

/**
 * The crossing between two consecutive positions, or null when the short way between them does not cross ±180°.
 * Consecutive minutes more than 180° of longitude apart are taken to have gone the short way round, across the
 * antimeridian: that is the only way a device moves that far between two minutes.
 */
export function antimeridianCut(from: Position, to: Position): AntimeridianCut | null {
  const [fromLong, fromLat] = from;
  const [toLong, toLat] = to;
  if (Math.abs(toLong - fromLong) <= 180) return null;
  const edge = fromLong >= 0 ? 180 : -180;
  const unwrappedToLong = toLong + 2 * edge; // the same meridian, continued past the edge
  const t = (edge - fromLong) / (unwrappedToLong - fromLong);
  const lat = fromLat + t * (toLat - fromLat);
  return { leave: t === 0 ? null : [edge, lat], enter: t === 1 ? null : [-edge, lat] };
}

/** What the first read learns about the track. */
interface TrackScan {
  count: number;
  crosses: boolean;
  first: ExportMinute | undefined;
  last: ExportMinute | undefined;
}

// Numbers print the same in JavaScript and JSON (finite ones: the means always are), and null prints as null,
// so a template is exact and several times faster than JSON.stringify of an object per minute.
function pointFeature(m: ExportMinute): string {
  return (
    `{"type":"Feature","geometry":{"type":"Point","coordinates":[${m.long},${m.lat}]},` +
    `"properties":{"minute":"${isoMinute(m.minuteMs)}","accuracy":${m.accuracy},"speed":${m.speed},` +
    `"samples":${m.samples}}}`
  );
}

function position(minute: ExportMinute): Position {
  return [minute.long, minute.lat];
}

function scanPage(page: readonly ExportMinute[], scan: TrackScan): string {
  const parts: string[] = [];
  for (const minute of page) {
    parts.push((scan.count === 0 ? '\n' : ',\n') + pointFeature(minute));
    if (scan.last && antimeridianCut(position(scan.last), position(minute))) scan.crosses = true;
    scan.first ??= minute;
    scan.last = minute;
    scan.count += 1;
  }
  return parts.join('');
}

/**
 * The track's coordinates: `[[x,y],…]` for a LineString, or `[[[x,y],…],[[x,y],…]]` for a MultiLineString cut at
 * every antimeridian crossing (RFC 7946 §3.1.9), so no segment spans the whole map.
 */
async function* trackCoordinates(
  pages: AsyncIterable<readonly ExportMinute[]>,
  split: boolean,
): AsyncGenerator<string> {
  const json = (p: Position) => `[${p[0]},${p[1]}]`;
  let previous: Position | undefined;
  yield split ? '[[' : '[';
  for await (const page of pages) {
    const parts: string[] = [];
    for (const minute of page) {
      const current = position(minute);
      const cut = split && previous ? antimeridianCut(previous, current) : null;
      if (cut)
        parts.push(`${cut.leave ? `,${json(cut.leave)}` : ''}],[${cut.enter ? `${json(cut.enter)},` : ''}`);
      else if (previous) parts.push(',');
      parts.push(json(current));
      previous = current;
    }
    yield parts.join('');
  }
  yield split ? ']]' : ']';
}

async function* trackFeature(read: MinuteReader, scan: TrackScan, userId: string): AsyncGenerator<string> {
  if (!scan.first || !scan.last || scan.count < 2) return; // one position is not a line
  const properties = {
    user_id: userId,
    minutes: scan.count,
    first_minute: isoMinute(scan.first.minuteMs),
    last_minute: isoMinute(scan.last.minuteMs),
  };
  // Properties come first so the geometry, the one long member, can be streamed last.
  const type = scan.crosses ? 'MultiLineString' : 'LineString';
  yield `,\n{"type":"Feature","properties":${JSON.stringify(properties)},"geometry":{"type":"${type}","coordinates":`;
  yield* trackCoordinates(read(scan.last.minuteMs + MINUTE_MS), scan.crosses);
  yield '}}';
}

/** The FeatureCollection as a stream of text chunks (about one per page); `read` is called twice (see above). */
export async function* geojson(read: MinuteReader, options: GeoJsonOptions): AsyncGenerator<string> {
  const scan: TrackScan = { count: 0, crosses: false, first: undefined, last: undefined };
  yield '{"type":"FeatureCollection","features":[';
  for await (const page of read()) yield scanPage(page, scan);
  yield* trackFeature(read, scan, options.userId);
  yield '\n]}\n';
}
