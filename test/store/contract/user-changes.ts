import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChangeMarker, Store, UserChanges } from '../../../src/store/store.js';
import type { ContractContext } from './context.js';
import { byCodePoint } from './expected-users.js';
import { MINUTE_MS, minutesFrom, NOON, point } from './support.js';

/** How long settledMarker waits for a quiet moment before it gives up. */
const SETTLE_ATTEMPTS = 400;
const SETTLE_PAUSE_MS = 25;

/**
 * A marker after which nothing has changed yet. The contract lets a store repeat an unchanged user (PostgreSQL does
 * while an older transaction anywhere on the server is still running), so this asks until an answer comes back
 * empty; from then on, a user not written again is never reported for this marker. A store that reports every
 * user every time never settles, and fails here.
 */
async function settledMarker(store: Store): Promise<ChangeMarker> {
  for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
    const { marker } = await store.changedUsers(null);
    if ((await store.changedUsers(marker)).users.length === 0) return marker;
    await delay(SETTLE_PAUSE_MS);
  }
  assert.fail('changedUsers(marker) never came back empty with nothing written after the marker');
}

function idsOf(changes: UserChanges): string[] {
  return changes.users.map((u) => u.userId);
}

function assertOrdered(changes: UserChanges): void {
  const ids = idsOf(changes);
  assert.deepEqual(ids, [...new Set(ids)].sort(byCodePoint), 'ordered by id, each once');
}

/** Ordered, and (with no write running) each user with the totals `.user(userId)` gives now. */
async function assertWellFormed(store: Store, changes: UserChanges): Promise<void> {
  assertOrdered(changes);
  for (const summary of changes.users) assert.deepEqual(summary, await store.user(summary.userId));
}

/** Asserts that the changes report every one of `changed` and none of `untouched`. */
async function assertChanges(
  store: Store,
  changes: UserChanges,
  changed: readonly string[],
  untouched: readonly string[],
): Promise<void> {
  await assertWellFormed(store, changes);
  const ids = idsOf(changes);
  for (const userId of changed)
    assert.ok(ids.includes(userId), `${userId} changed but is missing: ${ids.join(', ')}`);
  for (const userId of untouched) assert.ok(!ids.includes(userId), `${userId} is unchanged but reported`);
}

interface Write {
  userId: string;
  startedAt: number;
  resolvedAt: number;
}

interface Poll {
  startedAt: number;
  /** When its answer came: a poll asked before a write began may still be answered after the write (and see it). */
  resolvedAt: number;
  ids: Set<string>;
}

/**
 * Whether a poll answered after the write began, and begun no later than the first poll that began after the write
 * resolved, reported it.
 */
function seen(write: Write, polls: readonly Poll[]): boolean {
  const lastChance = polls.find((p) => p.startedAt > write.resolvedAt);
  assert.ok(lastChance, 'a poll began after every write resolved');
  return polls.some(
    (p) => p.resolvedAt > write.startedAt && p.startedAt <= lastChance.startedAt && p.ids.has(write.userId),
  );
}

/** `.changedUsers(since)`: the live feed's cheap question, "who changed since I last asked?". */
export function userChangeTests(context: ContractContext): void {
  describe('.changedUsers(since)', () => {
    it('.changedUsers(null) answers no users and a marker, on an empty store and a full one', async () => {
      const { store } = context;
      const empty = await store.changedUsers(null);
      assert.deepEqual(empty.users, []);
      assert.equal(typeof empty.marker, 'string');
      await store.ingest([point('ana', NOON)]);
      const full = await store.changedUsers(null);
      assert.deepEqual(full.users, []);
      assert.equal(typeof full.marker, 'string');
    });

    it('.changedUsers(marker) reports each user changed after the marker with its totals now, and no other', async () => {
      const { store } = context;
      await store.ingest([point('carol', NOON), point('dora', NOON)]);
      const before = await settledMarker(store);
      await store.ingest([point('ana', NOON), point('ben', NOON), point('ana', NOON + MINUTE_MS)]);
      await assertChanges(store, await store.changedUsers(before), ['ana', 'ben'], ['carol', 'dora']);

      const next = await settledMarker(store);
      await store.ingest([point('ben', NOON + 2 * MINUTE_MS)]);
      await assertChanges(store, await store.changedUsers(next), ['ben'], ['ana', 'carol', 'dora']);
      // An old marker still reports everything changed since it.
      await assertChanges(store, await store.changedUsers(before), ['ana', 'ben'], ['carol', 'dora']);
    });

    it('.changedUsers(marker) keeps working across a restart', async (t: TestContext) => {
      if (!context.canRestart) {
        t.skip(`${context.backendName} cannot open a second Store on the same database`);
        return;
      }
      await context.store.ingest([point('ana', NOON), point('ben', NOON)]);
      const before = await settledMarker(context.store);
      const store = await context.restart();
      await store.ingest([point('ben', NOON + MINUTE_MS)]);
      await assertChanges(store, await store.changedUsers(before), ['ben'], ['ana']);
    });

    it('a chain of markers misses no change made by concurrent ingests', async () => {
      const { store } = context;
      // One user per write, so that a later write of the same user cannot hide a change the feed missed.
      const users = Array.from({ length: 30 }, (_, i) => `${i % 2 === 0 ? 'écrivain' : '🚲'} ${i}`);
      // Before any write starts: a marker read after some writes would rightly not report them.
      let { marker } = await store.changedUsers(null);
      let clock = 0;
      const writes: Write[] = [];
      const writing = Promise.all(
        users.map(async (userId, i) => {
          await delay(i * 4);
          const write = { userId, startedAt: clock++, resolvedAt: Infinity };
          writes.push(write);
          // Many points each, so that transactions are often still running while a poll takes its snapshot.
          await store.ingest(minutesFrom(NOON + i, 50).map((tsMs) => point(write.userId, tsMs)));
          write.resolvedAt = clock++;
        }),
      );
      let finished = false;
      const finish = () => {
        finished = true;
      };
      writing.then(finish, finish);

      const polls: Poll[] = [];
      for (let lastRound = false; !lastRound;) {
        lastRound = finished;
        const startedAt = clock++;
        const changes = await store.changedUsers(marker);
        assertOrdered(changes);
        polls.push({ startedAt, resolvedAt: clock++, ids: new Set(idsOf(changes)) });
        marker = changes.marker;
      }
      await writing;
      assert.deepEqual(
        writes.filter((w) => !seen(w, polls)),
        [],
        'every write reported by a poll no later than the first one after it resolved',
      );
    });
  });
}
