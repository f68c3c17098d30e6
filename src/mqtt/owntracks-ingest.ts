import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { OwnTracksUserIdMode } from '../ingest/apps/owntracks.js';
import {
  handleOwnTracksMessage,
  type IngestPoints,
  type MessageContext,
  type MqttLogger,
} from './owntracks-messages.js';

/*
 * OwnTracks over MQTT, at least once: Locus subscribes to PREFIX/+/+ with QoS 1 in a persistent session and sends
 * the PUBACK of a message only after its point has committed. A message whose commit fails is not acknowledged,
 * and the connection is dropped so that the broker delivers it again on reconnection; a crash before the commit
 * leaves it unacknowledged too, for the next session with the same client id. A message delivered twice is stored
 * once (first-wins dedupe).
 *
 * TRICKY: mqtt.js hands incoming packets over one at a time and waits for each acknowledgement, so messages are
 * committed one by one, in order. That is what keeps the order of the broker, and it is plenty for phones.
 */

export interface MqttIngestOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL; credentials may be in it (mqtt://user:pass@host). */
  url: string;
  ingest: IngestPoints;
  logger: MqttLogger;
  /** User id of the points: the OwnTracks user (default) or `user/device`. */
  userIdMode?: OwnTracksUserIdMode;
  /** The oldest event time accepted (dedupe retention); absent: no bound. */
  oldestAcceptedMs?: () => number | undefined;
  /** Topics PREFIX/USER/DEVICE are read; default `owntracks`. */
  topicPrefix?: string;
  /** The broker keeps the session (and the messages for it) under this id; default `locus-owntracks`. */
  clientId?: string;
  /** How long the broker keeps the session while Locus is away; default 7 days. */
  sessionExpirySeconds?: number;
  /** Reconnection back-off: the first delay, doubled after each failure up to the maximum. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How long close() waits for messages being committed, so that their PUBACKs go out; default 10 s. */
  closeTimeoutMs?: number;
  /** Further mqtt.js options (TLS, keepalive…); the ones Locus relies on are set after these. */
  clientOptions?: IClientOptions;
}

export interface MqttIngest {
  /** True while connected to the broker and subscribed: the subscriber can take messages. */
  ready(): boolean;
  /** Lets messages being committed finish (and be acknowledged), then disconnects. */
  close(): Promise<void>;
}

const DEFAULTS = {
  userIdMode: 'user',
  topicPrefix: 'owntracks',
  clientId: 'locus-owntracks',
  sessionExpirySeconds: 7 * 24 * 3600,
  initialMs: 1000,
  maxMs: 60_000,
  closeTimeoutMs: 10_000,
} as const;

