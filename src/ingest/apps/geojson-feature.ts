import type { FieldError, RawFix } from '../point.js';
import type { FieldNames } from './fix.js';
import { describe, epochMsText, isObject, optionalNumber } from './json-values.js';

/*
 * A GeoJSON Point Feature as a fix: the one mapping of what Overland sends (apps/overland.ts) and of what GeoJSON
 * files hold (import/readers/geojson). A dialect says which members a door reads; what they mean is the same:
 *
 * - Position: `geometry.coordinates`, [longitude, latitude] (GeoJSON order); an altitude may follow.
 * - Time: the first of the dialect's time members that is there. Text goes through as it is (an ISO instant with
 *   `Z` or an offset names its instant; text without one is local wall time, as PUT /location reads it). A number
 *   is epoch time: below 100,000,000,000 it is seconds (that is up to the year 5138), from there milliseconds (from
 *   March 1973 on), since both occur in exports and no real location history needs the other reading.
 * - Accuracy: the first of the dialect's accuracy members that is there, metres. Speed: `speed`, m/s; a negative
 *   speed is unknown (Core Location's -1, which Overland sends).
 * - User: `properties.device_id` when it is text with something in it. Whose the point is otherwise, or whether the
 *   door's own user (?user=, --user) comes first, is the door's to say.
 *
 * Only the members' types are checked here: their values are the composer's to check.
 */

/** Which members a door reads, each list in order of preference. */
export interface FeatureDialect {
  readonly time: readonly string[];
  readonly accuracy: readonly string[];
}

/** Overland's own members (https://github.com/aaronpk/Overland-iOS#api). */
export const OVERLAND_DIALECT: FeatureDialect = { time: ['timestamp'], accuracy: ['horizontal_accuracy'] };

/** Overland's, and what other tools write: `time` and `date` (epoch numbers too), `accuracy`. */
export const GEOJSON_FILE_DIALECT: FeatureDialect = {
  time: ['timestamp', 'time', 'date'],
  accuracy: ['horizontal_accuracy', 'accuracy'],
};

/** The fields a Feature gives: all of a fix's but whose it is. */
export type FeatureFields = Omit<RawFix, 'user_id'>;

export interface FeatureReading {
  /** The fields read; one that could not be is left out, and `errors` says why. */
  fields: Partial<FeatureFields>;
  /** In a file reader's words (`must be a number, not the string "12"`), in the payload's order. */
  errors: FieldError[];
  /** The members the time and the accuracy were read from (or the first of their names when absent). */
  timeField: string;
  accuracyField: string;
  /** `properties.device_id` when it is text with something in it. */
  deviceId: string | undefined;
}

const LARGEST_EPOCH_SECONDS = 1e11;

export function isFeature(value: unknown): value is Record<string, unknown> {
  return isObject(value) && value.type === 'Feature';
}

/** The first of `names` whose member is there (neither absent nor null), else the first. */
function memberName(properties: Record<string, unknown>, names: readonly string[]): string {
  const name = names.find((key) => properties[key] !== undefined && properties[key] !== null);
  return name ?? names[0] ?? '';
}

function coordinates(geometry: unknown, errors: FieldError[]): [number, number] | undefined {
  if (!isObject(geometry) || geometry.type !== 'Point') {
    const type = isObject(geometry) ? describe(geometry.type) : describe(geometry);
    errors.push({ field: 'geometry.type', message: `must be "Point", not ${type}` });
    return undefined;
  }
  const position = geometry.coordinates;
  if (!Array.isArray(position) || typeof position[0] !== 'number' || typeof position[1] !== 'number') {
    errors.push({ field: 'geometry.coordinates', message: 'must be [longitude, latitude], two numbers' });
    return undefined;
  }
  return [position[0], position[1]];
}

function requiredTime(names: readonly string[]): FieldError {
  const [first, ...others] = names.map((name) => `properties.${name}`);
  const or = others.length > 0 ? ` (or ${others.join(', ')})` : '';
  return { field: first ?? 'properties', message: `is required${or}` };
}

/** The time member as timestamp text; undefined (with its error) when it is absent or not a time. */
function timeText(
  value: unknown,
  field: string,
  names: readonly string[],
  errors: FieldError[],
): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    const text = epochMsText(Math.abs(value) < LARGEST_EPOCH_SECONDS ? value * 1000 : value);
    if (text === null) errors.push({ field, message: `is not a time: ${value}` });
    return text ?? undefined;
  }
  if (value === undefined || value === null) {
    errors.push(requiredTime(names));
    return undefined;
  }
  errors.push({
    field,
    message: `must be ISO 8601 text or epoch seconds or milliseconds, not ${describe(value)}`,
  });
  return undefined;
}

/** A number member: null when absent, undefined (with its error) when it is not a number. */
function numberMember(value: unknown, field: string, errors: FieldError[]): number | null | undefined {
  const before = errors.length;
  const number = optionalNumber(value, field, errors);
  return errors.length > before ? undefined : number;
}

function deviceIdOf(properties: Record<string, unknown>): string | undefined {
  const device = properties.device_id;
  return typeof device === 'string' && device !== '' ? device : undefined;
}

/** A Feature's fix fields, as far as they can be read, and why the others cannot. */
export function readFeature(feature: Record<string, unknown>, dialect: FeatureDialect): FeatureReading {
  const properties = isObject(feature.properties) ? feature.properties : {};
  const errors: FieldError[] = [];
  const position = coordinates(feature.geometry, errors);
  const timeName = memberName(properties, dialect.time);
  const timeField = `properties.${timeName}`;
  const time = timeText(properties[timeName], timeField, dialect.time, errors);
  const accuracyName = memberName(properties, dialect.accuracy);
  const accuracyField = `properties.${accuracyName}`;
  const accuracy = numberMember(properties[accuracyName], accuracyField, errors);
  const speed = numberMember(properties.speed, 'properties.speed', errors);
  const fields: Partial<FeatureFields> = {
    timestamp: time,
    long: position?.[0],
    lat: position?.[1],
    accuracy,
    speed: speed !== null && speed !== undefined && speed < 0 ? null : speed,
  };
  return { fields, errors, timeField, accuracyField, deviceId: deviceIdOf(properties) };
}

/** The payload's name of each field of a Feature's fix, in its order; `userField` names where the user came from. */
export function featureFieldNames(reading: FeatureReading, userField: string): FieldNames {
  return {
    long: 'geometry.coordinates.0',
    lat: 'geometry.coordinates.1',
    timestamp: reading.timeField,
    accuracy: reading.accuracyField,
    speed: 'properties.speed',
    user_id: userField,
  };
}

/** The fix of a Feature whose fields were all read, for a known user; null otherwise. */
export function completeFix(fields: Partial<FeatureFields>, userId: string | undefined): RawFix | null {
  const { timestamp, lat, long, accuracy, speed } = fields;
  if (userId === undefined || timestamp === undefined || lat === undefined || long === undefined) return null;
  if (accuracy === undefined || speed === undefined) return null;
  return { user_id: userId, timestamp, lat, long, accuracy, speed };
}
