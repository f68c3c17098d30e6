/*
 * What a correct store answers about users, recomputed from the raw points alone: which points it keeps (a model
 * of first-wins dedupe and pruning), each user's totals, and the order of user ids. Nothing here comes from
 * src/store: neither the stores' SQL nor store.ts's prefix arithmetic.
 */
import assert from 'node:assert/strict';
import type { IngestOutcome, Point } from '../../../src/ingest/point.js';
import type { Store, UserPage, UserSummary } from '../../../src/store/store.js';
import { allUsers } from '../../support/users.js';
import { keyOf, MINUTE_MS } from './support.js';

/**
 * Code point order, how both stores sort ids (SQLite's BINARY and PostgreSQL's "C" compare UTF-8 bytes, which
 * order as code points do). Not JavaScript's `<`, which compares UTF-16 units and puts U+FFFF after U+10000.
 */
export function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function minuteOfInstant(tsMs: number): number {
  return Math.floor(tsMs / MINUTE_MS) * MINUTE_MS;
}

/** Dedupe as the contract describes it: the first copy of each (user, instant) is stored; pruning forgets keys. */
export class DedupeModel {
  /** Every point stored so far, a point stored again after pruning included. */
  readonly stored: Point[] = [];
  readonly #keys = new Map<string, number>();

  ingest(points: readonly Point[]): IngestOutcome[] {
    return points.map((p) => {
      if (this.#keys.has(keyOf(p))) return 'duplicate';
      this.#keys.set(keyOf(p), p.tsMs);
      this.stored.push(p);
      return 'stored';
    });
  }

  prune(beforeMs: number): number {
    const old = [...this.#keys].filter(([, tsMs]) => tsMs < beforeMs);
    for (const [key] of old) this.#keys.delete(key);
    return old.length;
  }
}

/** The totals of a store holding exactly these stored points, ordered by user id. */
export function summariesOf(stored: readonly Point[]): UserSummary[] {
  const byUser = new Map<string, Point[]>();
  for (const p of stored) {
    const points = byUser.get(p.userId);
    if (points) points.push(p);
    else byUser.set(p.userId, [p]);
  }
  return [...byUser]
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([userId, points]) => summaryOf(userId, points));
}

function summaryOf(userId: string, points: readonly Point[]): UserSummary {
  const minutes = [...new Set(points.map((p) => minuteOfInstant(p.tsMs)))].sort((a, b) => a - b);
  return {
    userId,
    minutes: minutes.length,
    samples: points.length,
    firstMinuteMs: minutes[0] as number,
    lastMinuteMs: minutes[minutes.length - 1] as number,
  };
}

/** Longer than any test's user list: a store that never ends its pages fails instead of looping. */
const MAX_PAGES = 10_000;

/** Every page of `users`, from the first to the one without a next. */
export async function allUserPages(
  store: Store,
  limit: number,
  prefix?: string,
  afterUserId?: string,
): Promise<UserPage[]> {
  const pages: UserPage[] = [];
  let after = afterUserId;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await store.users({ limit, prefix, afterUserId: after });
    pages.push(page);
    if (page.nextAfterUserId === null) return pages;
    after = page.nextAfterUserId;
  }
  assert.fail(`users({limit: ${limit}}) did not end after ${MAX_PAGES} pages`);
}

/** Asserts that every way of reading the totals agrees with the recomputation from the stored points. */
export async function assertTotals(store: Store, stored: readonly Point[], message = ''): Promise<void> {
  const expected = summariesOf(stored);
  assert.deepEqual(await allUsers(store), expected, `${message} users()`);
  for (const summary of expected) {
    assert.deepEqual(await store.user(summary.userId), summary, `${message} user(${summary.userId})`);
  }
}
