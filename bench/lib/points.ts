import { generateTrace, type TraceRow } from '../../src/tools/generate/trace.js';

/** Generated points with every (user, timestamp) once, so every request stores a new point. */
export function uniqueRows(users: number, minutes: number, seed = 11): TraceRow[] {
  const seen = new Set<string>();
  const rows: TraceRow[] = [];
  for (const row of generateTrace({ seed, users, minutes })) {
    const key = `${row.user_id}|${row.timestamp}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(row);
  }
  return rows;
}

/** The generator's rows as they come: about three copies of each fix, as the challenge's traces. */
export function traceRows(users: number, minutes: number, seed = 11): TraceRow[] {
  return [...generateTrace({ seed, users, minutes })];
}
