import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinutePage } from '../../../src/store/store.js';
import type { ContractContext } from './context.js';
import { assertMinutesMatch, expectedMinutes } from './expected-minutes.js';
import { allMinutes, allPages, MINUTE_MS, minutesFrom, NOON, point, randomPoints } from './support.js';
import { allUsers } from '../../support/users.js';

/** `.users()` and `.minutes(userId, range, page)`: what readers get, ranges and keyset paging. */
export function minutesReadTests(context: ContractContext): void {
  describe('.users()', () => {
    it('.users() resolves to [] for an empty store', async () => {
      assert.deepEqual(await allUsers(context.store), []);
    });

    it(".users() summarises each user's minutes, samples, first and last minute, ordered by user id", async () => {
      const { store } = context;
      const points = [
        point('carol', NOON + 5 * MINUTE_MS),
        point('carol', NOON - 3 * MINUTE_MS),
        point('carol', NOON),
        point('alice', NOON + 1),
        point('alice', NOON + 2),
        point('alice', NOON + 2), // a duplicate counts nowhere
        point('alice', NOON + MINUTE_MS),
        point('bob', NOON),
      ];
      await store.ingest(points);
      assert.deepEqual(await allUsers(store), [
        { userId: 'alice', minutes: 2, samples: 3, firstMinuteMs: NOON, lastMinuteMs: NOON + MINUTE_MS },
        { userId: 'bob', minutes: 1, samples: 1, firstMinuteMs: NOON, lastMinuteMs: NOON },
        {
          userId: 'carol',
          minutes: 3,
          samples: 3,
          firstMinuteMs: NOON - 3 * MINUTE_MS,
          lastMinuteMs: NOON + 5 * MINUTE_MS,
        },
      ]);
    });
  });

  describe('.minutes(userId, range, page)', () => {
    const ten = minutesFrom(NOON, 10);
    const seedTen = () => context.store.ingest(ten.map((m, i) => point('ana', m + i)));
    const minutesOf = (page: MinutePage | null) => page?.rows.map((r) => r.minuteMs);

    it('.minutes(userId) resolves to null for an unknown user', async () => {
      const { store } = context;
      assert.equal(await store.minutes('ana', {}, { limit: 10 }), null);
      await store.ingest([point('ana', NOON)]);
      for (const unknown of ['an', 'ANA', 'ana ', '']) {
        assert.equal(await store.minutes(unknown, {}, { limit: 10 }), null, JSON.stringify(unknown));
      }
    });

    it('.minutes(userId) returns all minutes ascending with their sums', async () => {
      const { store } = context;
      const points = randomPoints(60, 4).reverse();
      await store.ingest(points);
      const page = await store.minutes('ben', {}, { limit: 1000 });
      assert.equal(page?.nextAfterMinuteMs, null);
      assertMinutesMatch(page?.rows ?? [], expectedMinutes(points, 'ben'));
    });

    it('.minutes(userId, {fromMs, toMs}) includes fromMs and excludes toMs', async () => {
      await seedTen();
      const cases: [{ fromMs?: number; toMs?: number }, number[]][] = [
        [{ fromMs: ten[2], toMs: ten[5] }, ten.slice(2, 5)],
        [{ fromMs: ten[7] }, ten.slice(7)],
        [{ toMs: ten[1] }, ten.slice(0, 1)],
        [{}, ten],
      ];
      for (const [range, expected] of cases) {
        assert.deepEqual(
          minutesOf(await context.store.minutes('ana', range, { limit: 100 })),
          expected,
          JSON.stringify(range),
        );
      }
    });

    it('.minutes(userId, range) of a known user with nothing in range is an empty page, not null', async () => {
      await seedTen();
      const { store } = context;
      const empty = { rows: [], nextAfterMinuteMs: null };
      const after = NOON + 10 * MINUTE_MS;
      assert.deepEqual(await store.minutes('ana', { fromMs: ten[3], toMs: ten[3] }, { limit: 5 }), empty);
      assert.deepEqual(await store.minutes('ana', { toMs: NOON }, { limit: 5 }), empty);
      assert.deepEqual(await store.minutes('ana', { fromMs: after }, { limit: 5 }), empty);
      assert.deepEqual(await store.minutes('ana', {}, { limit: 5, afterMinuteMs: ten[9] }), empty);
    });

    it('.minutes(userId, range, {afterMinuteMs}) returns only minutes strictly after it', async () => {
      await seedTen();
      const page = await context.store.minutes('ana', {}, { limit: 3, afterMinuteMs: ten[3] });
      assert.deepEqual(minutesOf(page), ten.slice(4, 7));
      assert.equal(page?.nextAfterMinuteMs, ten[6]);
    });

    it('.minutes(userId, {}, {limit}) pages through every row exactly once with limit 1, 2, = and > count', async () => {
      const { store } = context;
      const points = minutesFrom(NOON, 5).map((m) => point('ana', m));
      await store.ingest(points);
      const all = await allMinutes(store, 'ana');
      assertMinutesMatch(all, expectedMinutes(points, 'ana'));
      for (const limit of [1, 2, 5, 6]) {
        const pages = await allPages(store, 'ana', limit);
        assert.equal(pages.length, Math.ceil(all.length / limit), `limit ${limit}`);
        assert.deepEqual(
          pages.flatMap((p) => p.rows),
          all,
          `limit ${limit}`,
        );
        for (const page of pages.slice(0, -1)) {
          assert.equal(page.rows.length, limit);
          assert.equal(page.nextAfterMinuteMs, page.rows.at(-1)?.minuteMs);
        }
        assert.equal(pages.at(-1)?.nextAfterMinuteMs, null, `limit ${limit}: last page's next`);
      }
    });

    it('.minutes(userId, range, page) pages within a range', async () => {
      await seedTen();
      const { store } = context;
      const range = { fromMs: ten[2], toMs: ten[8] };
      const first = await store.minutes('ana', range, { limit: 4 });
      assert.deepEqual(minutesOf(first), ten.slice(2, 6));
      const second = await store.minutes('ana', range, {
        limit: 4,
        afterMinuteMs: first?.nextAfterMinuteMs ?? 0,
      });
      assert.deepEqual(second && { ...second, rows: minutesOf(second) }, {
        rows: ten.slice(6, 8),
        nextAfterMinuteMs: null,
      });
    });
  });
}
