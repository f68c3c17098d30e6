/*
 * SQLite store ingest alone, no HTTP: points per second through Store.ingest on a fresh temp file, in batches of
 * 1,000 (what group commit hands the store under POST /locations) and 10,000 (what `locus import` hands it), once
 * through the writer thread (as a server runs) and once in process (`writerThread: false`), so the cost of
 * messaging the thread shows apart from SQLite's. Points come from the trace generator: many users interleaved in
 * time order, as live traffic is, and one user's long history, as an import is. Every point is new.
 *
 *   node --import tsx bench/sqlite-ingest.ts            # BENCH_USERS, BENCH_MINUTES, BENCH_ROUNDS to change sizes
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSamples, samplePoint } from '../src/tools/generate/trace.js';
import type { Point } from '../src/ingest/point.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { machine, ratio, round, table } from './lib/report.js';

const USERS = Number(process.env.BENCH_USERS ?? 500);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 240);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCHES = [1000, 10_000];

/** The generator's fixes as store points (UTC instants known, so no time-zone lookups), each (user, instant) once. */
function points(users: number, minutes: number): Point[] {
  const seen = new Set<string>();
  const out: Point[] = [];
  for (const sample of generateSamples({ seed: 11, users, minutes })) {
    const key = `${sample.row.user_id}|${sample.utcMs}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(samplePoint(sample));
  }
  return out;
}

/** Points per second for all points ingested one batch at a time into a new file. */
async function measure(all: readonly Point[], batch: number, writerThread: boolean): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
  try {
    const store = openSqliteStore({ path: path.join(dir, 'locus.db'), writerThread });
    await store.ingest(all.slice(0, 1)); // the thread started and the statements prepared before the clock
    const began = process.hrtime.bigint();
    for (let i = 1; i < all.length; i += batch) await store.ingest(all.slice(i, i + batch));
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    await store.close();
    return (all.length - 1) / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The best of a few rounds: the machine is shared, and noise only ever slows a round down. */
async function best(all: readonly Point[], batch: number, writerThread: boolean): Promise<number> {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await measure(all, batch, writerThread));
  return top;
}

const workloads = [
  { name: `${USERS} users interleaved`, points: points(USERS, MINUTES) },
  { name: 'one user (an import)', points: points(1, Math.max(1, Math.round((USERS * MINUTES) / 3))) },
];

console.log(`### SQLite store ingest (Store.ingest on a file, WAL, synchronous=FULL), best of ${ROUNDS}\n`);
console.log(`Machine: ${machine()}.\n`);
const rows: Array<Array<string | number>> = [];
for (const { name, points: all } of workloads) {
  for (const batch of BATCHES) {
    const inProcess = await best(all, batch, false);
    const thread = await best(all, batch, true);
    rows.push([name, all.length, batch, round(thread), round(inProcess), ratio(thread, inProcess)]);
  }
}
console.log(
  table(
    ['points', 'count', 'batch', 'writer thread, points/s', 'in process, points/s', 'thread / in process'],
    rows,
  ),
);
