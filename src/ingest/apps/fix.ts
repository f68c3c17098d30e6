import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { createAjv } from '../../schemas/ajv.js';
import { LocationSchema } from '../../schemas/location.js';
import { toPoint, type PrepareOptions } from '../compose.js';
import { MAX_YEAR, MIN_YEAR } from '../timestamp.js';
import type { FieldError, Point, Result } from '../point.js';
import { fieldErrorsFromAjv } from '../checks.js';

/*
 * What the app formats have in common. Each format checks its own payload against a TypeBox schema whose fields
 * reuse the PUT /location field schemas (same ranges, same messages), converts units, and hands a Fix to
 * fixToPoint, which runs the same stage as PUT /location (timestamp parsing, UTC resolution, retention bound).
 */

/** One location fix as an app format maps it: the PUT /location fields, with accuracy and speed null when absent. */
export interface Fix {
  userId: string;
  /** Device timestamp text as PUT /location takes it: with an offset, or without one for the zone at (lat, long). */
  timestamp: string;
  lat: number;
  long: number;
  /** Metres. */
  accuracy: number | null;
  /** Metres per second. */
  speed: number | null;
}

/** The one item of a batch that could not be stored, by its position in the batch. */
export interface ItemError {
  index: number;
  errors: FieldError[];
}

/** The instants a timestamp text can express (years MIN_YEAR–MAX_YEAR), for formats that send epoch times. */
export const MIN_INSTANT_MS = Date.UTC(MIN_YEAR, 0, 1);
export const MAX_INSTANT_MS = Date.UTC(MAX_YEAR, 11, 31, 23, 59, 59, 999);
export const MIN_EPOCH_SECONDS = MIN_INSTANT_MS / 1000;
export const MAX_EPOCH_SECONDS = Math.floor(MAX_INSTANT_MS / 1000);

const strict = createAjv('strict');

// Formats tell their payloads apart by constants (`_type`, `type: "Feature"`); Ajv's own wording for them is
// "must be equal to constant", which does not say which one.
function sayConstant(error: ErrorObject): ErrorObject {
  if (error.keyword !== 'const') return error;
  const { allowedValue } = error.params as { allowedValue: unknown };
  return { ...error, message: `must be ${JSON.stringify(allowedValue)}, not ${JSON.stringify(error.data)}` };
}

/** A checker for a format's schema: the typed value, or one message per field at fault. */
export function compileCheck<S extends TSchema>(schema: S): (value: unknown) => Result<Static<S>> {
  const check = strict.compile<Static<S>>(schema);
  return (value) =>
    check(value)
      ? { ok: true, value }
      : { ok: false, errors: fieldErrorsFromAjv((check.errors ?? []).map(sayConstant)) };
}

const checkUserIdText = compileCheck(LocationSchema.properties.user_id);

/** Checks a user id with the PUT /location rules; errors are named `field`. */
export function checkUserId(userId: unknown, field: string): Result<string> {
  const checked = checkUserIdText(userId);
  return checked.ok ? checked : { ok: false, errors: renameFields(checked.errors, { body: field }) };
}

/** Errors with some field names replaced: a format names its fields differently from PUT /location. */
export function renameFields(
  errors: readonly FieldError[],
  names: Readonly<Record<string, string>>,
): FieldError[] {
  return errors.map((e) => ({ field: names[e.field] ?? e.field, message: e.message }));
}

/** Errors of a nested value, named from the enclosing one: `body` becomes `prefix`, `lat` becomes `prefix.lat`. */
export function prefixFields(errors: readonly FieldError[], prefix: string): FieldError[] {
  return errors.map((e) => ({
    field: e.field === 'body' ? prefix : `${prefix}.${e.field}`,
    message: e.message,
  }));
}

/**
 * A UTC instant as timestamp text. Epoch-based formats go through the same stage as every other point; the `Z`
 * offset means no zone lookup. The caller has checked the range (MIN_INSTANT_MS–MAX_INSTANT_MS).
 */
export function instantTimestamp(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

export function kmhToMps(kmh: number): number {
  // Dividing by 3600 after multiplying keeps whole km/h exact at the bounds (360,000 km/h is exactly 100,000 m/s).
  return (kmh * 1000) / 3600;
}

/** Resolves a fix's UTC instant and checks the retention bound, exactly as PUT /location does. */
export function fixToPoint(fix: Fix, options: PrepareOptions, timestampField: string): Result<Point> {
  const { userId: user_id, ...fields } = fix;
  const prepared = toPoint({ ...fields, user_id }, options);
  return prepared.ok
    ? prepared
    : { ok: false, errors: renameFields(prepared.errors, { timestamp: timestampField }) };
}
