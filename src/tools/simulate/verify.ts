import type { ExpectedMinute } from './expected.js';

interface Page {
  locations: ExpectedMinute[];
  next_cursor: string | null;
}

const FIELDS = ['samples', 'lat', 'long', 'accuracy', 'speed'] as const;

async function fetchMinutes(
  api: string,
  userId: string,
  headers: Record<string, string>,
): Promise<ExpectedMinute[] | string> {
  const minutes: ExpectedMinute[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await fetch(`${api}/users/${encodeURIComponent(userId)}/locations?${query}`, {
      headers,
    });
    if (response.status !== 200) return `GET locations of ${userId}: HTTP ${response.status}`;
    const page = (await response.json()) as Page;
    minutes.push(...page.locations);
    cursor = page.next_cursor;
  } while (cursor);
  return minutes;
}

/** Every way the server's minutes differ from the expected ones, one line each. */
export function compareMinutes(
  userId: string,
  expected: ExpectedMinute[],
  actual: ExpectedMinute[],
): string[] {
  const differences: string[] = [];
  const byMinute = new Map(actual.map((m) => [m.minute, m]));
  for (const want of expected) {
    const got = byMinute.get(want.minute);
    byMinute.delete(want.minute);
    if (!got) {
      differences.push(`${userId} ${want.minute}: missing`);
      continue;
    }
    for (const field of FIELDS) {
      if (got[field] !== want[field]) {
        differences.push(`${userId} ${want.minute}: ${field} is ${got[field]}, expected ${want[field]}`);
      }
    }
  }
  for (const extra of byMinute.keys()) differences.push(`${userId} ${extra}: not expected`);
  return differences;
}

/** Reads every expected user's minutes back from the API and lists the differences. */
export async function verifyAgainstApi(
  api: string,
  expected: Map<string, ExpectedMinute[]>,
  token?: string,
): Promise<string[]> {
  const differences: string[] = [];
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  for (const [userId, minutes] of expected) {
    const actual = await fetchMinutes(api, userId, headers);
    if (typeof actual === 'string') differences.push(actual);
    else differences.push(...compareMinutes(userId, minutes, actual));
  }
  return differences;
}
