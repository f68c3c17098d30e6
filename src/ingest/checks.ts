import { Type, type Static } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv, userIdProblem } from '../schemas/ajv.js';
import { LocationSchema } from '../schemas/location.js';
import { parseTimestamp, type LocalTimestamp } from './timestamp.js';
import type { FieldError, Result } from './point.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function formatMessage(format: unknown, value: unknown): string {
  switch (format) {
    case 'device-timestamp': {
      const parsed = parseTimestamp(String(value));
      return parsed.ok
        ? 'is not a valid timestamp'
        : (parsed.errors[0]?.message ?? 'is not a valid timestamp');
    }
    case 'user-id':
      return userIdProblem(String(value)) ?? 'is not a valid user id';
    case 'instant':
      return "must be an ISO 8601 date ('2017-01-01') or date-time ('2017-01-01T13:05:00Z')";
    default:
      return `must match format ${String(format)}`;
  }
}

function messageFor(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'type':
      // Ajv's number type excludes Infinity and NaN, which JSON.parse yields for 1e400.
      if (params.type === 'number' && typeof error.data === 'number')
        return `must be a finite number, not ${error.data}`;
      // Query parameters arrive as text, so "1.5" is what the client sent for an integer.
      if (params.type === 'integer') return `must be a whole number, not ${JSON.stringify(error.data)}`;
      return `must be ${describe(typeOfName(params.type))}, not ${describe(error.data)}`;
    case 'minimum':
      return `must be ≥ ${String(params.limit)}, got ${String(error.data)}`;
    case 'maximum':
      return `must be ≤ ${String(params.limit)}, got ${String(error.data)}`;
    case 'minLength':
      return `must have at least ${String(params.limit)} character(s)`;
    case 'maxLength':
      return `must have at most ${String(params.limit)} characters`;
    case 'format':
      return formatMessage(params.format, error.data);
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}, not ${JSON.stringify(error.data)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

// Stands in for a value of the expected JSON type, so that `describe` words "expected" and "got" the same way.
function typeOfName(type: unknown): unknown {
  const samples: Record<string, unknown> = {
    object: {},
    array: [],
    string: '',
    number: 0,
    integer: 0,
    boolean: true,
  };
  return typeof type === 'string' && type in samples ? samples[type] : type;
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing =
    error.keyword === 'required'
      ? String((error.params as { missingProperty: unknown }).missingProperty)
      : '';
  return [path, missing].filter(Boolean).join('.') || 'body';
}

/** Ajv's errors as one message per field, in the order found. */
export function fieldErrorsFromAjv(errors: readonly ErrorObject[]): FieldError[] {
  const byField = new Map<string, FieldError>();
  for (const error of errors) {
    const field = fieldOf(error);
    if (!byField.has(field)) byField.set(field, { field, message: messageFor(error) });
  }
  return [...byField.values()];
}

/*
 * The first stage of the composer: a raw fix's fields against the PUT /location rules. The timestamp is only
 * required to be text here: its format is checked by parsing it, once, and the parsed wall time is passed on to
 * the UTC stage, so no point's timestamp is parsed twice.
 */
const { accuracy, speed } = LocationSchema.properties;
const FIELDS = { ...LocationSchema.properties, timestamp: Type.String() };

/** PUT /location's own rule: accuracy and speed must be given. */
const PutFieldsSchema = Type.Object(FIELDS);
/**
 * Every other door: accuracy and speed may be null (not reported), because apps and files often lack them.
 * TRICKY: the number schema comes first in each union, so that a bad number's first error (the one reported) is
 * the PUT /location message ("must be ≥ 0, got -1"), not "must be null".
 */
const NullableFieldsSchema = Type.Object({
  ...FIELDS,
  accuracy: Type.Union([accuracy, Type.Null()]),
  speed: Type.Union([speed, Type.Null()]),
});

/** The fields of a fix that passed its checks; accuracy and speed null when not reported. */
export type FixFields = Static<typeof NullableFieldsSchema>;

/** Which rules a door's fixes follow: PUT /location's (`put`), or those of every other door (`nullable`). */
export type FieldRules = 'put' | 'nullable';

const strictAjv = createAjv('strict');
const checkers: Readonly<Record<FieldRules, ValidateFunction<FixFields>>> = {
  put: strictAjv.compile<FixFields>(PutFieldsSchema),
  nullable: strictAjv.compile<FixFields>(NullableFieldsSchema),
};

/** A fix whose fields passed the checks, with its timestamp parsed. */
export interface CheckedFix {
  fields: FixFields;
  wallTime: LocalTimestamp;
}

function timestampTextOf(raw: unknown): unknown {
  return typeof raw === 'object' && raw !== null ? (raw as { timestamp?: unknown }).timestamp : undefined;
}

/*
 * "Did you mean": a required field that is missing while the body has an unknown key that looks like it (`lng` for
 * `long`, `userId` for `user_id`) says which key was sent. A key is compared lower-cased and without `_`, `-` and
 * spaces. It looks like a field when it is the field's name or one of the names other APIs use for it (the aliases
 * below), or a typo of one: within two edits of the name, or one of an alias, and fewer edits than half the shorter
 * word's length (`lattitude` is `latitude`, but `alt` is not `lat`, nor `altitude` `latitude`).
 */
const FIELD_ALIASES: Readonly<Record<keyof FixFields, readonly string[]>> = {
  timestamp: ['time', 'ts', 'tst', 'date', 'datetime', 'recordedat', 'createdat'],
  lat: ['latitude'],
  long: ['lng', 'lon', 'longitude'],
  accuracy: ['acc', 'hacc', 'horizontalaccuracy', 'precision'],
  speed: ['velocity', 'vel', 'spd'],
  user_id: ['user', 'userid', 'uid', 'username', 'id', 'deviceid', 'device'],
};
const MAX_NAME_EDITS = 2;
const MAX_ALIAS_EDITS = 1;
/** How many unknown keys of one fix are compared: a typo sits among a few keys, and a hostile body has thousands. */
const MAX_KEYS_COMPARED = 64;
/** Longer keys are not typos of a field name (`l_o_n_g` padded with spaces is not), and are not quoted back. */
const MAX_LOOKALIKE_KEY_LENGTH = 40;

function canonicalKey(key: string): string {
  return key.toLowerCase().replace(/[-_ ]/g, '');
}

/** The Levenshtein distance of two words, or any number above `max` when it is above `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** The edits from a word to a name within `max` of them, or null when there are more or too many for its length. */
function editsWithin(word: string, name: string, max: number): number | null {
  if (word === name) return 0;
  const edits = editDistance(word, name, max);
  return edits <= max && 2 * edits < Math.min(word.length, name.length) ? edits : null;
}

/** How far a key (canonical) is from a field: 0 for its name or an alias, else its edits; null when too far. */
function keyDistance(key: string, field: keyof FixFields): number | null {
  let best = editsWithin(key, canonicalKey(field), MAX_NAME_EDITS);
  for (const alias of FIELD_ALIASES[field]) {
    const edits = editsWithin(key, alias, MAX_ALIAS_EDITS);
    if (edits !== null && (best === null || edits < best)) best = edits;
  }
  return best;
}

/** The unknown key of `raw` closest to a missing `field` (the first of equals), or null. */
function lookalikeKey(raw: object, field: keyof FixFields): string | null {
  let found: { key: string; edits: number } | null = null;
  let compared = 0;
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(FIELD_ALIASES, key) || key.length > MAX_LOOKALIKE_KEY_LENGTH) continue;
    if (++compared > MAX_KEYS_COMPARED) break;
    const edits = keyDistance(canonicalKey(key), field);
    if (edits !== null && (found === null || edits < found.edits)) found = { key, edits };
  }
  return found?.key ?? null;
}

