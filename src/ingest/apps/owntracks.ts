import { OwnTracksLocationSchema, OwnTracksMessageSchema } from '../../schemas/apps/owntracks.js';
import type { ComposeOptions } from '../compose.js';
import type { FieldError, Point, RawFix, Result } from '../point.js';
import { checkUserId, compileCheck, composeNamed, instantTimestamp, kmhToMps } from './fix.js';

/** Whose points these are: the OwnTracks user alone (default), or each of the user's devices apart. */
export type OwnTracksUserIdMode = 'user' | 'user/device';

/** Who sent a message, and where that was read from, to name it in errors (`X-Limit-U`, `topic`…). */
export interface OwnTracksIdentity {
  user: string | undefined;
  device: string | undefined;
  userField: string;
  deviceField: string;
}

const checkMessage = compileCheck(OwnTracksMessageSchema);
const checkLocation = compileCheck(OwnTracksLocationSchema);

function userIdOf(identity: OwnTracksIdentity, mode: OwnTracksUserIdMode): Result<string> {
  const missing: FieldError[] = [];
  if (!identity.user) missing.push({ field: identity.userField, message: 'is required' });
  if (mode === 'user/device' && !identity.device)
    missing.push({ field: identity.deviceField, message: 'is required when user ids are user/device' });
  if (missing.length > 0 || identity.user === undefined) return { ok: false, errors: missing };
  const userId = mode === 'user' ? identity.user : `${identity.user}/${identity.device}`;
  return checkUserId(userId, identity.userField);
}

function typeOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { _type?: unknown })._type : undefined;
}

/**
 * An OwnTracks message as a raw fix for a user id already found (or the errors of finding it): null for a message
 * of another `_type` (accepted and ignored), errors for a location whose payload is not one. `tst` is UTC, so no
 * zone lookup happens; `vel` is converted from km/h to m/s. Shared by the HTTP and MQTT doors and the Recorder's
 * `.rec` files.
 */
export function ownTracksMessageToFix(message: unknown, userId: Result<string>): Result<RawFix | null> {
  // A location is checked by its own schema (`_type` included); only the others need the envelope's.
  if (typeOf(message) !== 'location') {
    const envelope = checkMessage(message);
    return envelope.ok ? { ok: true, value: null } : envelope;
  }
  const location = checkLocation(message);
  if (!location.ok || !userId.ok) {
    const errors = [...(location.ok ? [] : location.errors), ...(userId.ok ? [] : userId.errors)];
    return { ok: false, errors };
  }
  const { tst, lat, lon, acc, vel } = location.value;
  return {
    ok: true,
    value: {
      user_id: userId.value,
      timestamp: instantTimestamp(tst * 1000),
      lat,
      long: lon,
      accuracy: acc ?? null,
      speed: vel === undefined || vel < 0 ? null : kmhToMps(vel),
    },
  };
}

/** An OwnTracks message as a point, through the one composer; null for a message Locus ignores. */
export function ownTracksToPoint(
  message: unknown,
  identity: OwnTracksIdentity,
  mode: OwnTracksUserIdMode,
  options: ComposeOptions = {},
): Result<Point | null> {
  const fix = ownTracksMessageToFix(message, userIdOf(identity, mode));
  if (!fix.ok) return fix;
  if (fix.value === null) return { ok: true, value: null };
  const names = { timestamp: 'tst', long: 'lon', accuracy: 'acc', speed: 'vel', user_id: identity.userField };
  return composeNamed(fix.value, options, names);
}

/** User and device from an OwnTracks topic `…/USER/DEVICE` (its last two levels), as HTTP mode sends it. */
export function identityFromTopic(topic: string | undefined): { user?: string; device?: string } {
  const levels = topic?.split('/') ?? [];
  if (levels.length < 3) return {};
  return { user: levels.at(-2), device: levels.at(-1) };
}

/** User and device of an MQTT message on `PREFIX/USER/DEVICE`; null for any other topic. */
export function identityFromMqttTopic(
  prefix: string,
  topic: string,
): { user: string; device: string } | null {
  if (!topic.startsWith(`${prefix}/`)) return null;
  const levels = topic.slice(prefix.length + 1).split('/');
  const [user, device] = levels;
  return levels.length === 2 && user && device ? { user, device } : null;
}
