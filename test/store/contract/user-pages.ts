import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContractContext } from './context.js';
import { allUserPages, byCodePoint } from './expected-users.js';
import { NOON, point } from './support.js';

/*
 * Ids whose order or prefixes are easy to get wrong: case, a prefix of another id, combining and precomposed
 * accents, LIKE's wildcards, the last code point of the BMP beside the first astral one (UTF-16 orders them the
 * other way round), private use after the surrogates' range, and the largest code point.
 */
const IDS = [
  'a',
  'ab',
  'abc',
  'aXb',
  'a%b',
  'a_b',
  'a\\b',
  'b',
  'A',
  'B',
  '%',
  '_',
  '100%',
  'e\u0301',
  '\u00e9',
  'Zoë 🚲 東京',
  '\uE000',
  '\uFFFE',
  '\uFFFF',
  '\uFFFFa',
  '\u{10000}',
  '\u{1F600}',
  '\u{1F600}x',
  '\u{1F601}',
  '\u{10FFFF}',
  '\u{10FFFF}a',
];

const SORTED = [...IDS].sort(byCodePoint);

/** Prefixes, each matching exactly the ids that begin with it code point for code point. */
const PREFIXES = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'b',
  'A',
  'a%',
  'a_',
  '%',
  '_',
  'a\\',
  'e',
  '\u00e9',
  '\uFFFF',
  '\u{1F600}',
  '\u{10FFFF}',
  'z',
];

function startsWithCodePoints(id: string, prefix: string): boolean {
  const [idPoints, prefixPoints] = [[...id], [...prefix]];
  return prefixPoints.every((c, i) => idPoints[i] === c);
}

/** `.users(page)`: keyset pages in code point order, and the prefix search. */
export function userPageTests(context: ContractContext): void {
  describe('.users(page)', () => {
    const seed = () => context.store.ingest(IDS.map((id) => point(id, NOON)));

    it('.users(page) returns every user exactly once, in code point order, at every page size', async () => {
      await seed();
      for (let limit = 1; limit <= IDS.length + 1; limit++) {
        const pages = await allUserPages(context.store, limit);
        assert.equal(pages.length, Math.max(1, Math.ceil(IDS.length / limit)), `limit ${limit}`);
        assert.deepEqual(
          pages.flatMap((page) => page.users.map((u) => u.userId)),
          SORTED,
          `limit ${limit}`,
        );
        for (const page of pages.slice(0, -1)) {
          assert.equal(page.users.length, limit, `limit ${limit}: a page before the last is full`);
          assert.equal(page.nextAfterUserId, page.users.at(-1)?.userId);
        }
      }
    });

    it('.users({afterUserId}) starts strictly after it, whether or not it is an id', async () => {
      await seed();
      for (const after of ['a', 'aa', '\uFFFF', '\u{10000}', '\u{10FFFF}', '']) {
        const page = await context.store.users({ limit: 100, afterUserId: after });
        const expected = after === '' ? SORTED : SORTED.filter((id) => byCodePoint(id, after) > 0);
        assert.deepEqual(
          page.users.map((u) => u.userId),
          expected,
          JSON.stringify(after),
        );
        assert.equal(page.nextAfterUserId, null);
      }
    });

    it('.users({prefix}) matches exactly: case, accents, astral characters, and no wildcards', async () => {
      await seed();
      for (const prefix of PREFIXES) {
        const expected = SORTED.filter((id) => startsWithCodePoints(id, prefix));
        for (const limit of [1, 2, 100]) {
          const pages = await allUserPages(context.store, limit, prefix);
          assert.deepEqual(
            pages.flatMap((page) => page.users.map((u) => u.userId)),
            expected,
            `prefix ${JSON.stringify(prefix)}, limit ${limit}`,
          );
        }
      }
    });

    it('.users({prefix, afterUserId}) pages within the prefix, from a cursor before, inside or after it', async () => {
      await seed();
      const cases: [string, string][] = [
        ['a', 'ab'],
        ['a', ''],
        ['a', 'A'],
        ['a', 'a%'],
        ['a', 'b'],
        ['\uFFFF', '\uFFFF'],
        ['\u{1F600}', '\u{1F600}'],
      ];
      const expectedAfter = (prefix: string, after: string) =>
        SORTED.filter((id) => startsWithCodePoints(id, prefix) && byCodePoint(id, after) > 0);
      assert.deepEqual(expectedAfter('a', 'ab'), ['abc'], 'the recomputation itself');
      for (const [prefix, after] of cases) {
        const pages = await allUserPages(context.store, 1, prefix, after);
        assert.deepEqual(
          pages.flatMap((page) => page.users.map((u) => u.userId)),
          expectedAfter(prefix, after),
          `prefix ${JSON.stringify(prefix)} after ${JSON.stringify(after)}`,
        );
      }
    });

    it('.users(page) rejects a limit that is not a positive integer with RangeError', async () => {
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(context.store.users({ limit }), RangeError, String(limit));
      }
    });
  });
}
