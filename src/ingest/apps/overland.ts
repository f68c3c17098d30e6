import { OverlandLocationSchema } from '../../schemas/apps/overland.js';
import type { ComposeOptions } from '../compose.js';
import type { Point, Result } from '../point.js';
import { compileCheck, composeRead, prefixFields, type ItemError } from './fix.js';
import {
  featureFieldNames,
  isFeature,
  OVERLAND_DIALECT,
  readFeature,
  type FeatureReading,
} from './geojson-feature.js';

/** The points of an Overland batch that can be stored, and the ones skipped, by index in `locations`. */
export interface OverlandBatch {
  points: Point[];
  rejected: ItemError[];
}

const checkFeature = compileCheck(OverlandLocationSchema);

// A point whose user cannot be told is a setting to fix, not garbage: the whole batch is refused so that Overland
// keeps it and sends it again once the device ID or ?user= is set.
const NO_USER = 'is empty or absent, and the URL has no ?user= to fall back on';

/** What is read of an item that is not a Feature at all: nothing (its schema errors say why). */
const NOTHING_READ: FeatureReading = {
  fields: {},
  errors: [],
  timeField: 'properties.timestamp',
  accuracyField: 'properties.horizontal_accuracy',
  deviceId: undefined,
};

type FeaturePoint = Result<Point> | { ok: false; noUser: true };

/**
 * One Overland feature as a point; `noUser` when neither the feature nor the URL says whose it is. Its schema
 * checks its shape and types in Overland's words; the shared mapper reads it; the composer checks the values. The
 * mapper's own words for a member it cannot read go unused: the schema has said what is wrong there.
 */
function featureToPoint(
  item: unknown,
  fallbackUser: string | undefined,
  options: ComposeOptions,
): FeaturePoint {
  const shape = checkFeature(item);
  const reading = isFeature(item) ? readFeature(item, OVERLAND_DIALECT) : NOTHING_READ;
  // The device's own id comes first: ?user= only stands in for an empty or absent device_id.
  const userId = reading.deviceId ?? fallbackUser;
  if (userId === undefined && shape.ok) return { ok: false, noUser: true };
  const userField = reading.deviceId === undefined ? 'user' : 'properties.device_id';
  return composeRead(
    {
      fields: { ...reading.fields, user_id: userId },
      errors: shape.ok ? [] : shape.errors,
      names: featureFieldNames(reading, userField),
    },
    options,
  );
}

/**
 * An Overland batch as points. A point that is not valid is skipped and reported, not fatal: Overland resends a
 * batch until it is answered ok, so one bad point must not hold back the good ones forever. The batch fails as a
 * whole only when a point has no user (no `device_id`, no `?user=`), because that is a setting to fix.
 */
export function overlandToPoints(
  locations: readonly unknown[],
  fallbackUser: string | undefined,
  options: ComposeOptions = {},
): Result<OverlandBatch> {
  const batch: OverlandBatch = { points: [], rejected: [] };
  const unattributed: number[] = [];
  locations.forEach((item, index) => {
    const outcome = featureToPoint(item, fallbackUser, options);
    if (outcome.ok) batch.points.push(outcome.value);
    else if ('noUser' in outcome) unattributed.push(index);
    else batch.rejected.push({ index, errors: prefixFields(outcome.errors, `locations.${index}`) });
  });
  if (unattributed.length === 0) return { ok: true, value: batch };
  const errors = unattributed
    .slice(0, 10)
    .map((index) => ({ field: `locations.${index}.properties.device_id`, message: NO_USER }));
  return { ok: false, errors };
}
