import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { createAjv, normalUserId } from '../../schemas/ajv.js';
import { LocationSchema } from '../../schemas/location.js';
import { composePoint, type ComposeOptions } from '../compose.js';
import type { FieldError, Point, RawFix, Result } from '../point.js';
import { fieldErrorsFromAjv } from '../checks.js';

/*
 * What the app formats have in common. Each format checks its own payload (against a TypeBox schema, or parameter
 * by parameter), converts units, maps it to a RawFix, and hands that to the one composer (../compose.ts) through
 * composeNamed, which names the composer's errors with the format's own field names, or through composeRead, which
 * also takes the format's own errors about what it could not read, so that the values are checked by the composer
 * alone even when the payload is wrong elsewhere.
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

/** The payload's name of each RawFix field, listed in the payload's order: `{ user_id: 'id', lat: 'lat', … }`. */
export type FieldNames = Readonly<Record<keyof RawFix, string>>;

/**
 * A fix as a door read it: the fields it could read, its own errors about the payload (a member of the wrong type,
 * a number that is not one), and the payload's name of each field. The composer's errors about a field left out of
 * `fields` are dropped, so `errors` must say what is wrong there.
 */
export interface ReadFix {
  fields: Partial<RawFix>;
  errors: FieldError[];
  names: FieldNames;
}

// Stands in for a field the door could not read: a value the composer refuses, and whose error is dropped, since
// the door has said what is wrong there.
const UNREAD: RawFix = { user_id: '', timestamp: '', lat: NaN, long: NaN, accuracy: NaN, speed: NaN };

function withStandIns(fields: Partial<RawFix>): RawFix {
  return {
    user_id: fields.user_id ?? UNREAD.user_id,
    timestamp: fields.timestamp ?? UNREAD.timestamp,
    lat: fields.lat ?? UNREAD.lat,
    long: fields.long ?? UNREAD.long,
    accuracy: fields.accuracy === undefined ? UNREAD.accuracy : fields.accuracy,
    speed: fields.speed === undefined ? UNREAD.speed : fields.speed,
  };
}

function wasRead(fields: Partial<RawFix>, field: string): boolean {
  return Object.hasOwn(UNREAD, field) && fields[field as keyof RawFix] !== undefined;
}

/**
 * Where a field comes in the payload (`order`): a listed field's place, a container's (`geometry`) that of its first
 * member listed, a listed field's member's that of the field; -1 for any other (`type`, which stays where it is).
 */
function payloadRank(field: string, order: readonly string[]): number {
  return order.findIndex(
    (name) => name === field || name.startsWith(`${field}.`) || field.startsWith(`${name}.`),
  );
}

/** The door's errors in their own order, each of the composer's before the first door error later in the payload. */
function inPayloadOrder(door: FieldError[], composer: FieldError[], order: readonly string[]): FieldError[] {
  const rank = (error: FieldError) => payloadRank(error.field, order);
  const pending = composer.toSorted((a, b) => rank(a) - rank(b));
  const merged: FieldError[] = [];
  let next = 0;
  for (const error of door) {
    for (; next < pending.length && rank(pending[next] as FieldError) < rank(error); next++) {
      merged.push(pending[next] as FieldError);
    }
    merged.push(error);
  }
  return [...merged, ...pending.slice(next)];
}

/**
 * A fix a door read, whole or in part, through the one composer, so that the rules of PUT /location (ranges, the
 * timestamp's format, the user id) are checked there alone. Its errors: the door's, with the composer's about the
 * fields the door did read, named and listed as the payload has them.
 */
export function composeRead(read: ReadFix, options: ComposeOptions): Result<Point> {
  const composed = composePoint(withStandIns(read.fields), options);
  if (composed.ok && read.errors.length === 0) return composed;
  const checked = composed.ok ? [] : composed.errors.filter((e) => wasRead(read.fields, e.field));
  const named = renameFields(checked, read.names);
  return { ok: false, errors: inPayloadOrder(read.errors, named, Object.values(read.names)) };
}
