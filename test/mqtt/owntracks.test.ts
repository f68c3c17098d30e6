import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { connectAsync } from 'mqtt';
import { backoffDelay, startMqttIngest, type MqttIngest } from '../../src/mqtt/owntracks-ingest.js';
import {
  handleOwnTracksMessage,
  PUBACK_OK,
  PUBACK_PAYLOAD_FORMAT_INVALID,
  type MessageContext,
  type MqttLogger,
} from '../../src/mqtt/owntracks-messages.js';
import type { IngestOutcome, Point } from '../../src/ingest/point.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { allUsers } from '../support/users.js';

const BROKER_URL = process.env.MQTT_TEST_URL ?? 'mqtt://127.0.0.1:1883';
const TST = Date.UTC(2017, 0, 1, 18, 5, 12) / 1000;
const LOCATION = { _type: 'location', tst: TST, lat: 40.701, lon: -73.916, acc: 11, vel: 18, tid: 'ph' };

/** A logger that keeps what it is told, to see what was refused. */
function recordingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const log =
    (level: string) =>
    (...args: unknown[]) => {
      const msg = args.find((a): a is string => typeof a === 'string') ?? '';
      lines.push({ level, msg });
    };
  const logger: MqttLogger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  return { logger, lines };
}

/** An ingest function that records what it is given and answers like a store. */
function recordingIngest(behaviour: (call: number) => Promise<void> = () => Promise.resolve()) {
  const received: Point[] = [];
  let calls = 0;
  const ingest = async (points: readonly Point[]): Promise<IngestOutcome[]> => {
    await behaviour(++calls);
    received.push(...points);
    return points.map(() => 'stored');
  };
  return { ingest, received, calls: () => calls };
}

function context(overrides: Partial<MessageContext> = {}): MessageContext {
  return {
    topicPrefix: 'owntracks',
    userIdMode: 'user',
    ingest: recordingIngest().ingest,
    oldestAcceptedMs: () => undefined,
    logger: recordingLogger().logger,
    ...overrides,
  };
}

const payload = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('handleOwnTracksMessage', () => {
  it('commits a location under the topic’s user, then answers PUBACK_OK', async () => {
    const { ingest, received } = recordingIngest();
    const code = await handleOwnTracksMessage(
      'owntracks/alice/phone',
      payload(LOCATION),
      context({ ingest }),
    );
    assert.equal(code, PUBACK_OK);
    assert.deepEqual(received, [
      { userId: 'alice', tsMs: TST * 1000, lat: 40.701, long: -73.916, accuracy: 11, speed: 5 },
    ]);
  });

  it('names the point user/device when configured', async () => {
    const { ingest, received } = recordingIngest();
    await handleOwnTracksMessage(
      'owntracks/alice/phone',
      payload(LOCATION),
      context({ ingest, userIdMode: 'user/device' }),
    );
    assert.equal(received[0]?.userId, 'alice/phone');
  });

  it('acknowledges without storing: an empty message (a cleared retained one) and other _types', async () => {
    const { ingest, calls } = recordingIngest();
    const ctx = context({ ingest });
    assert.equal(await handleOwnTracksMessage('owntracks/alice/phone', Buffer.alloc(0), ctx), PUBACK_OK);
    assert.equal(
      await handleOwnTracksMessage('owntracks/alice/phone', payload({ _type: 'lwt', tst: TST }), ctx),
      PUBACK_OK,
    );
    assert.equal(calls(), 0);
  });

  it('acknowledges a message that can never be stored with "payload format invalid", and logs why', async () => {
    const { ingest, calls } = recordingIngest();
    const { logger, lines } = recordingLogger();
    const ctx = context({ ingest, logger });
    for (const [topic, body] of [
      ['owntracks/alice/phone', Buffer.from('{"_type":')],
      ['owntracks/alice/phone', payload({ ...LOCATION, lat: 91 })],
      ['owntracks/alice/phone', payload([1, 2])],
      ['elsewhere/alice/phone', payload(LOCATION)],
    ] as const) {
      assert.equal(
        await handleOwnTracksMessage(topic, body, ctx),
        PUBACK_PAYLOAD_FORMAT_INVALID,
        body.toString(),
      );
    }
    assert.equal(calls(), 0);
    assert.equal(lines.filter((l) => l.level === 'warn').length, 4);
  });

  it('rejects when the commit fails, so that the message is not acknowledged', async () => {
    const { ingest } = recordingIngest(() => Promise.reject(new Error('disk on fire')));
    await assert.rejects(
      handleOwnTracksMessage('owntracks/alice/phone', payload(LOCATION), context({ ingest })),
    );
  });
});

