/*
 * Scenario 2 of BENCHMARKS.md: the challenge's way, one request at a time on one connection, a ~9,000-point
 * generated trace (with its duplicates). Locus on a durable SQLite file and on an in-memory database (the cost
 * of the fsync per commit), against the bare node:http baseline in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sendRows } from '../src/tools/simulate/send.js';
import type { SimRow } from '../src/tools/simulate/rows.js';
import { traceRows } from './lib/points.js';
import { startBare, startLocus, type Server } from './lib/processes.js';
import { machine, table } from './lib/report.js';

const rows: SimRow[] = traceRows(4, 780, 5).map((row) => ({ ...row }));

async function replay(server: Server): Promise<number> {
  try {
    const report = await sendRows(rows, { api: server.url, mode: 'put', batchSize: 1, concurrency: 1 });
    if (report.errors > 0)
      throw new Error(`${report.errors} errors: ${[...report.failures.keys()].join(', ')}`);
    return report.elapsedMs / 1000;
  } finally {
    await server.stop();
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
try {
  const bare = await replay(await startBare(5110));
  const file = await replay(await startLocus(5111, { DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}` }));
  const memory = await replay(await startLocus(5112, { DATABASE_URL: 'sqlite::memory:' }));
  console.log(`### Sequential replay, ${rows.length} points, one connection (simulate --mode put)\n`);
  console.log(`Machine: ${machine()}.\n`);
  console.log(
    table(
      ['server', 'seconds', 'points/s', 'ratio to baseline'],
      [
        ['bare node:http (baseline)', bare],
        ['Locus, SQLite file, synchronous=FULL (every 200 durable)', file],
        ['Locus, SQLite in memory (no fsync)', memory],
      ].map(([name, seconds]) => [
        name as string,
        (seconds as number).toFixed(2),
        Math.round(rows.length / (seconds as number)),
        ((seconds as number) / bare).toFixed(2),
      ]),
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
