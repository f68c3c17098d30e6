import type { FieldError } from '../point.js';

/*
 * JSON values read as a fix's fields, leniently and in a file reader's words (`not the string "12"`): shared by the
 * GeoJSON feature mapper (geojson-feature.ts, so by the Overland door too) and the import readers, which take them
 * from import/readers/record-parser.ts.
 */

// Date's range: ±100,000,000 days around 1970.
const MAX_DATE_MS = 8.64e15;
const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

// Date#toISOString costs about 1.3 µs (a quarter of a Takeout record's reading). Points come in time order, so the
// date part, `YYYY-MM-DDT`, is Date's own and made once a day; the time of day is plain arithmetic.
let cachedDay = NaN;
let cachedDate = '';

/**
 * Epoch milliseconds as PUT /location timestamp text (UTC, `Z`), exactly as Date#toISOString writes it; null when
 * no Date can hold it. Years outside 1900–9999 still come out as text, which the engine rejects with the usual
 * message.
 */
export function epochMsText(ms: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return null;
  // Date truncates towards zero too; `+ 0` turns -0 into 0.
  const whole = Math.trunc(ms) + 0;
  const day = Math.floor(whole / DAY_MS);
  if (day !== cachedDay) {
    // The 14 characters after the `T` are `HH:MM:SS.sssZ` whatever the year's width.
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, -13);
    cachedDay = day;
  }
  const inDay = whole - day * DAY_MS;
  const seconds = Math.floor(inDay / 1000);
  return (
    cachedDate +
    TWO_DIGITS[Math.floor(seconds / 3600)]! +
    ':' +
    TWO_DIGITS[Math.floor(seconds / 60) % 60]! +
    ':' +
    TWO_DIGITS[seconds % 60]! +
    '.' +
    THREE_DIGITS[inDay % 1000]! +
    'Z'
  );
}

/** A JSON number, or an error naming the field; absent and null mean the file does not say. */
export function optionalNumber(value: unknown, field: string, errors: FieldError[]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return value;
  errors.push({ field, message: `must be a number, not ${describe(value)}` });
  return null;
}

/** How a JSON value is named in an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `a ${typeof value}`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
