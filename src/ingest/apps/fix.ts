import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { createAjv, normalUserId } from '../../schemas/ajv.js';
import { LocationSchema } from '../../schemas/location.js';
import { composePoint, type ComposeOptions } from '../compose.js';
import type { FieldError, Point, RawFix, Result } from '../point.js';
import { fieldErrorsFromAjv } from '../checks.js';

/*
 * What the app formats have in common. Each format checks its own payload against a TypeBox schema whose fields
 * reuse the PUT /location field schemas (same ranges, same messages), converts units, maps it to a RawFix, and
 * hands that to the one composer (../compose.ts) through composeNamed, which names the composer's errors with the
 * format's own field names.
 */

/** The one item of a batch that could not be stored, by its position in the batch. */
export interface ItemError {
  index: number;
  errors: FieldError[];
}

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

/**
 * Checks a user id with the PUT /location rules, on its NFC form as the composer does (so the length is counted
 * after normalisation), and returns that form; errors are named `field`.
 */
export function checkUserId(userId: unknown, field: string): Result<string> {
  const checked = checkUserIdText(typeof userId === 'string' ? normalUserId(userId) : userId);
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

/** A fix through the composer, its errors named as the format names its fields (`{ timestamp: 'tst' }`). */
export function composeNamed(
  fix: RawFix,
  options: ComposeOptions,
  names: Readonly<Record<string, string>>,
): Result<Point> {
  const composed = composePoint(fix, options);
  return composed.ok ? composed : { ok: false, errors: renameFields(composed.errors, names) };
}
