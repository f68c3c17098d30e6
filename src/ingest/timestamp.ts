import { MAX_YEAR, MIN_YEAR } from './limits.js';
import type { Result } from './point.js';

/** A wall-clock time as the device wrote it, with the offset it gave, if any. */
export interface LocalTimestamp {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** Minutes east of UTC when the string carried `Z` or `±HH:MM`; null when the zone must come from the position. */
  offsetMinutes: number | null;
}

const MAX_OFFSET_MINUTES = 18 * 60;

/*
 * The grammar, as the regex this scanner replaced wrote it (timestamp.test.ts keeps that regex as the oracle the
 * scanner is checked against):
 *
 *   ^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$
 *
 * A regex took over a microsecond per point, and every point is parsed twice (format check, then conversion).
 * `\d` without the u flag is ASCII 0-9 only, as digitAt and digitInside are.
 *
 * TRICKY: the fraction may carry up to nine digits, but only milliseconds are kept (truncated, never rounded, so a
 * point never moves into the next second or minute).
 */

export const TIMESTAMP_FORMAT_HINT =
  "must look like 'YYYY-MM-DD HH:MM:SS', optionally with a fraction (.fff) and an offset (Z, +02:00, -0500)";

const DATE_TIME_LENGTH = 'YYYY-MM-DD HH:MM:SS'.length;
const MAX_FRACTION_DIGITS = 9;
const CHAR_0 = 0x30;
const CHAR_DASH = 0x2d;
const CHAR_PLUS = 0x2b;
const CHAR_COLON = 0x3a;
const CHAR_DOT = 0x2e;
const CHAR_SPACE = 0x20;
const CHAR_T = 0x54;
const CHAR_t = 0x74;
const CHAR_Z = 0x5a;
const CHAR_z = 0x7a;

/**
 * The UTF-16 code unit at i, or -1 past the end. Never index past the end: charCodeAt gives NaN there, but
 * optimised code deoptimises on it ("out of bounds"), and a timestamp without fraction or offset ends right there.
 */
function codeAt(text: string, i: number): number {
  return i < text.length ? text.charCodeAt(i) : -1;
}

/** The ASCII digit at i as a number, or -1. */
function digitAt(text: string, i: number): number {
  const d = codeAt(text, i) - CHAR_0;
  return d >= 0 && d <= 9 ? d : -1;
}

/** The two-digit number at i, or -1 when either is not an ASCII digit. */
function twoDigitsAt(text: string, i: number): number {
  const tens = digitAt(text, i);
  const units = digitAt(text, i + 1);
  return tens < 0 || units < 0 ? -1 : tens * 10 + units;
}

/**
 * The ASCII digit at i, which must be inside the text, as a number, or -1. For the fixed date-time part, once the
 * length is checked: flat reads without codeAt's check measured some 40–70 ns per text cheaper here.
 */
function digitInside(text: string, i: number): number {
  const d = text.charCodeAt(i) - CHAR_0;
  return d >= 0 && d <= 9 ? d : -1;
}

/** True when `YYYY-MM-DD?HH:MM:SS` has its separators where they belong (the digits are checked as they are read). */
function separatorsFit(text: string): boolean {
  const between = text.charCodeAt(10);
  return (
    text.charCodeAt(4) === CHAR_DASH &&
    text.charCodeAt(7) === CHAR_DASH &&
    (between === CHAR_T || between === CHAR_t || between === CHAR_SPACE) &&
    text.charCodeAt(13) === CHAR_COLON &&
    text.charCodeAt(16) === CHAR_COLON
  );
}

/** Where the fraction starting at `start` ends (`start` itself when there is none), or -1 when it is malformed. */
function fractionEnd(text: string, start: number): number {
  if (codeAt(text, start) !== CHAR_DOT) return start;
  let end = start + 1;
  while (digitAt(text, end) >= 0) end++;
  const digits = end - start - 1;
  return digits >= 1 && digits <= MAX_FRACTION_DIGITS ? end : -1;
}

/** The milliseconds of the fraction in text[start, end): its first three digits, missing ones read as zeros. */
function fractionMillis(text: string, start: number, end: number): number {
  const digits = end - start - 1;
  if (digits <= 0) return 0;
  let millis = digitAt(text, start + 1) * 100;
  if (digits >= 2) millis += digitAt(text, start + 2) * 10;
  if (digits >= 3) millis += digitAt(text, start + 3);
  return millis;
}