describe('backoffDelay', () => {
  it('doubles from the first delay up to the maximum', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 100].map((attempt) => backoffDelay(attempt, 1000, 30_000));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: hostname, port: Number(port || 1883) });
    const answer = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000);
    socket.once('connect', () => answer(true));
    socket.once('error', () => answer(false));
    socket.once('timeout', () => answer(false));
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const brokerUp = await reachable(BROKER_URL);
if (!brokerUp)
  console.warn(`\n*** SKIPPING the MQTT broker tests: no broker at ${BROKER_URL} (set MQTT_TEST_URL) ***\n`);

// Every run uses its own topics and client ids, so runs never see each other's messages or sessions.
const RUN = `locus-test-${process.pid}-${Date.now().toString(36)}`;
let serial = 0;

/** A test's own topic prefix and subscriber client id; the broker forgets the session when the test ends. */
function names(t: TestContext) {
  const id = `${RUN}-${++serial}`;
  const clientId = `${id}-sub`;
  t.after(async () => {
    // Connecting with a clean start and no session expiry makes the broker drop the persistent session.
    const cleaner = await connectAsync(BROKER_URL, {
      clientId,
      protocolVersion: 5,
      clean: true,
      properties: { sessionExpiryInterval: 0 },
    });
    await cleaner.endAsync();
  });
  return { prefix: id, clientId };
}

async function publish(topic: string, body: Buffer, qos: 0 | 1 = 1): Promise<void> {
  // OwnTracks apps speak MQTT 3.1.1.
  const publisher = await connectAsync(BROKER_URL, {
    clientId: `${RUN}-pub-${++serial}`,
    protocolVersion: 4,
  });
  await publisher.publishAsync(topic, body, { qos });
  await publisher.endAsync();
}

function start(
  t: TestContext,
  options: Omit<Parameters<typeof startMqttIngest>[0], 'url' | 'logger'> & { logger?: MqttLogger },
) {
  const ingest: MqttIngest = startMqttIngest({
    url: BROKER_URL,
    logger: recordingLogger().logger,
    backoff: { initialMs: 50, maxMs: 200 },
    closeTimeoutMs: 200,
    ...options,
  });
  t.after(() => ingest.close());
  return ingest;
}

