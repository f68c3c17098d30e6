/*
 * Google Takeout location history (`Records.json`): `{"locations": [{latitudeE7, longitudeE7, accuracy, velocity,
 * timestamp | timestampMs, …}]}`. Each item is one record, its position the item index.
 *
 * - Coordinates: E7 integers (degrees × 10^7), divided by 1e7. The quotient is the double nearest the exact decimal,
 *   and the store's 1e-8° fixed point rounds it back to exactly 10 × the E7 value, so no precision is lost.
 * - Wrapped coordinates: some old exports wrote negative coordinates as unsigned 32-bit integers (a known bug of
 *   Google's). A value from 2^32 − 90e7 (latitude) or 2^32 − 180e7 (longitude) up to 2^32 can only be such a
 *   wrapped value, so 2^32 is subtracted, which gives the coordinate the phone recorded. Any other value outside
 *   the int32 range is a record error; a value inside it but beyond ±90°/±180° goes on to be rejected as out of
 *   range like any coordinate.
 * - Time: `timestamp` (ISO text, `Z`) as it is, else `timestampMs` (epoch milliseconds, a string of digits in the
 *   files, a number accepted too) as ISO text.
 * - `accuracy` is metres, `velocity` m/s; both may be absent. Other fields (altitude, heading, activity…) are
 *   ignored. The files carry no user: --user is required, checked before anything is read.
 */
import type { Readable } from 'node:stream';
import type { FieldError } from '../../../ingest/point.js';
import { UnreadableFileError, type FormatReader, type ImportRecord, type ReadContext } from '../../types.js';
import {
  describe,
  epochMsText,
  errorRecord,
  fixRecord,
  isObject,
  optionalNumber,
  readRecords,
  requireUser,
  RecordParser,
} from '../record-parser.js';
import { JsonMemberScanner } from '../json-scanner.js';

const E7 = 1e7;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_WRAP = 2 ** 32;

/** An E7 coordinate in degrees, or null with an error; `limit` is 90 or 180 degrees. */
function e7Degrees(value: unknown, field: string, limit: number, errors: FieldError[]): number | null {
  if (value === undefined || value === null) {
    errors.push({ field, message: 'is required' });
    return null;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errors.push({ field, message: `must be an integer (degrees × 10^7), not ${describe(value)}` });
    return null;
  }
  if (value >= UINT32_WRAP - limit * E7 && value < UINT32_WRAP) return (value - UINT32_WRAP) / E7;
  if (value < INT32_MIN || value > INT32_MAX) {
    errors.push({ field, message: `is outside the E7 integer range (−2^31…2^31−1): ${value}` });
    return null;
  }
  return value / E7;
}

/**
 * Epoch milliseconds written as text, `-?` and 1 to 16 digits, as a number; NaN for any other text. Below 2^53
 * every step is exact, so this is Number(text); above it (16 digits) both are beyond Date's range and refused
 * alike. A third of the cost of a regular expression and Number().
 */
function epochMsOfText(text: string): number {
  const negative = text.charCodeAt(0) === 0x2d;
  const length = text.length;
  let i = negative ? 1 : 0;
  if (length - i < 1 || length - i > 16) return NaN;
  let ms = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    ms = ms * 10 + digit;
  }
  return negative ? -ms : ms;
}

function recordTime(item: Record<string, unknown>, errors: FieldError[]): string | null {
  const { timestamp, timestampMs } = item;
  if (timestamp !== undefined && timestamp !== null) {
    if (typeof timestamp === 'string') return timestamp;
    errors.push({ field: 'timestamp', message: `must be ISO 8601 text, not ${describe(timestamp)}` });
    return null;
  }
  if (timestampMs === undefined || timestampMs === null) {
    errors.push({ field: 'timestamp', message: 'is required (or timestampMs)' });
    return null;
  }
  const ms =
    typeof timestampMs === 'number'
      ? timestampMs
      : typeof timestampMs === 'string'
        ? epochMsOfText(timestampMs)
        : NaN;
  const text = Number.isInteger(ms) ? epochMsText(ms) : null;
  if (text === null) {
    errors.push({
      field: 'timestampMs',
      message: `must be epoch milliseconds, not ${describe(timestampMs)}`,
    });
  }
  return text;
}

/** One Takeout location as a record; `item` is its index in `locations`. */
export function takeoutRecord(location: unknown, item: number, user: string): ImportRecord {
  if (!isObject(location)) {
    return errorRecord(item, [
      { field: 'location', message: `must be an object, not ${describe(location)}` },
    ]);
  }
  const errors: FieldError[] = [];
  const lat = e7Degrees(location.latitudeE7, 'latitudeE7', 90, errors);
  const long = e7Degrees(location.longitudeE7, 'longitudeE7', 180, errors);
  const timestamp = recordTime(location, errors);
  const accuracy = optionalNumber(location.accuracy, 'accuracy', errors);
  const speed = optionalNumber(location.velocity, 'velocity', errors);
  if (errors.length > 0 || lat === null || long === null || timestamp === null)
    return errorRecord(item, errors);
  return fixRecord(item, { user_id: user, timestamp, lat, long, accuracy, speed });
}

class TakeoutParser extends RecordParser {
  readonly #user: string;
  readonly #scanner: JsonMemberScanner;
  #sawLocations = false;

  constructor(user: string) {
    super();
    this.#user = user;
    this.#scanner = new JsonMemberScanner(['locations'], {
      array: () => {
        this.#sawLocations = true;
      },
      item: (_key, index, value) => this.#item(index, value),
      member: (key, value) => {
        if (key === 'locations') {
          throw new UnreadableFileError(`"locations" is ${describe(value)}, not an array`);
        }
      },
    });
  }

  #item(index: number, value: unknown): void {
    if (index === 0 && isObject(value) && value.type === 'Feature') {
      throw new UnreadableFileError('holds GeoJSON features (an Overland batch?), not Takeout records');
    }
    this.emit(takeoutRecord(value, index, this.#user));
  }

  write(text: string): void {
    this.#scanner.write(text);
  }

  end(): void {
    this.#scanner.end();
    if (!this.#sawLocations)
      throw new UnreadableFileError('no "locations" array: not a Takeout Records.json');
  }
}

export const readTakeout: FormatReader = (input: Readable, context: ReadContext) =>
  // The check runs when the engine starts reading, like every other error of the file.
  (async function* () {
    yield* readRecords(input, new TakeoutParser(requireUser(context.user, 'Takeout')));
  })();