// scan's answer for a text that fits the grammar but whose offset minute is 60 or more: that is the first problem
// reported, before any field's range.
const BAD_OFFSET_MINUTE = 'bad offset minute';

/**
 * Minutes east of the offset that ends the text from `start` (`Z`, `±HH`, `±HHMM` or `±HH:MM`; not empty):
 * undefined when it is malformed, NaN when its minute is out of range.
 */
function scanOffset(text: string, start: number): number | undefined {
  const length = text.length;
  const first = codeAt(text, start);
  if (first === CHAR_Z || first === CHAR_z) return start + 1 === length ? 0 : undefined;
  if (first !== CHAR_PLUS && first !== CHAR_DASH) return undefined;
  const hours = twoDigitsAt(text, start + 1);
  if (hours < 0) return undefined;
  let minutes = hours * 60;
  if (start + 3 !== length) {
    const minuteAt = codeAt(text, start + 3) === CHAR_COLON ? start + 4 : start + 3;
    const digits = twoDigitsAt(text, minuteAt);
    if (digits < 0 || minuteAt + 2 !== length) return undefined;
    if (digits > 59) return NaN;
    minutes += digits;
  }
  // `-00` gives -0, as `-minutes` always did.
  return first === CHAR_DASH ? -minutes : minutes;
}

/**
 * The fields of a text that fits the grammar, no range checked but the offset minute's; null when it does not fit.
 */
function scan(text: string): LocalTimestamp | typeof BAD_OFFSET_MINUTE | null {
  if (text.length < DATE_TIME_LENGTH || !separatorsFit(text)) return null;
  const y1 = digitInside(text, 0);
  const y2 = digitInside(text, 1);
  const y3 = digitInside(text, 2);
  const y4 = digitInside(text, 3);
  const mo1 = digitInside(text, 5);
  const mo2 = digitInside(text, 6);
  const d1 = digitInside(text, 8);
  const d2 = digitInside(text, 9);
  const h1 = digitInside(text, 11);
  const h2 = digitInside(text, 12);
  const mi1 = digitInside(text, 14);
  const mi2 = digitInside(text, 15);
  const s1 = digitInside(text, 17);
  const s2 = digitInside(text, 18);
  if ((y1 | y2 | y3 | y4 | mo1 | mo2 | d1 | d2 | h1 | h2 | mi1 | mi2 | s1 | s2) < 0) return null;
  const end = fractionEnd(text, DATE_TIME_LENGTH);
  if (end < 0) return null;
  // Most texts end here; not calling scanOffset for them is measurably cheaper.
  const offsetMinutes = end === text.length ? null : scanOffset(text, end);
  if (offsetMinutes === undefined) return null;
  if (Number.isNaN(offsetMinutes)) return BAD_OFFSET_MINUTE;
  const millisecond = fractionMillis(text, DATE_TIME_LENGTH, end);
  return {
    year: y1 * 1000 + y2 * 100 + y3 * 10 + y4,
    month: mo1 * 10 + mo2,
    day: d1 * 10 + d2,
    hour: h1 * 10 + h2,
    minute: mi1 * 10 + mi2,
    second: s1 * 10 + s2,
    millisecond,
    offsetMinutes,
  };
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days in a month of the proleptic Gregorian calendar (as Date uses), month 1–12. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function rangeMessage(value: number, what: string, min: number, max: number): string {
  return `${what} ${value} is out of range ${min}–${max}`;
}

function rangeError(value: number, what: string, min: number, max: number): string | null {
  return value < min || value > max ? rangeMessage(value, what, min, max) : null;
}

// The day's message names the month, so it is built only once the day is known to be wrong.
function dayError(t: LocalTimestamp): string | null {
  const last = daysInMonth(t.year, t.month);
  if (t.day >= 1 && t.day <= last) return null;
  return rangeError(t.day, `day of ${t.year}-${String(t.month).padStart(2, '0')}`, 1, last);
}

/** The first field out of range, in the order year, month, day, hour, minute, second, offset. */
function checkFields(t: LocalTimestamp): string | null {
  return (
    rangeError(t.year, 'year', MIN_YEAR, MAX_YEAR) ??
    rangeError(t.month, 'month', 1, 12) ??
    dayError(t) ??
    rangeError(t.hour, 'hour', 0, 23) ??
    rangeError(t.minute, 'minute', 0, 59) ??
    rangeError(t.second, 'second', 0, 59) ??
    (t.offsetMinutes !== null && Math.abs(t.offsetMinutes) > MAX_OFFSET_MINUTES
      ? 'offset is beyond ±18:00'
      : null)
  );
}

function timestampError(message: string): Result<LocalTimestamp> {
  return { ok: false, errors: [{ field: 'timestamp', message }] };
}

function notRealTime(problem: string): Result<LocalTimestamp> {
  return timestampError(`is not a real time: ${problem}`);
}

/*
 * A zone name after a date-time (`… EST`, `… America/New_York`, `…[America/New_York]` as RFC 9557 writes it, after
 * an offset or not): Locus takes the zone from the position, so such a text gets its own message. Only a text the
 * grammar refused is tried, and only a short one: the suffix is searched from every position, which would take
 * quadratic time on a long run of spaces. A bracketed `key=value` (`[u-ca=hebrew]`) is not a zone.
 */
const ZONE_NAME_SUFFIX =
  /(?: *\[([^\]\s=]{1,64})\]| +([A-Z]{2,5}|[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)+))$/;
