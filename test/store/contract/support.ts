/*
 * Points, orders and readers shared by the contract modules. Nothing here computes what a store should hold:
 * expected-minutes.ts does, from the raw points alone.
 */
import assert from 'node:assert/strict';
import type { Point } from '../../../src/ingest/point.js';
import type { MinuteAggregate } from '../../../src/store/minutes.js';
import type { MinutePage, Store } from '../../../src/store/store.js';
import { allUsers } from '../../support/users.js';

export const NOON = Date.UTC(2024, 2, 10, 12, 0, 0);
export const MINUTE_MS = 60_000;

export function point(
  userId: string,
  tsMs: number,
  values: Partial<Omit<Point, 'userId' | 'tsMs'>> = {},
): Point {
  return { userId, tsMs, lat: 52.520008, long: 13.404954, accuracy: 4.5, speed: 1.25, ...values };
}

/** The dedupe key of a point: its user and its instant. */
export function keyOf(p: Point): string {
  return `${p.userId}\u0000${p.tsMs}`;
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

export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Distinct (user, instant) points with varied values over a few minutes, including negative coordinates. */
export function randomPoints(count: number, seed: number): Point[] {
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

export function withUser(points: readonly Point[], prefix: string): Point[] {
  return points.map((p) => ({ ...p, userId: `${prefix}${p.userId}` }));
}

export function withoutUserPrefix(rows: readonly MinuteAggregate[], prefix: string): MinuteAggregate[] {
  return rows.map((row) => ({ ...row, userId: row.userId.slice(prefix.length) }));
}

export function minutesFrom(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i * MINUTE_MS);
}

export async function allPages(store: Store, userId: string, limit: number): Promise<MinutePage[]> {
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

export async function allMinutes(store: Store, userId: string): Promise<MinuteAggregate[]> {
  return (await allPages(store, userId, 1000)).flatMap((page) => page.rows);
}

export async function everything(store: Store): Promise<{ userId: string; rows: MinuteAggregate[] }[]> {
  const users = await allUsers(store);
  return Promise.all(users.map(async ({ userId }) => ({ userId, rows: await allMinutes(store, userId) })));
}
