import { LocationSchema } from '../../schemas/location.js';
import { OverlandLocationSchema, type OverlandLocation } from '../../schemas/apps/overland.js';
import type { ComposeOptions } from '../compose.js';
import type { FieldError, Point, RawFix, Result } from '../point.js';
import {
  checkUserId,
  compileCheck,
  composeNamed,
  prefixFields,
  renameFields,
  type ItemError,
} from './fix.js';

/** The points of an Overland batch that can be stored, and the ones skipped, by index in `locations`. */
export interface OverlandBatch {
  points: Point[];
  rejected: ItemError[];
}

const checkFeature = compileCheck(OverlandLocationSchema);
const checkLong = compileCheck(LocationSchema.properties.long);
const checkLat = compileCheck(LocationSchema.properties.lat);

// A point whose user cannot be told is a setting to fix, not garbage: the whole batch is refused so that Overland
// keeps it and sends it again once the device ID or ?user= is set.
const NO_USER = 'is empty or absent, and the URL has no ?user= to fall back on';

function coordinateErrors(feature: OverlandLocation): FieldError[] {
  const [long, lat] = feature.geometry.coordinates;
  const checks = [
    { field: 'geometry.coordinates.0', result: checkLong(long) },
    { field: 'geometry.coordinates.1', result: checkLat(lat) },
  ];
  return checks.flatMap(({ field, result }) =>
    result.ok ? [] : renameFields(result.errors, { body: field }),
  );
}

type FeatureFix = Result<RawFix> | { ok: false; noUser: true };

/** One Overland feature as a raw fix; `noUser` when neither the feature nor the URL says whose it is. */
export function overlandFeatureToFix(item: unknown, fallbackUser: string | undefined): FeatureFix {
  const checked = checkFeature(item);
  if (!checked.ok) return checked;
  const feature = checked.value;
  const { timestamp, horizontal_accuracy, speed, device_id } = feature.properties;
  const fromDevice = device_id !== undefined && device_id !== '';
  if (!fromDevice && fallbackUser === undefined) return { ok: false, noUser: true };
  const userId = checkUserId(
    fromDevice ? device_id : fallbackUser,
    fromDevice ? 'properties.device_id' : 'user',
  );
  const errors = [...coordinateErrors(feature), ...(userId.ok ? [] : userId.errors)];
  if (errors.length > 0 || !userId.ok) return { ok: false, errors };
  // The schema requires two coordinates; the defaults only tell the compiler so.
  const [long = 0, lat = 0] = feature.geometry.coordinates;
  const fix = {
    user_id: userId.value,
    timestamp,
    lat,
    long,
    accuracy: horizontal_accuracy ?? null,
    speed: speed === undefined || speed < 0 ? null : speed,
  };
  return { ok: true, value: fix };
}

const FEATURE_FIELDS = {
  timestamp: 'properties.timestamp',
  lat: 'geometry.coordinates.1',
  long: 'geometry.coordinates.0',
  accuracy: 'properties.horizontal_accuracy',
  speed: 'properties.speed',
  user_id: 'properties.device_id',
};

function featureToPoint(
  item: unknown,
  fallbackUser: string | undefined,
  options: ComposeOptions,
): Result<Point> | { ok: false; noUser: true } {
  const fix = overlandFeatureToFix(item, fallbackUser);
  return fix.ok ? composeNamed(fix.value, options, FEATURE_FIELDS) : fix;
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
