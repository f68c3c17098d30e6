import type { FieldError } from '../ingest/point.js';

/*
 * Why a point was rejected, as a metric label. Field names come from the client (a JSON key, a query parameter,
 * an Overland item index), so they cannot be label values as they are: every label value is a time series kept
 * forever. Each field is mapped onto the PUT /location field it stands for, and anything else to `other`.
 */

export const REJECTION_REASONS = [
  'timestamp',
  'lat',
  'long',
  'accuracy',
  'speed',
  'user_id',
  'body',
  'retention',
  'other',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];

// The names the app formats use for the PUT /location fields (OwnTracks, Overland, OsmAnd/GPSLogger), and where
// they take the user from (headers, topic, query).
const FIELD_REASONS: ReadonlyMap<string, RejectionReason> = new Map<string, RejectionReason>([
  ['timestamp', 'timestamp'],
  ['tst', 'timestamp'],
  ['lat', 'lat'],
  ['long', 'long'],
  ['lon', 'long'],
  ['accuracy', 'accuracy'],
  ['acc', 'accuracy'],
  ['hdop', 'accuracy'],
  ['horizontal_accuracy', 'accuracy'],
  ['speed', 'speed'],
  ['spd', 'speed'],
  ['vel', 'speed'],
  ['user_id', 'user_id'],
  ['id', 'user_id'],
  ['deviceid', 'user_id'],
  ['device_id', 'user_id'],
  ['user', 'user_id'],
  ['topic', 'user_id'],
  ['x-limit-u', 'user_id'],
  ['x-limit-d', 'user_id'],
  ['authorization', 'user_id'],
  ['body', 'body'],
  ['locations', 'body'],
]);

// GeoJSON (Overland) puts the coordinates in an array: [long, lat].
const COORDINATES: readonly RejectionReason[] = ['long', 'lat'];

// The one rejection that is not the client's mistake but its backlog: worth telling apart from a bad timestamp.
const RETENTION_MESSAGE = 'is older than the retention window';

/** The bounded reason for one field error. */
export function rejectionReason(error: FieldError): RejectionReason {
  if (error.message.startsWith(RETENTION_MESSAGE)) return 'retention';
  const path = error.field.split('.');
  const last = path[path.length - 1] ?? '';
  if (/^\d+$/.test(last)) {
    // `geometry.coordinates.1` is a coordinate; `locations.3` is a whole item that is not a point at all.
    return path[path.length - 2] === 'coordinates' ? (COORDINATES[Number(last)] ?? 'other') : 'body';
  }
  return FIELD_REASONS.get(last.toLowerCase()) ?? 'other';
}

/** The reason a point with these errors is counted under: its first error's (the first field the checks found). */
export function pointRejectionReason(errors: readonly FieldError[]): RejectionReason {
  const [first] = errors;
  return first ? rejectionReason(first) : 'body';
}
