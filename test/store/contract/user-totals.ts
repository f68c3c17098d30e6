import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Point } from '../../../src/ingest/point.js';
import type { ContractContext } from './context.js';
import { assertTotals, DedupeModel, summariesOf } from './expected-users.js';
import { batches, MINUTE_MS, NOON, point, randomPoints, shuffled, withUser } from './support.js';

/** Points of a few users over a few minutes, so that batches keep landing in minutes already stored. */
function crowdedPoints(seed: number): Point[] {
  return [
    ...withUser(randomPoints(60, seed), 'crowd/'),
    ...randomPoints(40, seed + 1),
    // Before 1970 and across its first minute: the first and last minute are compared as signed numbers.
    ...[-120_001, -60_000, -1, 0, 59_999].map((tsMs) => point('epoch', tsMs)),
  ];
}

/** `.user(userId)` and the totals `.users(page)` reads: kept with the minutes, equal to a recomputation. */
export function userTotalsTests(context: ContractContext): void {
  describe('user totals', () => {
    it('.users(page) and .user(userId) answer nothing on an empty store', async () => {
      const { store } = context;
      assert.deepEqual(await store.users({ limit: 10 }), { users: [], nextAfterUserId: null });
      assert.equal(await store.user('ana'), null);
    });

    it('.user(userId) answers only the exact id', async () => {
      const { store } = context;
      await store.ingest([point('ana', NOON), point('ana', NOON + MINUTE_MS)]);
      assert.deepEqual(await store.user('ana'), {
        userId: 'ana',
        minutes: 2,
        samples: 2,
        firstMinuteMs: NOON,
        lastMinuteMs: NOON + MINUTE_MS,
      });
      for (const other of ['an', 'ANA', 'ana ', 'anaa', '', 'an%', 'an_']) {
        assert.equal(await store.user(other), null, JSON.stringify(other));
      }
    });

    it('the totals equal a recomputation after ingests, duplicates, repeated minutes, pruning and a restart', async () => {
      const model = new DedupeModel();
      const points = crowdedPoints(7);
      // Every point twice, in different orders and batch sizes: duplicates within a batch and across batches.
      const sends = [
        ...batches(shuffled(points, 1), 13),
        ...batches(shuffled(points, 2), 50),
        [...points.slice(0, 5), ...points.slice(0, 5)],
      ];
      let store = context.store;
      for (const [i, batch] of sends.entries()) {
        assert.deepEqual(await store.ingest(batch), model.ingest(batch), `batch ${i}`);
        await assertTotals(store, model.stored, `after batch ${i}`);
      }

      // A pruned key is stored again: one more sample in a minute that already exists.
      const pruneBefore = NOON + 2 * MINUTE_MS;
      assert.equal(await store.pruneDedupeKeys(pruneBefore), model.prune(pruneBefore));
      const resent = points.filter((p) => p.tsMs < pruneBefore).slice(0, 20);
      assert.deepEqual(await store.ingest(resent), model.ingest(resent));
      await assertTotals(store, model.stored, 'after pruning');

      if (context.canRestart) {
        store = await context.restart();
        await assertTotals(store, model.stored, 'after a restart');
        const later = [point('ana', NOON + 30 * MINUTE_MS), point('zoë', NOON), ...points.slice(0, 3)];
        assert.deepEqual(await store.ingest(later), model.ingest(later));
        await assertTotals(store, model.stored, 'after ingesting again');
      }
    });

    it('the totals of concurrent overlapping ingests count each stored point once', async () => {
      const { store } = context;
      const distinct = crowdedPoints(11);
      const covering = [1, 2, 3, 4].map((seed) => shuffled(distinct, seed).slice(0, 60));
      covering.push(shuffled(distinct, 5));
      const results = await Promise.all(covering.map((batch) => store.ingest(batch)));
      assert.equal(results.flat().filter((o) => o === 'stored').length, distinct.length);
      await assertTotals(store, distinct);
    });

    it('a batch of nothing but duplicates leaves the totals as they were', async () => {
      const { store } = context;
      const points = [point('ana', NOON), point('ana', NOON + 1), point('ben', NOON)];
      await store.ingest(points);
      assert.deepEqual(
        await store.ingest(points),
        points.map(() => 'duplicate'),
      );
      assert.deepEqual(await store.users({ limit: 10 }), {
        users: summariesOf(points),
        nextAfterUserId: null,
      });
    });
  });
}