/** Delay before reconnection attempt `attempt` (0-based): exponential, capped. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

class CommitFailedError extends Error {
  override name = 'CommitFailedError';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

type AckCallback = (error: Error | number, code?: number) => void;

class OwnTracksSubscriber implements MqttIngest {
  readonly #client: MqttClient;
  readonly #context: MessageContext;
  readonly #topicFilter: string;
  readonly #backoff: { initialMs: number; maxMs: number };
  readonly #closeTimeoutMs: number;
  readonly #inFlight = new Set<Promise<void>>();
  #subscribed = false;
  #closing = false;
  #attempt = 0;
  // After a failed commit, a successful reconnection is not a recovery: the store may still be failing.
  #commitFailing = false;

  constructor(options: MqttIngestOptions) {
    const topicPrefix = options.topicPrefix ?? DEFAULTS.topicPrefix;
    this.#topicFilter = `${topicPrefix}/+/+`;
    this.#backoff = {
      initialMs: options.backoff?.initialMs ?? DEFAULTS.initialMs,
      maxMs: options.backoff?.maxMs ?? DEFAULTS.maxMs,
    };
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs;
    this.#context = {
      topicPrefix,
      userIdMode: options.userIdMode ?? DEFAULTS.userIdMode,
      ingest: options.ingest,
      oldestAcceptedMs: options.oldestAcceptedMs ?? (() => undefined),
      logger: options.logger,
    };
    this.#client = connect(options.url, {
      ...options.clientOptions,
      protocolVersion: 5, // mqtt.js defers acknowledgements (customHandleAcks) only in MQTT 5
      clientId: options.clientId ?? DEFAULTS.clientId,
      clean: false,
      properties: {
        ...options.clientOptions?.properties,
        sessionExpiryInterval: options.sessionExpirySeconds ?? DEFAULTS.sessionExpirySeconds,
      },
      reconnectPeriod: this.#backoff.initialMs,
      resubscribe: false, // subscribed on every connection, in #onConnect
      customHandleAcks: (topic: string, payload: Buffer, _packet: IPublishPacket, done: AckCallback) =>
        this.#onReliableMessage(topic, payload, done),
    });
    // Prepended, so that the delay is set before mqtt.js schedules its reconnection on the same event.
    this.#client.prependListener('close', () => this.#onClose());
    this.#client.on('connect', () => this.#onConnect());
    this.#client.on('error', (error) => this.#context.logger.warn({ err: error }, `MQTT: ${error.message}`));
    this.#client.on('message', (topic, payload, packet) => {
      if (packet.qos === 0) this.#onUnreliableMessage(topic, payload);
    });
  }

  ready(): boolean {
    return this.#client.connected && this.#subscribed;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.race([Promise.allSettled([...this.#inFlight]), delay(this.#closeTimeoutMs)]);
    // A commit still running past the wait is left unacknowledged: the next session gets the message again.
    await this.#client.endAsync(this.#inFlight.size > 0);
  }

  /** QoS 1 (or 2): acknowledged once committed, or not at all. */
  #onReliableMessage(topic: string, payload: Buffer, done: AckCallback): void {
    if (this.#closing) {
      done(new CommitFailedError(`closing: ${topic} is left to the next session`));
      return;
    }
    const handling = handleOwnTracksMessage(topic, payload, this.#context).then(
      (code) => {
        this.#commitFailing = false;
        this.#attempt = 0;
        done(code);
      },
      (error: unknown) => {
        this.#commitFailing = true;
        done(new CommitFailedError(`commit failed for ${topic}, not acknowledged`, { cause: error }));
        // The broker sends an unacknowledged message again only on a new connection.
        this.#client.stream.destroy();
      },
    );
    this.#inFlight.add(handling);
    void handling.finally(() => this.#inFlight.delete(handling));
  }

  /** QoS 0 has no acknowledgement to hold back: stored as it comes, a failed commit only logged. */
  #onUnreliableMessage(topic: string, payload: Buffer): void {
    handleOwnTracksMessage(topic, payload, this.#context).catch((error: unknown) =>
      this.#context.logger.error({ err: error, topic }, 'MQTT: QoS 0 message lost: commit failed'),
    );
  }

  #onConnect(): void {
    if (!this.#commitFailing) this.#attempt = 0;
    this.#client.subscribe(this.#topicFilter, { qos: 1 }, (error, granted) => {
      const refused =
        error ?? (granted?.some((g) => g.qos === 128) ? new Error('subscription refused') : null);
      if (refused) this.#context.logger.error({ err: refused }, 'MQTT: cannot subscribe');
      else this.#context.logger.info({ topic: this.#topicFilter }, 'MQTT: subscribed');
      this.#subscribed = !refused;
    });
  }

  #onClose(): void {
    this.#subscribed = false;
    const retryInMs = backoffDelay(this.#attempt++, this.#backoff.initialMs, this.#backoff.maxMs);
    this.#client.options.reconnectPeriod = retryInMs;
    if (!this.#closing) this.#context.logger.warn({ retryInMs }, 'MQTT: connection lost');
  }
}

/** Starts the subscriber; it connects (and reconnects) in the background. */
export function startMqttIngest(options: MqttIngestOptions): MqttIngest {
  return new OwnTracksSubscriber(options);
}