const MAX_ZONE_NAMED_LENGTH = 128;
/** Upper-case words after a time that are not zones. */
const NOT_ZONES = new Set(['AM', 'PM']);

/** The zone name that ends a text which, without it, fits the grammar; null for any other text. */
function zoneNameOf(text: string): string | null {
  if (text.length > MAX_ZONE_NAMED_LENGTH) return null;
  const found = ZONE_NAME_SUFFIX.exec(text);
  const bracketed = found?.[1];
  const name = bracketed ?? found?.[2];
  // AM and PM after a time are a 12-hour clock, not zones; in brackets (RFC 9557's place for a zone) any name is one.
  if (found === null || name === undefined || (bracketed === undefined && NOT_ZONES.has(name))) return null;
  return scan(text.slice(0, found.index)) === null ? null : name;
}

/** The message for a timestamp that names its zone. */
export function zoneNameMessage(name: string): string {
  return (
    `must not name a time zone ('${name}'): the zone comes from the coordinates (lat, long); ` +
    'send the wall time alone, or with an offset (+02:00, -0500, Z)'
  );
}

/** Parses and checks a device timestamp; the error message says what is wrong with it. */
export function parseTimestamp(text: string): Result<LocalTimestamp> {
  const value = scan(text);
  if (value === null) {
    const zone = zoneNameOf(text);
    return timestampError(zone === null ? TIMESTAMP_FORMAT_HINT : zoneNameMessage(zone));
  }
  // An offset with minutes ends the text, so the bad minute is its last two digits.
  if (value === BAD_OFFSET_MINUTE)
    return notRealTime(rangeMessage(twoDigitsAt(text, text.length - 2), 'offset minute', 0, 59));
  const problem = checkFields(value);
  return problem === null ? { ok: true, value } : notRealTime(problem);
}

const DAY_MS = 86_400_000;

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar, year ≥ 0 (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/**
 * True for the fields parseTimestamp can produce (a day past the month's end included, which both ways of counting
 * roll into the next month alike): there the arithmetic is exactly Date.UTC's.
 */
function fitsArithmetic(t: LocalTimestamp): boolean {
  return (
    isIntegerIn(t.year, MIN_YEAR, MAX_YEAR) &&
    isIntegerIn(t.month, 1, 12) &&
    isIntegerIn(t.day, 1, 31) &&
    isIntegerIn(t.hour, 0, 23) &&
    isIntegerIn(t.minute, 0, 59) &&
    isIntegerIn(t.second, 0, 59) &&
    isIntegerIn(t.millisecond, 0, 999)
  );
}

/** The wall time read as if it were UTC, in milliseconds: the instant for an explicit offset of zero. */
export function wallClockMs(t: LocalTimestamp): number {
  // Date.UTC costs about a hundred nanoseconds (a call into the runtime); the arithmetic, a few.
  if (fitsArithmetic(t)) {
    const time = t.hour * 3_600_000 + t.minute * 60_000 + t.second * 1000 + t.millisecond;
    return daysFromCivil(t.year, t.month, t.day) * DAY_MS + time;
  }
  // Date.UTC maps years 0–99 to 1900–1999, which MIN_YEAR rules out.
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.millisecond);
}

/**
 * An instant given in a query (`from`, `to`): a date (`2017-01-01`, midnight UTC) or a date and time with an optional
 * offset (none means UTC). Null when it is not one.
 */
export function parseInstant(text: string): number | null {
  const parsed = parseTimestamp(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!parsed.ok) return null;
  return wallClockMs(parsed.value) - (parsed.value.offsetMinutes ?? 0) * 60_000;
}
