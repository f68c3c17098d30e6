import { Type } from '@sinclair/typebox';
import { LocationSchema } from '../../schemas/location.js';
import { toPoint, type PrepareOptions } from '../compose.js';
import { parseTimestamp } from '../timestamp.js';
import type { Point, Result } from '../point.js';
import { compileCheck } from './fix.js';

/*
 * The PUT /location rules for points from batches and imports: the same field schemas (same ranges, same
 * messages), except that accuracy and speed may be null, as for the app formats, because files and trackers often
 * lack them. Then the same UTC resolution as PUT /location.
 */
const { accuracy, speed } = LocationSchema.properties;

const NullableExtrasSchema = Type.Object({
  ...LocationSchema.properties,
  // The timestamp's format is checked by toPoint's parseTimestamp, the same function behind the schema's format:
  // parsing it once instead of twice is a good part of the cost per point of a large import.
  timestamp: Type.String(),
  // TRICKY: the number schema comes first in each union, so that a bad number's first error (the one reported) is
  // the PUT /location message ("must be ≥ 0, got -1"), not "must be null".
  accuracy: Type.Union([accuracy, Type.Null()]),
  speed: Type.Union([speed, Type.Null()]),
});

const checkFields = compileCheck(NullableExtrasSchema);

function timestampOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null ? (body as { timestamp?: unknown }).timestamp : undefined;
}

/**
 * A point whose accuracy and speed may be null, as a store point, or every field at fault, named and worded as
 * PUT /location words them, in the same order (timestamp first, as in the schema).
 */
export function prepareWithNullableExtras(body: unknown, options: PrepareOptions = {}): Result<Point> {
  const checked = checkFields(body);
  if (checked.ok) return toPoint(checked.value, options);
  const timestamp = timestampOf(body);
  if (typeof timestamp !== 'string') return checked;
  const parsed = parseTimestamp(timestamp);
  return parsed.ok ? checked : { ok: false, errors: [...parsed.errors, ...checked.errors] };
}
