import type { Result } from './types.js';

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

export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;
const MAX_OFFSET_MINUTES = 18 * 60;

// TRICKY: the fraction may carry up to nine digits, but only milliseconds are kept (truncated, never rounded, so a
// point never moves into the next second or minute).
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

export const TIMESTAMP_FORMAT_HINT =
  "must look like 'YYYY-MM-DD HH:MM:SS', optionally with a fraction (.fff) and an offset (Z, +02:00, -0500)";

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function rangeError(value: number, what: string, min: number, max: number): string | null {
  return value < min || value > max ? `${what} ${value} is out of range ${min}–${max}` : null;
}

function checkFields(t: LocalTimestamp): string | null {
  return (
    rangeError(t.year, 'year', MIN_YEAR, MAX_YEAR) ??
    rangeError(t.month, 'month', 1, 12) ??
    rangeError(
      t.day,
      `day of ${t.year}-${String(t.month).padStart(2, '0')}`,
      1,
      daysInMonth(t.year, t.month),
    ) ??
    rangeError(t.hour, 'hour', 0, 23) ??
    rangeError(t.minute, 'minute', 0, 59) ??
    rangeError(t.second, 'second', 0, 59) ??
    (t.offsetMinutes !== null && Math.abs(t.offsetMinutes) > MAX_OFFSET_MINUTES
      ? 'offset is beyond ±18:00'
      : null)
  );
}

function parseOffset(zulu: string | undefined, sign?: string, hh?: string, mm?: string): number | null {
  if (zulu) return 0;
  if (!sign || !hh) return null;
  const minutes = Number(hh) * 60 + Number(mm ?? '0');
  return sign === '-' ? -minutes : minutes;
}

/** Parses and checks a device timestamp; the error message says what is wrong with it. */
export function parseTimestamp(text: string): Result<LocalTimestamp> {
  const m = TIMESTAMP.exec(text);
  if (!m) return { ok: false, errors: [{ field: 'timestamp', message: TIMESTAMP_FORMAT_HINT }] };
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = m;
  const value: LocalTimestamp = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
    millisecond: fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0,
    offsetMinutes: parseOffset(zulu, sign, oh, om),
  };
  const problem = (om ? rangeError(Number(om), 'offset minute', 0, 59) : null) ?? checkFields(value);
  if (problem)
    return { ok: false, errors: [{ field: 'timestamp', message: `is not a real time: ${problem}` }] };
  return { ok: true, value };
}

/** The wall time read as if it were UTC, in milliseconds: the instant for an explicit offset of zero. */
export function wallClockMs(t: LocalTimestamp): number {
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
