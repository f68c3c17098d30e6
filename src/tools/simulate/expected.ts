import { aggregate, means, type MinuteMeans } from '../../store/minutes.js';
import { composePoint } from '../../ingest/compose.js';
import type { Point } from '../../ingest/point.js';

export interface ExpectedMinute extends MinuteMeans {
  minute: string;
}

export interface Expectation {
  /** Minutes per user, ascending. */
  users: Map<string, ExpectedMinute[]>;
  /** Rows the pipeline rejects. */
  rejected: number;
  /** Rows that repeat an earlier (user, instant). */
  duplicates: number;
}

/**
 * What the server must end up with after receiving these rows in this order, computed with the same pure pipeline
 * (validation, UTC resolution, first-wins dedupe, minute sums) but without the server or its store.
 */
export function expectFromRows(rows: Iterable<unknown>): Expectation {
  const firsts: Point[] = [];
  const seen = new Set<string>();
  let rejected = 0;
  let duplicates = 0;
  for (const row of rows) {
    const prepared = composePoint(row, { rules: 'put' });
    if (!prepared.ok) {
      rejected++;
      continue;
    }
    const key = `${prepared.value.userId}\u0000${prepared.value.tsMs}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    firsts.push(prepared.value);
  }
  const users = new Map<string, ExpectedMinute[]>();
  for (const group of aggregate(firsts)) {
    const list = users.get(group.userId) ?? [];
    list.push({ minute: new Date(group.minuteMs).toISOString(), ...means(group.sums) });
    users.set(group.userId, list);
  }
  for (const list of users.values()) list.sort((a, b) => (a.minute < b.minute ? -1 : 1));
  return { users, rejected, duplicates };
}
