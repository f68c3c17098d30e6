import type { LocationInput } from '../schemas/location.js';
import { resolveUtc, zoneAt, type ZoneLookup } from './resolve-utc.js';
import { parseTimestamp } from './timestamp.js';
import type { Point, Result } from './point.js';
import { validateLocation } from './checks.js';

export interface PrepareOptions {
  zoneLookup?: ZoneLookup;
  /**
   * Points whose instant is before this bound are refused: their dedupe keys may already have been pruned, so they
   * could no longer be told apart from a resend. Absent: no bound.
   */
  oldestAcceptedMs?: number;
}

/**
 * A point's fields once its format has been checked: PUT /location's, except that app formats and imports may
 * lack accuracy or speed.
 */
export type PointInput = Omit<LocationInput, 'accuracy' | 'speed'> & {
  accuracy: number | null;
  speed: number | null;
};

/** A validated input turned into a store point: the UTC instant resolved, the retention bound checked. */
export function toPoint(input: PointInput, options: PrepareOptions = {}): Result<Point> {
  const parsed = parseTimestamp(input.timestamp);
  if (!parsed.ok) return parsed;
  const tsMs = resolveUtc(parsed.value, input.lat, input.long, options.zoneLookup ?? zoneAt);
  if (options.oldestAcceptedMs !== undefined && tsMs < options.oldestAcceptedMs) {
    const bound = new Date(options.oldestAcceptedMs).toISOString();
    return {
      ok: false,
      errors: [
        { field: 'timestamp', message: `is older than the retention window (points before ${bound})` },
      ],
    };
  }
  const { user_id: userId, lat, long, accuracy, speed } = input;
  return { ok: true, value: { userId, tsMs, lat, long, accuracy, speed } };
}

/** The whole pure front of the pipeline for one raw body: validate, then resolve. */
export function preparePoint(body: unknown, options: PrepareOptions = {}): Result<Point> {
  const valid = validateLocation(body);
  return valid.ok ? toPoint(valid.value, options) : valid;
}
