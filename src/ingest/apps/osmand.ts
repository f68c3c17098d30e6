import { LocationSchema } from '../../schemas/location.js';
import type { ComposeOptions } from '../compose.js';
import { MAX_INSTANT_MS, MIN_INSTANT_MS } from '../limits.js';
import type { FieldError, Point, Result } from '../point.js';
import { checkUserId, compileCheck, composeNamed, instantTimestamp, renameFields } from './fix.js';

/*
 * The OsmAnd / GPSLogger "custom URL" protocol: one fix per request, as query parameters (or a form body).
 * OsmAnd's online tracking fills {0} lat, {1} lon, {2} time in milliseconds, {3} accuracy in metres (its
 * placeholder is conventionally named hdop), {5} speed in m/s. GPSLogger sends %LAT, %LON, %TIMESTAMP in seconds,
 * %TIME in ISO 8601, %SPD in m/s, %ACC in metres; its %ALL body names them lat, lon, timestamp, spd, acc.
 */

/** The parameter names read for each field, in order of preference. */
export const OSMAND_PARAMS = {
  userId: ['id', 'deviceid'],
  lat: ['lat'],
  long: ['lon', 'long'],
  timestamp: ['timestamp'],
  speed: ['speed', 'spd'],
  accuracy: ['accuracy', 'acc', 'hdop'],
} as const;

type Field = keyof typeof OSMAND_PARAMS;

/** A value as sent, with the name it was sent under (to name it in errors). */
interface Param {
  name: string;
  text: string;
}

// Decimal numbers as Java, Kotlin and printf write them; unlike Number(), no hex, no blanks, no Infinity.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH = /^\d+(?:\.\d+)?$/;
// From 10,000,000,000 on, an epoch is read as milliseconds: as seconds it would be past the year 2286.
const MILLISECONDS_FROM = 1e10;

const checkLat = compileCheck(LocationSchema.properties.lat);
const checkLong = compileCheck(LocationSchema.properties.long);
const checkAccuracy = compileCheck(LocationSchema.properties.accuracy);
const checkSpeed = compileCheck(LocationSchema.properties.speed);
const checkTimestampText = compileCheck(LocationSchema.properties.timestamp);

/** The first of the field's names that carries a value; an empty value counts as not sent. */
function paramOf(params: URLSearchParams, field: Field): Result<Param | undefined> {
  for (const name of OSMAND_PARAMS[field]) {
    const values = [...new Set(params.getAll(name))].filter((v) => v !== '');
    if (values.length > 1)
      return { ok: false, errors: [{ field: name, message: 'is given more than once' }] };
    const [text] = values;
    if (text !== undefined) return { ok: true, value: { name, text } };
  }
  return { ok: true, value: undefined };
}

/** The field's parameter, which must carry a value. */
function requiredParamOf(params: URLSearchParams, field: Field): Result<Param> {
  const param = paramOf(params, field);
  if (!param.ok) return param;
  if (param.value) return { ok: true, value: param.value };
  return { ok: false, errors: [{ field: OSMAND_PARAMS[field][0], message: 'is required' }] };
}

function numberIn(param: Param, check: (value: unknown) => Result<number>): Result<number> {
  if (!DECIMAL.test(param.text))
    return {
      ok: false,
      errors: [{ field: param.name, message: `must be a number, got ${JSON.stringify(param.text)}` }],
    };
  const checked = check(Number(param.text));
  return checked.ok ? checked : { ok: false, errors: renameFields(checked.errors, { body: param.name }) };
}

function optionalNumber(
  param: Param | undefined,
  check: (value: unknown) => Result<number>,
): Result<number | null> {
  return param === undefined ? { ok: true, value: null } : numberIn(param, check);
}

// An unescaped `+` in a query string arrives as a space, so `…T13:05:12+02:00` reads `…T13:05:12 02:00`; the
// timestamp format has no other place for a second space.
function restorePlus(text: string): string {
  return text.replace(/^(\S+[Tt ]\S+) (\d{2}(?::?\d{2})?)$/, '$1+$2');
}

/** The timestamp as text PUT /location takes: an epoch (seconds or milliseconds) as UTC, an ISO 8601 text as is. */
function timestampText(param: Param): Result<string> {
  if (EPOCH.test(param.text)) {
    const value = Number(param.text);
    const ms = value >= MILLISECONDS_FROM ? value : value * 1000;
    if (ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS) return { ok: true, value: instantTimestamp(ms) };
    return { ok: false, errors: [{ field: param.name, message: 'is not between the years 1900 and 9999' }] };
  }
  const text = restorePlus(param.text);
  const checked = checkTimestampText(text);
  return checked.ok ? checked : { ok: false, errors: renameFields(checked.errors, { body: param.name }) };
}

function collect<T extends Record<string, Result<unknown>>>(
  results: T,
): Result<{ [K in keyof T]: T[K] extends Result<infer V> ? V : never }> {
  const errors: FieldError[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, result] of Object.entries(results)) {
    if (result.ok) values[key] = result.value;
    else errors.push(...result.errors);
  }
  // Every entry was ok, so `values` holds each key's value.
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, value: values as { [K in keyof T]: T[K] extends Result<infer V> ? V : never } };
}

function andThen<A, B>(result: Result<A>, next: (value: A) => Result<B>): Result<B> {
  return result.ok ? next(result.value) : result;
}

/** One OsmAnd / GPSLogger request (its query and form parameters) as a point; every field at fault is reported. */
export function osmandToPoint(params: URLSearchParams, options: ComposeOptions = {}): Result<Point> {
  const required = (field: Field) => requiredParamOf(params, field);
  const optional = (field: Field) => paramOf(params, field);
  const fields = collect({
    userId: andThen(required('userId'), ({ name, text }) => checkUserId(text, name)),
    lat: andThen(required('lat'), (p) => numberIn(p, checkLat)),
    long: andThen(required('long'), (p) => numberIn(p, checkLong)),
    timestamp: andThen(required('timestamp'), timestampText),
    accuracy: andThen(optional('accuracy'), (p) => optionalNumber(p, checkAccuracy)),
    speed: andThen(optional('speed'), (p) => optionalNumber(p, checkSpeed)),
  });
  return andThen(fields, ({ userId, ...fix }) => composeNamed({ user_id: userId, ...fix }, options, {}));
}
