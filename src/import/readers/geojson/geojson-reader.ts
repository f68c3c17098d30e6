/*
 * GeoJSON import: a FeatureCollection of Point features (`features`), an Overland batch (`locations`), or one
 * Feature. Each feature is one record, its position the item index in its array.
 *
 * - Time: `properties.timestamp`, else `time`, else `date`. Text goes through as it is (an ISO instant with `Z` or
 *   an offset names its instant; text without one is read as local wall time, as PUT /location does). A number is
 *   epoch time: below 100,000,000,000 it is seconds (that is up to the year 5138), from there milliseconds (from
 *   March 1973 on), since both occur in exports and no real location history needs the other reading.
 * - Accuracy: `horizontal_accuracy` (Overland), else `accuracy`, metres. Speed: `speed`, m/s; a negative speed is
 *   unknown (Core Location's -1, as in the Overland endpoint).
 * - User: --user, else `properties.device_id` (as Overland's endpoint reads it); a feature with neither is a record
 *   error, not a file error, since other features of the same file may carry a device_id.
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
  RecordParser,
} from '../record-parser.js';
import { JsonMemberScanner } from '../json-scanner.js';

const TIME_PROPERTIES = ['timestamp', 'time', 'date'] as const;
const LARGEST_EPOCH_SECONDS = 1e11;

function featureTime(properties: Record<string, unknown>, errors: FieldError[]): string | null {
  const name = TIME_PROPERTIES.find((key) => properties[key] !== undefined && properties[key] !== null);
  if (name === undefined) {
    errors.push({
      field: 'properties.timestamp',
      message: 'is required (or properties.time, properties.date)',
    });
    return null;
  }
  const value = properties[name];
  const field = `properties.${name}`;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    const text = epochMsText(Math.abs(value) < LARGEST_EPOCH_SECONDS ? value * 1000 : value);
    if (text === null) errors.push({ field, message: `is not a time: ${value}` });
    return text;
  }
  errors.push({
    field,
    message: `must be ISO 8601 text or epoch seconds or milliseconds, not ${describe(value)}`,
  });
  return null;
}

function coordinates(geometry: unknown, errors: FieldError[]): [number, number] | null {
  if (!isObject(geometry) || geometry.type !== 'Point') {
    const type = isObject(geometry) ? describe(geometry.type) : describe(geometry);
    errors.push({ field: 'geometry.type', message: `must be "Point", not ${type}` });
    return null;
  }
  const position = geometry.coordinates;
  if (!Array.isArray(position) || typeof position[0] !== 'number' || typeof position[1] !== 'number') {
    errors.push({ field: 'geometry.coordinates', message: 'must be [longitude, latitude], two numbers' });
    return null;
  }
  return [position[0], position[1]];
}

function featureUser(
  properties: Record<string, unknown>,
  user: string | undefined,
  errors: FieldError[],
): string | null {
  if (user !== undefined) return user;
  const device = properties.device_id;
  if (typeof device === 'string' && device !== '') return device;
  errors.push({ field: 'user_id', message: 'is required: pass --user (the feature has no device_id)' });
  return null;
}

/** One feature as a record; `item` is its index in the file's array. */
export function featureRecord(feature: unknown, item: number, user: string | undefined): ImportRecord {
  if (!isObject(feature) || feature.type !== 'Feature') {
    const type = isObject(feature) ? describe(feature.type) : describe(feature);
    return errorRecord(item, [{ field: 'type', message: `must be "Feature", not ${type}` }]);
  }
  const properties = isObject(feature.properties) ? feature.properties : {};
  const errors: FieldError[] = [];
  const position = coordinates(feature.geometry, errors);
  const timestamp = featureTime(properties, errors);
  const accuracy = optionalNumber(
    properties.horizontal_accuracy ?? properties.accuracy,
    properties.horizontal_accuracy === undefined ? 'properties.accuracy' : 'properties.horizontal_accuracy',
    errors,
  );
  const speed = optionalNumber(properties.speed, 'properties.speed', errors);
  const userId = featureUser(properties, user, errors);
  if (errors.length > 0 || position === null || timestamp === null || userId === null) {
    return errorRecord(item, errors);
  }
  const [long, lat] = position;
  return fixRecord(item, {
    user_id: userId,
    timestamp,
    lat,
    long,
    accuracy,
    speed: speed !== null && speed < 0 ? null : speed,
  });
}

const COLLECTIONS = ['features', 'locations'];
const KNOWN_TYPES = new Set(['FeatureCollection', 'Feature']);

class GeoJsonParser extends RecordParser {
  readonly #user: string | undefined;
  readonly #scanner: JsonMemberScanner;
  #type: unknown = undefined;
  #sawCollection = false;
  /** The members of a lone Feature, kept until the file ends since `type` may come last. */
  #single: Record<string, unknown> = {};

  constructor(user: string | undefined) {
    super();
    this.#user = user;
    this.#scanner = new JsonMemberScanner(COLLECTIONS, {
      array: () => {
        this.#sawCollection = true;
      },
      item: (_key, index, value) => this.#item(index, value),
      member: (key, value) => this.#member(key, value),
    });
  }

  #item(index: number, value: unknown): void {
    if (index === 0 && isObject(value) && 'latitudeE7' in value) {
      throw new UnreadableFileError('holds Google Takeout records, not GeoJSON features');
    }
    this.emit(featureRecord(value, index, this.#user));
  }

  #member(key: string, value: unknown): void {
    if (COLLECTIONS.includes(key)) {
      throw new UnreadableFileError(`"${key}" is ${describe(value)}, not an array of features`);
    }
    if (key === 'type') {
      if (typeof value !== 'string' || !KNOWN_TYPES.has(value)) {
        throw new UnreadableFileError(
          `GeoJSON of type ${describe(value)}: only a FeatureCollection or a Feature`,
        );
      }
      this.#type = value;
    }
    if (key === 'type' || key === 'geometry' || key === 'properties') this.#single[key] = value;
  }

  write(text: string): void {
    this.#scanner.write(text);
  }

  end(): void {
    this.#scanner.end();
    if (this.#type === 'Feature') this.emit(featureRecord(this.#single, 0, this.#user));
    else if (!this.#sawCollection && this.#type !== 'FeatureCollection') {
      throw new UnreadableFileError('no "features" or "locations" array: not a GeoJSON FeatureCollection');
    }
  }
}

export const readGeoJson: FormatReader = (input: Readable, context: ReadContext) =>
  readRecords(input, new GeoJsonParser(context.user));
