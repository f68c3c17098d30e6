import type { ComposeOptions } from '../compose.js';
import { MAX_INSTANT_MS, MIN_INSTANT_MS } from '../limits.js';
import type { Point, Result } from '../point.js';
import { composeRead, instantTimestamp, type ReadFix } from './fix.js';

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

/** One field as read: the name it was sent as (its first name when it was not), and its value or errors. */
interface FieldRead<T> {
  name: string;
  value: Result<T>;
}

/** A field's value: `parse` of its parameter, or `absent()` when none carries a value. */
function readField<T>(
  params: URLSearchParams,
  field: Field,
  parse: (param: Param) => Result<T>,
  absent: (name: string) => Result<T>,
): FieldRead<T> {
  const first = OSMAND_PARAMS[field][0];
  const param = paramOf(params, field);
  if (!param.ok) return { name: first, value: param };
  if (param.value === undefined) return { name: first, value: absent(first) };
  return { name: param.value.name, value: parse(param.value) };
}

function required(name: string): Result<never> {
  return { ok: false, errors: [{ field: name, message: 'is required' }] };
}

function notSent(): Result<null> {
  return { ok: true, value: null };
}

function text(param: Param): Result<string> {
  return { ok: true, value: param.text };
}

// Only the syntax: the ranges are the composer's to check.
function decimal(param: Param): Result<number> {
  if (DECIMAL.test(param.text)) return { ok: true, value: Number(param.text) };
  return {
    ok: false,
    errors: [{ field: param.name, message: `must be a number, got ${JSON.stringify(param.text)}` }],
  };
}

// An unescaped `+` in a query string arrives as a space, so `…T13:05:12+02:00` reads `…T13:05:12 02:00`; the
// timestamp format has no other place for a second space.
function restorePlus(text: string): string {
  return text.replace(/^(\S+[Tt ]\S+) (\d{2}(?::?\d{2})?)$/, '$1+$2');
}

/**
 * The timestamp as text PUT /location takes: an epoch (seconds or milliseconds) as UTC, an ISO 8601 text as is
 * (the composer parses it). An epoch is range-checked here because no Date, so no text, holds one far beyond.
 */
function timestampText(param: Param): Result<string> {
  if (!EPOCH.test(param.text)) return { ok: true, value: restorePlus(param.text) };
  const value = Number(param.text);
  const ms = value >= MILLISECONDS_FROM ? value : value * 1000;
  if (ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS) return { ok: true, value: instantTimestamp(ms) };
  return { ok: false, errors: [{ field: param.name, message: 'is not between the years 1900 and 9999' }] };
}

function valueOf<T>(read: FieldRead<T>): T | undefined {
  return read.value.ok ? read.value.value : undefined;
}

/** A request's fields as sent, in the order of OsmAnd's URL, for the composer. */
function readParams(params: URLSearchParams): ReadFix {
  const user = readField(params, 'userId', text, required);
  const lat = readField(params, 'lat', decimal, required);
  const long = readField(params, 'long', decimal, required);
  const timestamp = readField(params, 'timestamp', timestampText, required);
  const accuracy = readField<number | null>(params, 'accuracy', decimal, notSent);
  const speed = readField<number | null>(params, 'speed', decimal, notSent);
  const reads = [user, lat, long, timestamp, accuracy, speed];
  return {
    fields: {
      user_id: valueOf(user),
      lat: valueOf(lat),
      long: valueOf(long),
      timestamp: valueOf(timestamp),
      accuracy: valueOf(accuracy),
      speed: valueOf(speed),
    },
    errors: reads.flatMap((read) => (read.value.ok ? [] : read.value.errors)),
    names: {
      user_id: user.name,
      lat: lat.name,
      long: long.name,
      timestamp: timestamp.name,
      accuracy: accuracy.name,
      speed: speed.name,
    },
  };
}

/** One OsmAnd / GPSLogger request (its query and form parameters) as a point; every field at fault is reported. */
export function osmandToPoint(params: URLSearchParams, options: ComposeOptions = {}): Result<Point> {
  return composeRead(readParams(params), options);
}