/** Field errors with a "did you mean" added to each missing field that an unknown key of `raw` looks like. */
function withLookalikes(errors: FieldError[], raw: unknown): FieldError[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return errors;
  return errors.map((error) => {
    if (error.message !== 'is required' || !Object.hasOwn(FIELD_ALIASES, error.field)) return error;
    const key = lookalikeKey(raw, error.field as keyof FixFields);
    return key === null
      ? error
      : { ...error, message: `is required (got \`${key}\`: did you mean \`${error.field}\`?)` };
  });
}

/**
 * The field errors of a fix that failed its schema, with the timestamp's own error where the schema would have put
 * it had it checked the format: after the missing fields (reported first), before the other fields' errors. A
 * missing field says which unknown key looks like it (`lng`: did you mean `long`?).
 */
function withTimestampError(errors: readonly ErrorObject[], raw: unknown): FieldError[] {
  const fieldErrors = withLookalikes(fieldErrorsFromAjv(errors), raw);
  const text = timestampTextOf(raw);
  const parsed = typeof text === 'string' ? parseTimestamp(text) : null;
  if (parsed === null || parsed.ok) return fieldErrors;
  const missing = errors.filter((e) => e.keyword === 'required').length;
  return [...fieldErrors.slice(0, missing), ...parsed.errors, ...fieldErrors.slice(missing)];
}

/**
 * Checks a raw fix (an app mapper's RawFix, or a Locus JSON body as it arrived) under the door's rules: every
 * problem with every field, named and worded as PUT /location words them, or the fields and the parsed wall time.
 */
export function checkFix(raw: unknown, rules: FieldRules): Result<CheckedFix> {
  const check = checkers[rules];
  if (!check(raw)) return { ok: false, errors: withTimestampError(check.errors ?? [], raw) };
  const parsed = parseTimestamp(raw.timestamp);
  return parsed.ok ? { ok: true, value: { fields: raw, wallTime: parsed.value } } : parsed;
}
