/*
 * GeoJSON import: a FeatureCollection of Point features (`features`), an Overland batch (`locations`), or one
 * Feature. Each feature is one record, its position the item index in its array.
 *
 * A feature is mapped as the Overland endpoint maps one (ingest/apps/geojson-feature.ts), with what other tools
 * write besides: time in `properties.timestamp`, else `time`, else `date` (text, or epoch seconds or milliseconds);
 * accuracy in `horizontal_accuracy`, else `accuracy`. The user is --user, else `properties.device_id`; a feature
 * with neither is a record error, not a file error, since other features of the same file may carry a device_id.
 */
import type { Readable } from 'node:stream';
import {
  completeFix,
  GEOJSON_FILE_DIALECT,
  isFeature,
  readFeature,
} from '../../../ingest/apps/geojson-feature.js';
import { UnreadableFileError, type FormatReader, type ImportRecord, type ReadContext } from '../../types.js';
import { describe, errorRecord, fixRecord, isObject, readRecords, RecordParser } from '../record-parser.js';
import { JsonMemberScanner } from '../json-scanner.js';

const NO_USER = { field: 'user_id', message: 'is required: pass --user (the feature has no device_id)' };

/** One feature as a record; `item` is its index in the file's array. */
export function featureRecord(feature: unknown, item: number, user: string | undefined): ImportRecord {
  if (!isFeature(feature)) {
    const type = isObject(feature) ? describe(feature.type) : describe(feature);
    return errorRecord(item, [{ field: 'type', message: `must be "Feature", not ${type}` }]);
  }
  const { fields, errors, deviceId } = readFeature(feature, GEOJSON_FILE_DIALECT);
  // --user says whose every record is, whatever the file says.
  const userId = user ?? deviceId;
  if (userId === undefined) errors.push(NO_USER);
  const fix = completeFix(fields, userId);
  return fix !== null && errors.length === 0 ? fixRecord(item, fix) : errorRecord(item, errors);
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
