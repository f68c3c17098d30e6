import { normalUserId } from '../schemas/ajv.js';
import { checkFix, type FieldRules } from './checks.js';
import type { Point, Result } from './point.js';
import { resolveUtc, zoneAt, type ZoneLookup } from './resolve-utc.js';

/*
 * The one way in for a point. Every door (PUT /location, POST /locations, the app formats over HTTP and MQTT, the
 * import readers) maps its payload to a RawFix and hands it here; the stages run in this order, always:
 *   0. user id: in Unicode NFC, so that the Point's userId, and with it the user's key, is the normalised id;
 *   1. fields: PUT /location's rules for every field (checks.ts), the timestamp parsed once;
 *   2. UTC: the wall time's own offset, or the zone at the position (resolve-utc.ts);
 *   3. bound: an instant older than the dedupe retention is refused.
 * Each stage is a plain function with its own tests; this module only orders them.
 */

export interface ComposeOptions {
  /** The door's field rules: `put` (accuracy and speed required) or `nullable` (the default). */
  rules?: FieldRules;
  zoneLookup?: ZoneLookup;
  /**
   * Points whose instant is before this bound are refused: their dedupe keys may already have been pruned, so they
   * could no longer be told apart from a resend. Absent: no bound.
   */
  oldestAcceptedMs?: number;
}

/** Stage 3: the retention bound, as a result. */
export function checkRetention(point: Point, oldestAcceptedMs: number | undefined): Result<Point> {
  if (oldestAcceptedMs === undefined || point.tsMs >= oldestAcceptedMs) return { ok: true, value: point };
  const bound = new Date(oldestAcceptedMs).toISOString();
  return {
    ok: false,
    errors: [{ field: 'timestamp', message: `is older than the retention window (points before ${bound})` }],
  };
}

/**
 * Stage 0: the raw fix with its user id in Unicode NFC, so that `Ä` sent composed (U+00C4) and as `A` + U+0308 are
 * one user, whichever door it came through. The fields stage then checks the normalised id: its length (1–128 code
 * points) is counted after normalisation. A fix whose id is already NFC (nearly all: ASCII is) is returned as is;
 * otherwise a copy, never the caller's object changed. Anything that is not a string is left to the fields stage.
 */
export function withNormalUserId(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !Object.hasOwn(raw, 'user_id')) return raw;
  const userId = (raw as { user_id: unknown }).user_id;
  if (typeof userId !== 'string') return raw;
  const normal = normalUserId(userId);
  return normal === userId ? raw : { ...raw, user_id: normal };
}

/**
 * A raw fix as a store point, or every reason it cannot be one (fields named as PUT /location names them; a door
 * renames them to its payload's). `raw` is a RawFix as a mapper or reader built it, or a Locus JSON body as it
 * arrived, which the first stage checks is one.
 */
export function composePoint(raw: unknown, options: ComposeOptions = {}): Result<Point> {
  const checked = checkFix(withNormalUserId(raw), options.rules ?? 'nullable');
  if (!checked.ok) return checked;
  const { fields, wallTime } = checked.value;
  const { user_id: userId, lat, long, accuracy, speed } = fields;
  const tsMs = resolveUtc(wallTime, lat, long, options.zoneLookup ?? zoneAt);
  return checkRetention({ userId, tsMs, lat, long, accuracy, speed }, options.oldestAcceptedMs);
}
