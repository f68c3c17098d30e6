/*
 * What one point's durable commit costs through the Store, back to back and alone (1 ms apart, as in a sequential
 * replay, where each commit waits for the client's next request), in process and on the writer thread. A point
 * a commit, one user, fresh files on the disk a server would use (os.tmpdir() is on it here; a tmpfs would make
 * fsync free), best of two interleaved rounds by mean.
 *
 *   node --import tsx bench/isolated-commit.ts      # COMMITS (default 1500)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Point } from '../src/ingest/point.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { machine, table } from './lib/report.js';

const COMMITS = Number(process.env.COMMITS ?? 1500);
const ROUNDS = 2;

interface Variant {
  name: string;
  writerThread: boolean;
  gapMs: number;
}

const VARIANTS: Variant[] = [
  { name: 'in process, back to back', writerThread: false, gapMs: 0 },
  { name: 'in process, 1 ms apart', writerThread: false, gapMs: 1 },
  { name: 'writer thread, back to back', writerThread: true, gapMs: 0 },
  { name: 'writer thread, 1 ms apart', writerThread: true, gapMs: 1 },
];

interface Latency {
  p50: number;
  p90: number;
  mean: number;
}

async function measure({ writerThread, gapMs }: Variant): Promise<Latency> {
  const dir = mkdtempSync(path.join(tmpdir(), 'locus-isolated-commit-'));
  const store = openSqliteStore({ path: path.join(dir, 'locus.db'), writerThread });
  const micros: number[] = [];
  try {
    for (let i = 0; i < COMMITS; i++) {
      const point: Point = {
        userId: 'u',
        tsMs: Date.UTC(2024, 0, 1) + i * 1000,
        lat: 1,
        long: 2,
        accuracy: 3,
        speed: 4,
      };
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      const began = process.hrtime.bigint();
      await store.ingest([point]);
      micros.push(Number(process.hrtime.bigint() - began) / 1000);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  micros.sort((a, b) => a - b);
  const at = (q: number) => Math.round(micros[Math.floor(q * (micros.length - 1))] ?? NaN);
  return { p50: at(0.5), p90: at(0.9), mean: Math.round(micros.reduce((a, b) => a + b, 0) / micros.length) };
}

const best = new Map<string, Latency>();
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of VARIANTS) {
    const latency = await measure(variant);
    const kept = best.get(variant.name);
    if (!kept || latency.mean < kept.mean) best.set(variant.name, latency);
  }
}

console.log(`### One point's durable commit through the Store, ${COMMITS} commits, µs, best of ${ROUNDS}\n`);
console.log(`Machine: ${machine()}.\n`);
console.log(
  table(
    ['variant', 'p50', 'p90', 'mean'],
    VARIANTS.map(({ name }) => {
      const { p50, p90, mean } = best.get(name)!;
      return [name, p50, p90, mean];
    }),
  ),
);
