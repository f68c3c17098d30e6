/*
 * The behaviour every Store backend must share, written against the Store interface only so that it runs unchanged
 * on SQLite and PostgreSQL. Expected rows are recomputed independently with aggregate() over the first occurrence
 * of each (user, instant), never read back from the store under test.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import {
  aggregate,
  MAX_ACCURACY_M,
  MAX_SAMPLES_PER_MINUTE,
  MAX_SPEED_MPS,
  MINUTE_MS,
  mergeSums,
  minuteOf,
  pointSums,
  type MinuteAggregate,
} from '../../src/store/minutes.js';
import type { IngestOutcome, Point } from '../../src/ingest/point.js';
import type { MinutePage, NewToken, Store } from '../../src/store/store.js';

export interface StoreUnderTest {
  /** A fresh, empty store. */
  store: Store;
  /** Opens another Store on the same database, as a restarted process would; absent when the backend cannot. */
  reopen?: () => Promise<Store>;
}

const NOON = Date.UTC(2024, 2, 10, 12, 0, 0);

function point(userId: string, tsMs: number, values: Partial<Omit<Point, 'userId' | 'tsMs'>> = {}): Point {
  return { userId, tsMs, lat: 52.520008, long: 13.404954, accuracy: 4.5, speed: 1.25, ...values };
}

function keyOf(p: Point): string {
  return `${p.userId}\u0000${p.tsMs}`;
}

function firstOccurrences(points: readonly Point[]): Point[] {
  const seen = new Set<string>();
  return points.filter((p) => {
    if (seen.has(keyOf(p))) return false;
    seen.add(keyOf(p));
    return true;
  });
}

/** The rows a correct store holds for `userId` after seeing `points` in this order. */
function expectedMinutes(points: readonly Point[], userId: string): MinuteAggregate[] {
  return aggregate(firstOccurrences(points))
    .filter((row) => row.userId === userId)
    .sort((a, b) => a.minuteMs - b.minuteMs);
}

/** Deterministic so that a failing order can be replayed from its seed (mulberry32). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Distinct (user, instant) points with varied values over a few minutes, including negative coordinates. */
function randomPoints(count: number, seed: number): Point[] {
  const random = seededRandom(seed);
  const users = ['ana', 'ben', 'chloé'];
  const byKey = new Map<string, Point>();
  while (byKey.size < count) {
    const p = point(
      users[Math.floor(random() * users.length)] ?? 'ana',
      NOON + Math.floor(random() * 5 * MINUTE_MS),
      {
        lat: Math.round((random() * 180 - 90) * 1e6) / 1e6,
        long: Math.round((random() * 360 - 180) * 1e6) / 1e6,
        accuracy: Math.round(random() * 100_000) / 1000,
        speed: Math.round(random() * 50_000) / 1000,
      },
    );
    if (!byKey.has(keyOf(p))) byKey.set(keyOf(p), p);
  }
  return [...byKey.values()];
}

function withUser(points: readonly Point[], prefix: string): Point[] {
  return points.map((p) => ({ ...p, userId: `${prefix}${p.userId}` }));
}

function withoutUserPrefix(rows: readonly MinuteAggregate[], prefix: string): MinuteAggregate[] {
  return rows.map((row) => ({ ...row, userId: row.userId.slice(prefix.length) }));
}

async function allPages(store: Store, userId: string, limit: number): Promise<MinutePage[]> {
  const pages: MinutePage[] = [];
  let afterMinuteMs: number | undefined;
  for (;;) {
    const page = await store.minutes(userId, {}, { limit, afterMinuteMs });
    assert.ok(page, `minutes(${JSON.stringify(userId)}) is null`);
    pages.push(page);
    if (page.nextAfterMinuteMs === null) return pages;
    afterMinuteMs = page.nextAfterMinuteMs;
  }
}

async function allMinutes(store: Store, userId: string): Promise<MinuteAggregate[]> {
  return (await allPages(store, userId, 1000)).flatMap((page) => page.rows);
}

async function everything(store: Store): Promise<{ userId: string; rows: MinuteAggregate[] }[]> {
  const users = await store.users();
  return Promise.all(users.map(async ({ userId }) => ({ userId, rows: await allMinutes(store, userId) })));
}

function minutesFrom(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i * MINUTE_MS);
}

