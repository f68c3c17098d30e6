import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MinuteAggregate, MinuteSums } from '../store/minutes.js';
import type { MinutePage, MinuteRange, PageRequest, Store } from '../store/store.js';
import { busyPauseMs, MAX_BUSY_PAUSE_MS, openMinuteReader, toExportMinute } from './minutes.js';

const SUMS: MinuteSums = {
  samples: 2,
  latSum: 2 * 40.7e8,
  longSum: -2 * 73.9e8,
  longMin: -73.9e8,
  longMax: -73.9e8,
  longEastSum: 2 * 286.1e8,
  longEastMin: 286.1e8,
  longEastMax: 286.1e8,
  accuracySum: 21_000,
  accuracyCount: 2,
  speedSum: 0,
  speedCount: 0,
};

/** A store holding `count` minutes of user a1, recording every page request. */
function fakeStore(count: number) {
  const requests: Array<{ range: MinuteRange; page: PageRequest }> = [];
  const rows: MinuteAggregate[] = Array.from({ length: count }, (_, i) => ({
    userId: 'a1',
    minuteMs: i * 60_000,
    sums: SUMS,
  }));
  const store: Pick<Store, 'minutes'> = {
    minutes(userId, range, page) {
      requests.push({ range, page });
      if (userId !== 'a1') return Promise.resolve(null);
      const inRange = rows.filter(
        (r) =>
          r.minuteMs >= (range.fromMs ?? -Infinity) &&
          r.minuteMs < (range.toMs ?? Infinity) &&
          r.minuteMs > (page.afterMinuteMs ?? -Infinity),
      );
      const slice = inRange.slice(0, page.limit);
      const result: MinutePage = {
        rows: slice,
        nextAfterMinuteMs: inRange.length > page.limit ? (slice.at(-1)?.minuteMs ?? null) : null,
      };
      return Promise.resolve(result);
    },
  };
  return { store, requests };
}

async function minutesOf(pages: AsyncIterable<ReadonlyArray<{ minuteMs: number }>>): Promise<number[]> {
  const out: number[] = [];
  for await (const page of pages) out.push(...page.map((m) => m.minuteMs / 60_000));
  return out;
}

describe('toExportMinute', () => {
  it('derives the means, null where nothing was reported', () => {
    assert.deepEqual(toExportMinute({ userId: 'a1', minuteMs: 0, sums: SUMS }), {
      minuteMs: 0,
      samples: 2,
      lat: 40.7,
      long: -73.9,
      accuracy: 10.5,
      speed: null,
    });
  });
});

describe('openMinuteReader', () => {
  it('is null for a user without minutes, after reading one page', async () => {
    const { store, requests } = fakeStore(3);
    assert.equal(await openMinuteReader(store, 'nobody', {}), null);
    assert.equal(requests.length, 1);
  });

  it('pages through the range with keyset requests, reusing the page read up front', async () => {
    const { store, requests } = fakeStore(10);
    const read = await openMinuteReader(store, 'a1', { fromMs: 2 * 60_000 }, { pageSize: 3 });
    assert.ok(read);
    assert.deepEqual(await minutesOf(read()), [2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(
      requests.map((r) => r.page),
      [{ limit: 3 }, { limit: 3, afterMinuteMs: 4 * 60_000 }, { limit: 3, afterMinuteMs: 7 * 60_000 }],
    );
  });

  it('reads afresh on a second call, narrowed by beforeMs', async () => {
    const { store, requests } = fakeStore(10);
    const read = await openMinuteReader(store, 'a1', { toMs: 8 * 60_000 }, { pageSize: 4 });
    assert.ok(read);
    await minutesOf(read());
    requests.length = 0;
    assert.deepEqual(await minutesOf(read(5 * 60_000)), [0, 1, 2, 3, 4]);
    assert.deepEqual(requests[0]?.range, { toMs: 5 * 60_000 });
    assert.deepEqual(await minutesOf(read(9 * 60_000)), [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('busyPauseMs', () => {
  it('pauses nine times as long as a page took while ingest is busy, at most 50 ms, and not at all when idle', () => {
    assert.equal(busyPauseMs(4, true), 36);
    assert.equal(busyPauseMs(40, true), MAX_BUSY_PAUSE_MS);
    assert.equal(busyPauseMs(4, false), 0);
    assert.equal(busyPauseMs(0, true), 0);
  });
});

describe('openMinuteReader while ingest is busy', () => {
  it('asks whether ingest is busy after every page, and still reads every minute', async () => {
    const { store } = fakeStore(10);
    let asked = 0;
    const read = await openMinuteReader(
      store,
      'a1',
      {},
      {
        pageSize: 3,
        ingestBusy: () => {
          asked++;
          return true;
        },
      },
    );
    const minutes: number[] = [];
    for await (const page of read?.() ?? []) minutes.push(...page.map((m) => m.minuteMs / 60_000));
    assert.deepEqual(minutes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(asked, 4, 'once per page');
  });
});
