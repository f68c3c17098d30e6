import type { BaseLogger } from 'pino';
import { parse as parseJsonSecurely } from 'secure-json-parse';
import {
  identityFromMqttTopic,
  ownTracksToPoint,
  type OwnTracksUserIdMode,
} from '../ingest/apps/owntracks.js';
import type { IngestOutcome, Point } from '../ingest/point.js';

export type MqttLogger = Pick<BaseLogger, 'debug' | 'info' | 'warn' | 'error'>;

/** Stores points; resolves only once they are durable (GroupCommitter.submit). */
export type IngestPoints = (points: readonly Point[]) => Promise<readonly IngestOutcome[]>;

/** MQTT 5 PUBACK reason codes Locus answers with. */
export const PUBACK_OK = 0;
/** The message can never be stored: acknowledged (so the broker stops redelivering it), with this reason. */
export const PUBACK_PAYLOAD_FORMAT_INVALID = 153;
export type PubackCode = typeof PUBACK_OK | typeof PUBACK_PAYLOAD_FORMAT_INVALID;

export interface MessageContext {
  topicPrefix: string;
  userIdMode: OwnTracksUserIdMode;
  ingest: IngestPoints;
  oldestAcceptedMs: () => number | undefined;
  logger: MqttLogger;
}

function parsePayload(payload: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    // The same prototype-poisoning rules as HTTP bodies: a `__proto__` key is an error.
    return {
      ok: true,
      value: parseJsonSecurely(payload, null, { protoAction: 'error', constructorAction: 'error' }),
    };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/**
 * Handles one OwnTracks message from `PREFIX/USER/DEVICE` and says how to acknowledge it: PUBACK_OK once the point
 * is durable (or the message is one Locus ignores), PUBACK_PAYLOAD_FORMAT_INVALID for a message that can never be
 * stored (redelivering it would not help). Rejects when the point could not be committed: that message must not be
 * acknowledged, so that the broker delivers it again.
 */
export async function handleOwnTracksMessage(
  topic: string,
  payload: Buffer,
  context: MessageContext,
): Promise<PubackCode> {
  const { logger } = context;
  // A zero-length message clears a retained one (OwnTracks does so when a friend is deleted): nothing to store.
  if (payload.length === 0) return PUBACK_OK;
  const identity = identityFromMqttTopic(context.topicPrefix, topic);
  const parsed = parsePayload(payload);
  if (!identity || !parsed.ok) {
    const reason = identity ? `not JSON: ${parsed.ok ? '' : parsed.message}` : 'not on PREFIX/USER/DEVICE';
    logger.warn({ topic, reason }, 'MQTT: OwnTracks message refused');
    return PUBACK_PAYLOAD_FORMAT_INVALID;
  }
  const fields = { userField: 'topic', deviceField: 'topic' };
  const options = { oldestAcceptedMs: context.oldestAcceptedMs() };
  const result = ownTracksToPoint(parsed.value, { ...identity, ...fields }, context.userIdMode, options);
  if (!result.ok) {
    logger.warn({ topic, errors: result.errors }, 'MQTT: OwnTracks location refused');
    return PUBACK_PAYLOAD_FORMAT_INVALID;
  }
  if (result.value === null) {
    logger.debug({ topic }, 'MQTT: OwnTracks message ignored (not a location)');
    return PUBACK_OK;
  }
  const [outcome] = await context.ingest([result.value]);
  logger.debug({ topic, outcome }, 'MQTT: OwnTracks location committed');
  return PUBACK_OK;
}