export function storeContract(backendName: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${backendName}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    let live: Store[] = [];

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
      live = [store];
    });

    afterEach(async () => {
      await Promise.all(live.map((s) => s.close()));
    });

    /** Closes the current store and continues on a new one over the same data, like a process restart. */
    async function restart(reopen: () => Promise<Store>): Promise<Store> {
      await store.close();
      live = live.filter((s) => s !== store);
      store = await reopen();
      live.push(store);
      return store;
    }

    describe('.ingest(points)', () => {
      it('.ingest([]) resolves to [] and stores nothing', async () => {
        assert.deepEqual(await store.ingest([]), []);
        assert.deepEqual(await store.users(), []);
      });

      it(".ingest(points) returns 'stored' for each new (user, instant)", async () => {
        const points = [point('ana', NOON), point('ana', NOON + 1), point('ben', NOON)];
        assert.deepEqual(await store.ingest(points), ['stored', 'stored', 'stored']);
        assert.deepEqual(await allMinutes(store, 'ana'), expectedMinutes(points, 'ana'));
        assert.deepEqual(await allMinutes(store, 'ben'), expectedMinutes(points, 'ben'));
      });

      it(".ingest(points) returns 'duplicate' for a repeated (user, instant) within one call; the first wins", async () => {
        const first = point('ana', NOON + 5, { lat: 10, long: 20, accuracy: 3, speed: 4 });
        const repeat = point('ana', NOON + 5, { lat: -10, long: -20, accuracy: 30, speed: 40 });
        const other = point('ana', NOON + 6);
        assert.deepEqual(await store.ingest([first, other, repeat, repeat]), [
          'stored',
          'stored',
          'duplicate',
          'duplicate',
        ]);
        assert.deepEqual(await allMinutes(store, 'ana'), expectedMinutes([first, other], 'ana'));
      });

      it(".ingest(points) returns 'duplicate' for a (user, instant) stored by an earlier call; the first wins", async () => {
        const first = point('ana', NOON + 5, { lat: 10, long: 20, accuracy: 3, speed: 4 });
        const repeat = point('ana', NOON + 5, { lat: -10, long: -20, accuracy: 30, speed: 40 });
        assert.deepEqual(await store.ingest([first]), ['stored']);
        assert.deepEqual(await store.ingest([repeat]), ['duplicate']);
        assert.deepEqual(await allMinutes(store, 'ana'), expectedMinutes([first], 'ana'));
      });

      it('.ingest(points) returns outcomes in input order', async () => {
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
        const expected: IngestOutcome[] = [
          'stored',
          'duplicate',
          'stored',
          'duplicate',
          'duplicate',
          'stored',
        ];
        assert.deepEqual(await store.ingest(batch), expected);
      });

      it('.ingest(points) treats the same instant of different users as distinct', async () => {
        const points = [point('ana', NOON), point('Ana', NOON), point('ana ', NOON)];
        assert.deepEqual(await store.ingest(points), ['stored', 'stored', 'stored']);
        assert.equal((await store.users()).length, 3);
      });

      it('.ingest(points) gives the same minutes for any order and batching of the same points', async () => {
        const distinct = randomPoints(150, 1);
        // Resent copies, as a client retrying a batch would send them: identical values, so any copy may win.
        const sent = [...distinct, ...distinct.slice(0, 40), ...distinct.slice(100, 120)];
        const runs = [11, 22, 33].flatMap((seed) => [1, 7, sent.length].map((size) => ({ seed, size })));
        for (const { seed, size } of runs) {
          const prefix = `run ${seed}/${size}: `;
          const points = withUser(shuffled(sent, seed), prefix);
          const outcomes: IngestOutcome[] = [];
          for (const batch of batches(points, size)) outcomes.push(...(await store.ingest(batch)));
          assert.equal(outcomes.filter((o) => o === 'stored').length, distinct.length, prefix);
          for (const userId of ['ana', 'ben', 'chloé']) {
            const rows = await allMinutes(store, prefix + userId);
            assert.deepEqual(
              withoutUserPrefix(rows, prefix),
              expectedMinutes(distinct, userId),
              prefix + userId,
            );
          }
        }
      });

      it('.ingest(points) called concurrently with overlapping batches stores each (user, instant) once', async () => {
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
        for (const userId of ['ana', 'ben', 'chloé']) {
          const concurrentRows = withoutUserPrefix(
            await allMinutes(store, `concurrent/${userId}`),
            'concurrent/',
          );
          const sequentialRows = withoutUserPrefix(
            await allMinutes(store, `sequential/${userId}`),
            'sequential/',
          );
          assert.deepEqual(concurrentRows, sequentialRows);
          assert.deepEqual(concurrentRows, expectedMinutes(distinct, userId));
        }
      });

      it('.ingest(points) is kept across a restart: minutes stay, a resend is a duplicate', async (t: TestContext) => {
        if (!subject.reopen) {
          t.skip(`${backendName} cannot open a second Store on the same database`);
          return;
        }
        const points = randomPoints(40, 3);
        await store.ingest(points);
        const before = await everything(store);
        const reopened = await restart(subject.reopen);
        assert.deepEqual(await everything(reopened), before);
        assert.deepEqual(
          await reopened.ingest(points),
          points.map(() => 'duplicate'),
        );
        assert.deepEqual(await everything(reopened), before);
      });
    });

    describe('minute boundaries', () => {
      it('.ingest(points) puts 12:00:59.999 and 12:01:00.000 in different minutes', async () => {
        await store.ingest([point('ana', NOON), point('ana', NOON + 59_999), point('ana', NOON + 60_000)]);
        const rows = await allMinutes(store, 'ana');
        assert.deepEqual(
          rows.map((r) => [r.minuteMs, r.sums.samples]),
          [
            [NOON, 2],
            [NOON + 60_000, 1],
          ],
        );
      });

      it('.ingest(points) puts instants before 1970 (negative epoch ms) in the minute containing them', async () => {
        const moonLanding = Date.UTC(1969, 6, 20, 20, 17, 40, 500);
        const points = [-60_001, -60_000, -1, 0, 59_999, moonLanding].map((ts) => point('ana', ts));
        await store.ingest(points);
        const rows = await allMinutes(store, 'ana');
        assert.deepEqual(
          rows.map((r) => [r.minuteMs, r.sums.samples]),
          [
            [Date.UTC(1969, 6, 20, 20, 17), 1],
            [-120_000, 1],
            [-60_000, 2],
            [0, 2],
          ],
        );
        assert.deepEqual(rows, expectedMinutes(points, 'ana'));
      });
    });

    describe('awkward values', () => {
      it('.ingest(points) keeps extreme coordinates, zero and maximum accuracy and speed exactly', async () => {
        const points = [
          point('ana', NOON, { lat: 90, long: 180, accuracy: 0, speed: 0 }),
          point('ana', NOON + MINUTE_MS, {
            lat: -90,
            long: -180,
            accuracy: MAX_ACCURACY_M,
            speed: MAX_SPEED_MPS,
          }),
          point('ana', NOON + 2 * MINUTE_MS, { lat: 0, long: 0, accuracy: 0.001, speed: 0.001 }),
        ];
        await store.ingest(points);
        const rows = await allMinutes(store, 'ana');
        assert.deepEqual(rows, expectedMinutes(points, 'ana'));
        assert.equal(rows[0]?.sums.latSum, 9_000_000_000);
        assert.equal(rows[1]?.sums.longEastSum, 18_000_000_000);
      });

      it('.ingest(points) averages accuracy and speed over the points that carry them', async () => {
        const points = [
          point('ana', NOON, { accuracy: null, speed: 2 }),
          point('ana', NOON + 1, { accuracy: 8, speed: null }),
          point('ana', NOON + MINUTE_MS, { accuracy: null, speed: null }),
        ];
        for (const p of points) await store.ingest([p]);
        const rows = await allMinutes(store, 'ana');
        assert.deepEqual(rows, expectedMinutes(points, 'ana'));
        assert.deepEqual(
          rows.map((r) => [r.sums.accuracyCount, r.sums.speedCount]),
          [
            [1, 1],
            [0, 0],
          ],
        );
      });

      it('.ingest(points) keeps antimeridian points 179.9 and -179.9 in one minute with exact extremes', async () => {
        const points = [point('ana', NOON, { long: 179.9 }), point('ana', NOON + 1, { long: -179.9 })];
        // Separate calls, so the extremes are merged by the store's upsert rather than by aggregate() in memory.
        for (const p of points) await store.ingest([p]);
        const [row, ...rest] = await allMinutes(store, 'ana');
        assert.equal(rest.length, 0);
        assert.deepEqual(row, expectedMinutes(points, 'ana')[0]);
        assert.deepEqual(
          [row?.sums.longMin, row?.sums.longMax, row?.sums.longEastMin, row?.sums.longEastMax],
          [-17_990_000_000, 17_990_000_000, 17_990_000_000, 18_010_000_000],
        );
      });

      it('.ingest(points) sums a full minute of extreme values exactly (no float rounding, no overflow)', async () => {
        const points = Array.from({ length: MAX_SAMPLES_PER_MINUTE }, (_, i) =>
          point('ana', NOON + i, {
            lat: i % 2 ? 90 : 89.99999999,
            long: i % 2 ? 179.99999999 : -179.99999999,
            accuracy: MAX_ACCURACY_M,
            speed: MAX_SPEED_MPS,
          }),
        );
        for (const batch of batches(points, 10_000)) await store.ingest(batch);
        assert.deepEqual(await allMinutes(store, 'ana'), expectedMinutes(points, 'ana'));
      });

      it('.ingest(points) stores user ids verbatim: Unicode, quotes, SQL, 128 characters', async () => {
        const ids = [
          'Zoë 🚲 東京',
          'e\u0301', // decomposed é: must not be normalised into the next id
          '\u00e9',
          `O'Brien "the quoted"`,
          "'; DROP TABLE minutes; --",
          '100% _like_ \\escaped\\',
          ' padded ',
          'x'.repeat(127) + 'y',
        ];
        await store.ingest(ids.map((id) => point(id, NOON)));
        const users = await store.users();
        // Sorted here because the order of non-ASCII ids depends on the backend's collation; see .users() tests.
        assert.deepEqual(users.map((u) => u.userId).sort(), [...ids].sort());
        for (const id of ids) {
          const rows = await allMinutes(store, id);
          assert.deepEqual(rows, expectedMinutes([point(id, NOON)], id), id);
        }
        assert.deepEqual(
          await store.ingest(ids.map((id) => point(id, NOON))),
          ids.map(() => 'duplicate'),
        );
      });
    });

    describe('.users()', () => {
      it('.users() resolves to [] for an empty store', async () => {
        assert.deepEqual(await store.users(), []);
      });

      it(".users() summarises each user's minutes, samples, first and last minute, ordered by user id", async () => {
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
        assert.deepEqual(await store.users(), [
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
      const seedTen = () => store.ingest(ten.map((m, i) => point('ana', m + i)));
      const minutesOf = (page: MinutePage | null) => page?.rows.map((r) => r.minuteMs);

      it('.minutes(userId) resolves to null for an unknown user', async () => {
        assert.equal(await store.minutes('ana', {}, { limit: 10 }), null);
        await store.ingest([point('ana', NOON)]);
        for (const unknown of ['an', 'ANA', 'ana ', '']) {
          assert.equal(await store.minutes(unknown, {}, { limit: 10 }), null, JSON.stringify(unknown));
        }
      });

      it('.minutes(userId) returns all minutes ascending with exact sums', async () => {
        const points = randomPoints(60, 4).reverse();
        await store.ingest(points);
        const page = await store.minutes('ben', {}, { limit: 1000 });
        assert.deepEqual(page, { rows: expectedMinutes(points, 'ben'), nextAfterMinuteMs: null });
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
            minutesOf(await store.minutes('ana', range, { limit: 100 })),
            expected,
            JSON.stringify(range),
          );
        }
      });

      it('.minutes(userId, range) of a known user with nothing in range is an empty page, not null', async () => {
        await seedTen();
        const empty = { rows: [], nextAfterMinuteMs: null };
        const after = NOON + 10 * MINUTE_MS;
        assert.deepEqual(await store.minutes('ana', { fromMs: ten[3], toMs: ten[3] }, { limit: 5 }), empty);
        assert.deepEqual(await store.minutes('ana', { toMs: NOON }, { limit: 5 }), empty);
        assert.deepEqual(await store.minutes('ana', { fromMs: after }, { limit: 5 }), empty);
        assert.deepEqual(await store.minutes('ana', {}, { limit: 5, afterMinuteMs: ten[9] }), empty);
      });

      it('.minutes(userId, range, {afterMinuteMs}) returns only minutes strictly after it', async () => {
        await seedTen();
        const page = await store.minutes('ana', {}, { limit: 3, afterMinuteMs: ten[3] });
        assert.deepEqual(minutesOf(page), ten.slice(4, 7));
        assert.equal(page?.nextAfterMinuteMs, ten[6]);
      });

      it('.minutes(userId, {}, {limit}) pages through every row exactly once with limit 1, 2, = and > count', async () => {
        const points = minutesFrom(NOON, 5).map((m) => point('ana', m));
        await store.ingest(points);
        const all = expectedMinutes(points, 'ana');
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

    describe('.pruneDedupeKeys(beforeMs)', () => {
      it('.pruneDedupeKeys(beforeMs) resolves to 0 on an empty store', async () => {
        assert.equal(await store.pruneDedupeKeys(NOON), 0);
      });

      it('.pruneDedupeKeys(beforeMs) removes only keys before beforeMs, returns the count, keeps minutes', async () => {
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
        const old = point('ana', NOON - 1);
        await store.ingest([old]);
        await store.pruneDedupeKeys(NOON);
        assert.deepEqual(await store.ingest([old]), ['stored']);
        const twice = mergeSums(pointSums(old), pointSums(old));
        assert.deepEqual(await allMinutes(store, 'ana'), [
          { userId: 'ana', minuteMs: minuteOf(old.tsMs), sums: twice },
        ]);
      });
    });

    describe('.health()', () => {
      it('.health() resolves on an open store', async () => {
        await store.health();
        await store.ingest([point('ana', NOON)]);
        await store.health();
      });
    });

    describe('.tokens', () => {
      const userToken = (id: string, userId: string, createdMs = NOON): NewToken => ({
        id,
        hash: `${id}-hash`.padEnd(64, '0'),
        userId,
        scope: 'user',
        label: null,
        createdMs,
      });

      it('.tokens.list() resolves to [] on a new store', async () => {
        assert.deepEqual(await store.tokens.list(), []);
      });

      it('.tokens.create(token) stores a user token; findByHash finds it without the hash', async () => {
        const created = await store.tokens.create({ ...userToken('t1', 'chloé'), label: 'phone' });
        const expected = {
          id: 't1',
          userId: 'chloé',
          scope: 'user',
          label: 'phone',
          createdMs: NOON,
          revokedMs: null,
        };
        assert.deepEqual(created, expected);
        assert.deepEqual(await store.tokens.findByHash(userToken('t1', 'chloé').hash), expected);
      });

      it('.tokens.create(token) stores an admin token with no user', async () => {
        const admin: NewToken = {
          id: 'a1',
          hash: 'f'.repeat(64),
          userId: null,
          scope: 'admin',
          label: null,
          createdMs: NOON,
        };
        await store.tokens.create(admin);
        assert.deepEqual(await store.tokens.findByHash(admin.hash), {
          id: 'a1',
          userId: null,
          scope: 'admin',
          label: null,
          createdMs: NOON,
          revokedMs: null,
        });
      });

      it('.tokens.create(token) rejects a user token without a user, an admin token with one, a repeated hash or id', async () => {
        await assert.rejects(store.tokens.create({ ...userToken('t1', 'ana'), userId: null }));
        await assert.rejects(store.tokens.create({ ...userToken('t2', 'ana'), scope: 'admin' }));
        await store.tokens.create(userToken('t3', 'ana'));
        await assert.rejects(
          store.tokens.create({ ...userToken('t4', 'ben'), hash: userToken('t3', 'ana').hash }),
        );
        await assert.rejects(store.tokens.create({ ...userToken('t3', 'ben'), hash: 'e'.repeat(64) }));
        assert.deepEqual(
          (await store.tokens.list()).map((t) => t.id),
          ['t3'],
        );
      });

      it('.tokens.findByHash(hash) resolves to null for an unknown hash', async () => {
        await store.tokens.create(userToken('t1', 'ana'));
        assert.equal(await store.tokens.findByHash('0'.repeat(64)), null);
      });

      it('.tokens.list() lists every token oldest first, revoked ones included', async () => {
        await store.tokens.create(userToken('t2', 'ben', NOON + 1));
        await store.tokens.create(userToken('t1', 'ana', NOON));
        await store.tokens.revoke('t1', NOON + 5);
        const listed = await store.tokens.list();
        assert.deepEqual(
          listed.map((t) => [t.id, t.userId, t.revokedMs]),
          [
            ['t1', 'ana', NOON + 5],
            ['t2', 'ben', null],
          ],
        );
        assert.ok(
          listed.every((t) => !('hash' in t)),
          'no hash in listings',
        );
      });

      it('.tokens.revoke(id, atMs) marks the token revoked, keeps the first time, and is false for an unknown id', async () => {
        await store.tokens.create(userToken('t1', 'ana'));
        assert.equal(await store.tokens.revoke('t1', NOON + 10), true);
        assert.equal(await store.tokens.revoke('t1', NOON + 20), true);
        assert.equal((await store.tokens.findByHash(userToken('t1', 'ana').hash))?.revokedMs, NOON + 10);
        assert.equal(await store.tokens.revoke('nope', NOON), false);
      });

      it('.tokens are kept across a restart', async (t: TestContext) => {
        if (!subject.reopen) return t.skip('this backend cannot be reopened');
        await store.tokens.create(userToken('t1', 'ana'));
        const reopened = await restart(subject.reopen);
        assert.equal((await reopened.tokens.findByHash(userToken('t1', 'ana').hash))?.userId, 'ana');
      });
    });
  });
}
