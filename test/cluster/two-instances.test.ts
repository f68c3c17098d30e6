/*
 * Two real Locus processes on one PostgreSQL database, as behind a load balancer. Both receive every row of a
 * generated trace (itself full of resent fixes with differing values), one in trace order and one shuffled, over
 * several connections each, at the same time. Whatever interleaving happens, the result must be the one a single
 * sequential writer would produce from the copies that were answered `stored`, with exactly one such copy per key.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { generateSamples, samplePoint, type TraceSample } from '../../src/tools/generate/trace.js';
import { aggregate, type MinuteAggregate } from '../../src/store/minutes.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { createTestDatabase, findTestServer, type TestDatabase } from '../store/postgres-database.js';
import { allUsers } from '../support/users.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const CONNECTIONS_PER_INSTANCE = 6;

interface Instance {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

interface Answer {
  sample: TraceSample;
  status: string;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startInstance(databaseUrl: string): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { url: `http://127.0.0.1:${port}`, child, exited };
}

// Generous: two processes compile and load at once, and CI machines are shared; the loop is still bounded.
const READY_WITHIN_MS = 90_000;

async function waitUntilReady(instance: Instance): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (instance.child.exitCode !== null) throw new Error(`locus exited with ${instance.child.exitCode}`);
    const ready = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await delay(100);
  }
  throw new Error(`locus at ${instance.url} did not become ready in ${READY_WITHIN_MS / 1000} s`);
}

async function stopInstance(instance: Instance): Promise<void> {
  if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGTERM');
  await instance.exited;
}

/** Deterministic Fisher–Yates with a small LCG, so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

async function put(instance: Instance, sample: TraceSample): Promise<Answer> {
  const response = await fetch(`${instance.url}/location`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sample.row),
  });
  const body = (await response.json()) as { status: string; timestamp_utc: string };
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.timestamp_utc, new Date(sample.utcMs).toISOString(), JSON.stringify(sample.row));
  return { sample, status: body.status };
}

/** Sends every sample to the instance over a few concurrent connections, in the order given. */
async function sendAll(instance: Instance, samples: readonly TraceSample[]): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const sample = samples[next++] as TraceSample;
      answers.push(await put(instance, sample));
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS_PER_INSTANCE }, worker));
  return answers;
}

function keyOf(sample: TraceSample): string {
  return `${sample.row.user_id}|${sample.utcMs}`;
}

async function allRows(store: Store): Promise<MinuteAggregate[]> {
  const rows: MinuteAggregate[] = [];
  for (const { userId } of await allUsers(store)) {
    rows.push(...((await store.minutes(userId, {}, { limit: 10_000 }))?.rows ?? []));
  }
  return rows;
}

function sortedRows(rows: readonly MinuteAggregate[]): MinuteAggregate[] {
  return [...rows].sort((a, b) =>
    a.userId === b.userId ? a.minuteMs - b.minuteMs : a.userId < b.userId ? -1 : 1,
  );
}

const server = await findTestServer();

describe('two Locus instances on one PostgreSQL database', { skip: server.skip }, () => {
  let db: TestDatabase;
  let instances: Instance[] = [];

  before(async () => {
    db = await createTestDatabase(server.url);
    // Started together on an empty database, so both migrate at once: the advisory lock must sort that out.
    instances = await Promise.all([startInstance(db.url), startInstance(db.url)]);
    await Promise.all(instances.map(waitUntilReady));
  });

  after(async () => {
    await Promise.all(instances.map(stopInstance));
    await db?.drop();
  });

  it('answers stored exactly once per key and stores the sequential result, under interleaved overlapping streams', async () => {
    const [left, right] = instances as [Instance, Instance];
    const samples = [...generateSamples({ seed: 5, users: 4, minutes: 20, scenario: 'city' })];
    const resent = samples.length - new Set(samples.map(keyOf)).size;
    assert.ok(resent > samples.length / 4, `the trace should resend many fixes, resent ${resent}`);

    const perInstance = await Promise.all([sendAll(left, samples), sendAll(right, shuffled(samples, 42))]);
    const answers = perInstance.flat();
    // Both won some keys: the streams really overlapped in time rather than one running after the other.
    perInstance.forEach((own, i) => {
      const won = own.filter((a) => a.status === 'stored').length;
      assert.ok(won > samples.length / 50, `instance ${i} answered stored only ${won} times`);
    });

    const storedPerKey = new Map<string, number>();
    for (const { sample, status } of answers) {
      assert.ok(status === 'stored' || status === 'duplicate', status);
      storedPerKey.set(keyOf(sample), (storedPerKey.get(keyOf(sample)) ?? 0) + (status === 'stored' ? 1 : 0));
    }
    assert.equal(answers.length, 2 * samples.length);
    assert.deepEqual(
      [...storedPerKey].filter(([, n]) => n !== 1),
      [],
      'exactly one stored answer per key',
    );

    const storedPoints = answers.filter((a) => a.status === 'stored').map((a) => samplePoint(a.sample));
    const reader = await openPostgresStore({ url: db.url });
    const sequential = openSqliteStore({ path: ':memory:' });
    try {
      const actual = sortedRows(await allRows(reader));
      assert.deepEqual(actual, sortedRows(aggregate(storedPoints)));
      await sequential.ingest(storedPoints);
      assert.deepEqual(actual, sortedRows(await allRows(sequential)));
      assert.equal(
        actual.reduce((n, row) => n + row.sums.samples, 0),
        storedPerKey.size,
        'every key counted once',
      );
    } finally {
      await reader.close();
      await sequential.close();
    }

    // Both instances read the same database, so they give the same answer.
    const [fromLeft, fromRight] = await Promise.all(
      [left, right].map(async (instance) => (await fetch(`${instance.url}/users`)).json()),
    );
    assert.deepEqual(fromLeft, fromRight);
  });
});
