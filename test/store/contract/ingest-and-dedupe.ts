import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { IngestOutcome } from '../../../src/ingest/point.js';
import type { MinuteAggregate } from '../../../src/store/minutes.js';
import type { ContractContext } from './context.js';
import { assertMinutesMatch, expectedMinutes } from './expected-minutes.js';
import {
  allMinutes,
  batches,
  everything,
  keyOf,
  NOON,
  point,
  randomPoints,
  shuffled,
  withoutUserPrefix,
  withUser,
} from './support.js';
import { allUsers } from '../../support/users.js';

const USERS = ['ana', 'ben', 'chloé'];

/** `.ingest(points)`: outcomes, first-wins dedupe, order and concurrency. */
export function ingestTests(context: ContractContext): void {
  describe('.ingest(points)', () => {
    it('.ingest([]) resolves to [] and stores nothing', async () => {
      const { store } = context;
      assert.deepEqual(await store.ingest([]), []);
      assert.deepEqual(await allUsers(store), []);
    });

    it(".ingest(points) returns 'stored' for each new (user, instant)", async () => {
      const { store } = context;
      const points = [point('ana', NOON), point('ana', NOON + 1), point('ben', NOON)];
      assert.deepEqual(await store.ingest(points), ['stored', 'stored', 'stored']);
      assertMinutesMatch(await allMinutes(store, 'ana'), expectedMinutes(points, 'ana'));
      assertMinutesMatch(await allMinutes(store, 'ben'), expectedMinutes(points, 'ben'));
    });

    it(".ingest(points) returns 'duplicate' for a repeated (user, instant) within one call; the first wins", async () => {
      const { store } = context;
      const first = point('ana', NOON + 5, { lat: 10, long: 20, accuracy: 3, speed: 4 });
      const repeat = point('ana', NOON + 5, { lat: -10, long: -20, accuracy: 30, speed: 40 });
      const other = point('ana', NOON + 6);
      assert.deepEqual(await store.ingest([first, other, repeat, repeat]), [
        'stored',
        'stored',
        'duplicate',
        'duplicate',
      ]);
      assertMinutesMatch(await allMinutes(store, 'ana'), expectedMinutes([first, other], 'ana'));
    });

    it(".ingest(points) returns 'duplicate' for a (user, instant) stored by an earlier call; the first wins", async () => {
      const { store } = context;
      const first = point('ana', NOON + 5, { lat: 10, long: 20, accuracy: 3, speed: 4 });
      const repeat = point('ana', NOON + 5, { lat: -10, long: -20, accuracy: 30, speed: 40 });
      assert.deepEqual(await store.ingest([first]), ['stored']);
      assert.deepEqual(await store.ingest([repeat]), ['duplicate']);
      assertMinutesMatch(await allMinutes(store, 'ana'), expectedMinutes([first], 'ana'));
    });

    it('.ingest(points) returns outcomes in input order', async () => {
      const { store } = context;
      const seen = [point('ana', NOON + 1), point('ben', NOON + 2)];
      await store.ingest(seen);
      const batch = [
        point('ana', NOON + 3),
        point('ana', NOON + 1),
        point('ben', NOON + 1),
        point('ana', NOON + 3),
        point('ben', NOON + 2),
        point('ben', NOON + 4),
      ];
      const expected: IngestOutcome[] = ['stored', 'duplicate', 'stored', 'duplicate', 'duplicate', 'stored'];
      assert.deepEqual(await store.ingest(batch), expected);
    });

    it('.ingest(points) treats the same instant of different users as distinct', async () => {
      const { store } = context;
      const points = [point('ana', NOON), point('Ana', NOON), point('ana ', NOON)];
      assert.deepEqual(await store.ingest(points), ['stored', 'stored', 'stored']);
      assert.equal((await allUsers(store)).length, 3);
    });

    it('.ingest(points) gives the same minutes for any order and batching of the same points', async () => {
      const { store } = context;
      const distinct = randomPoints(150, 1);
      // Resent copies, as a client retrying a batch would send them: identical values, so any copy may win.
      const sent = [...distinct, ...distinct.slice(0, 40), ...distinct.slice(100, 120)];
      const runs = [11, 22, 33].flatMap((seed) => [1, 7, sent.length].map((size) => ({ seed, size })));
      // Integer sums make every order give the same rows bit for bit, so runs are compared exactly with the first.
      const firstRun = new Map<string, MinuteAggregate[]>();
      for (const { seed, size } of runs) {
        const prefix = `run ${seed}/${size}: `;
        const points = withUser(shuffled(sent, seed), prefix);
        const outcomes: IngestOutcome[] = [];
        for (const batch of batches(points, size)) outcomes.push(...(await store.ingest(batch)));
        assert.equal(outcomes.filter((o) => o === 'stored').length, distinct.length, prefix);
        for (const userId of USERS) {
          const rows = withoutUserPrefix(await allMinutes(store, prefix + userId), prefix);
          assertMinutesMatch(rows, expectedMinutes(distinct, userId), prefix + userId);
          if (!firstRun.has(userId)) firstRun.set(userId, rows);
          assert.deepEqual(rows, firstRun.get(userId), `${prefix}${userId}, bit for bit as the first run`);
        }
      }
    });

    it('.ingest(points) called concurrently with overlapping batches stores each (user, instant) once', async () => {
      const { store } = context;
      const distinct = randomPoints(120, 2);
      const overlapping = [1, 2, 3, 4, 5].map((seed) => shuffled(distinct, seed).slice(0, 70));
      const covering = [...overlapping, shuffled(distinct, 6)];

      const concurrent = covering.map((batch) => withUser(batch, 'concurrent/'));
      const results = await Promise.all(concurrent.map((batch) => store.ingest(batch)));
      const storedPerKey = new Map<string, number>();
      concurrent.forEach((batch, b) =>
        batch.forEach((p, i) => {
          const stored = results[b]?.[i] === 'stored' ? 1 : 0;
          storedPerKey.set(keyOf(p), (storedPerKey.get(keyOf(p)) ?? 0) + stored);
        }),
      );
      assert.equal(storedPerKey.size, distinct.length);
      assert.ok(
        [...storedPerKey.values()].every((n) => n === 1),
        'every key stored exactly once',
      );

      for (const batch of covering) await store.ingest(withUser(batch, 'sequential/'));
      for (const userId of USERS) {
        const concurrentRows = withoutUserPrefix(
          await allMinutes(store, `concurrent/${userId}`),
          'concurrent/',
        );
        const sequentialRows = withoutUserPrefix(
          await allMinutes(store, `sequential/${userId}`),
          'sequential/',
        );
        assert.deepEqual(concurrentRows, sequentialRows);
        assertMinutesMatch(concurrentRows, expectedMinutes(distinct, userId), userId);
      }
    });

    it('.ingest(points) is kept across a restart: minutes stay, a resend is a duplicate', async (t: TestContext) => {
      if (!context.canRestart) {
        t.skip(`${context.backendName} cannot open a second Store on the same database`);
        return;
      }
      const points = randomPoints(40, 3);
      await context.store.ingest(points);
      const before = await everything(context.store);
      const reopened = await context.restart();
      assert.deepEqual(await everything(reopened), before);
      assert.deepEqual(
        await reopened.ingest(points),
        points.map(() => 'duplicate'),
      );
      assert.deepEqual(await everything(reopened), before);
    });
  });
}