describe(
  'startMqttIngest against Mosquitto',
  { skip: brokerUp ? false : `no MQTT broker at ${BROKER_URL}` },
  () => {
    it('stores an OwnTracks location published on PREFIX/USER/DEVICE, and is ready while subscribed', async (t) => {
      const { prefix, clientId } = names(t);
      const store = openSqliteStore({ path: ':memory:' });
      t.after(() => store.close());
      const committer = new GroupCommitter(store);
      const subscriber = start(t, {
        ingest: (points) => committer.submit(points),
        topicPrefix: prefix,
        clientId,
      });
      await waitFor(() => subscriber.ready(), 'the subscription');
      await publish(`${prefix}/alice/phone`, payload(LOCATION));
      let users: Awaited<ReturnType<typeof allUsers>> = [];
      await waitFor(() => {
        void allUsers(store).then((u) => (users = u));
        return users.length === 1;
      }, 'the stored point');
      assert.equal(users[0]?.userId, 'alice');
      const page = await store.minutes('alice', {}, { limit: 10 });
      assert.equal(page?.rows[0]?.sums.speedSum, 5000, 'vel 18 km/h is 5 m/s');
    });

    it('does not acknowledge a message whose commit fails: the broker delivers it again after reconnecting', async (t) => {
      const { prefix, clientId } = names(t);
      const recorder = recordingIngest((call) =>
        call === 1 ? Promise.reject(new Error('disk on fire')) : Promise.resolve(),
      );
      const subscriber = start(t, { ingest: recorder.ingest, topicPrefix: prefix, clientId });
      await waitFor(() => subscriber.ready(), 'the subscription');
      await publish(`${prefix}/alice/phone`, payload(LOCATION));
      await waitFor(() => recorder.received.length === 1, 'the redelivered message');
      assert.equal(recorder.calls(), 2, 'one failed commit, one redelivery');
      await waitFor(() => subscriber.ready(), 'the new subscription');
    });

    it('leaves a message not yet committed at a crash to the next session with the same client id', async (t) => {
      const { prefix, clientId } = names(t);
      const hanging = recordingIngest(() => new Promise<void>(() => undefined));
      const first = start(t, { ingest: hanging.ingest, topicPrefix: prefix, clientId });
      await waitFor(() => first.ready(), 'the first subscription');
      await publish(`${prefix}/alice/phone`, payload(LOCATION));
      await waitFor(() => hanging.calls() === 1, 'the first delivery');
      await first.close(); // its commit never finished: no PUBACK went out

      const recorder = recordingIngest();
      const second = start(t, { ingest: recorder.ingest, topicPrefix: prefix, clientId });
      await waitFor(() => recorder.received.length === 1, 'the redelivery to the next session');
      assert.equal(recorder.received[0]?.userId, 'alice');
      assert.ok(second.ready());
    });

    it('acknowledges a message that can never be stored, so that it is not delivered again', async (t) => {
      const { prefix, clientId } = names(t);
      const { logger, lines } = recordingLogger();
      const recorder = recordingIngest();
      const first = start(t, { ingest: recorder.ingest, topicPrefix: prefix, clientId, logger });
      await waitFor(() => first.ready(), 'the subscription');
      await publish(`${prefix}/alice/phone`, payload({ ...LOCATION, lat: 91 }));
      await publish(`${prefix}/alice/phone`, payload(LOCATION));
      await waitFor(() => recorder.received.length === 1, 'the valid message');
      await first.close();
      const refused = () => lines.filter((l) => l.msg.includes('refused')).length;
      assert.equal(refused(), 1);

      const second = start(t, { ingest: recorder.ingest, topicPrefix: prefix, clientId, logger });
      await waitFor(() => second.ready(), 'the second subscription');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(refused(), 1, 'the refused message was acknowledged');
      assert.equal(recorder.calls(), 1, 'the stored one too');
    });

    it('stores a QoS 0 message as it comes', async (t) => {
      const { prefix, clientId } = names(t);
      const recorder = recordingIngest();
      const subscriber = start(t, { ingest: recorder.ingest, topicPrefix: prefix, clientId });
      await waitFor(() => subscriber.ready(), 'the subscription');
      await publish(`${prefix}/bob/watch`, payload(LOCATION), 0);
      await waitFor(() => recorder.received.length === 1, 'the QoS 0 message');
      assert.equal(recorder.received[0]?.userId, 'bob');
    });

    it('is not ready while the broker cannot be reached, and closes all the same', async (t) => {
      const subscriber = startMqttIngest({
        url: 'mqtt://127.0.0.1:1',
        ingest: recordingIngest().ingest,
        logger: recordingLogger().logger,
        clientId: `${RUN}-nowhere`,
        backoff: { initialMs: 20, maxMs: 50 },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(subscriber.ready(), false);
      await subscriber.close();
      t.diagnostic('closed without a broker');
    });
  },
);
