import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContractContext } from './context.js';
import { assertMinutesMatch, minutesOfStored } from './expected-minutes.js';
import { allMinutes, everything, MINUTE_MS, NOON, point } from './support.js';

/** `.pruneDedupeKeys(beforeMs)`: what forgetting old keys removes, and what it costs. */
export function pruningTests(context: ContractContext): void {
  describe('.pruneDedupeKeys(beforeMs)', () => {
    it('.pruneDedupeKeys(beforeMs) resolves to 0 on an empty store', async () => {
      assert.equal(await context.store.pruneDedupeKeys(NOON), 0);
    });

    it('.pruneDedupeKeys(beforeMs) removes only keys before beforeMs, returns the count, keeps minutes', async () => {
      const { store } = context;
      const before = [point('ana', NOON - MINUTE_MS - 1), point('ana', NOON - 1), point('ben', NOON - 1)];
      const kept = [point('ana', NOON), point('ana', NOON + 1), point('ben', NOON + MINUTE_MS)];
      await store.ingest([...before, ...kept]);
      const minutesBefore = await everything(store);

      assert.equal(await store.pruneDedupeKeys(NOON), before.length);
      assert.equal(await store.pruneDedupeKeys(NOON), 0);
      assert.deepEqual(await everything(store), minutesBefore);
      assert.deepEqual(
        await store.ingest(kept),
        kept.map(() => 'duplicate'),
      );
    });

    it(".pruneDedupeKeys(beforeMs) lets a pruned (user, instant) be 'stored' again, counting it twice", async () => {
      /*
       * This is the operator's trade-off, not a bug: dedupe keys grow by one per point forever unless pruned, and
       * once a key is gone nothing can tell a late resend from a new point. Pruning is safe only for instants older
       * than any client still retries, so the retention horizon must exceed the longest resend window.
       */
      const { store } = context;
      const old = point('ana', NOON - 1);
      await store.ingest([old]);
      const [once] = await allMinutes(store, 'ana');
      await store.pruneDedupeKeys(NOON);
      assert.deepEqual(await store.ingest([old]), ['stored']);
      const rows = await allMinutes(store, 'ana');
      assertMinutesMatch(rows, minutesOfStored([old, old], 'ana'));
      // Twice the one point, exactly: every sum and count doubled, the extremes unchanged.
      const single = once?.sums;
      assert.ok(single);
      assert.deepEqual(rows[0]?.sums, {
        ...single,
        samples: 2 * single.samples,
        latSum: 2 * single.latSum,
        longSum: 2 * single.longSum,
        longEastSum: 2 * single.longEastSum,
        accuracySum: 2 * single.accuracySum,
        accuracyCount: 2 * single.accuracyCount,
        speedSum: 2 * single.speedSum,
        speedCount: 2 * single.speedCount,
      });
    });
  });
}
