/*
 * Scenario 6 of BENCHMARKS.md: memory after 1,000,000 points ingested through POST /locations, and what the
 * dedupe index costs on disk per point, against the bare node:http baseline's memory after the same bodies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { uniqueRows } from './lib/points.js';
import { startBare, startLocus, type Server } from './lib/processes.js';
import { machine, round, table } from './lib/report.js';

const BATCH = 1000;
const TARGET_POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const rows = uniqueRows(1400, 300).slice(0, TARGET_POINTS);
const bodies: string[] = [];
for (let start = 0; start + BATCH <= rows.length; start += BATCH) {
  bodies.push(JSON.stringify(rows.slice(start, start + BATCH)));
}

function rssMiB(server: Server): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function ingestAll(server: Server): Promise<{ rss: number; peak: number }> {
  let next = 0;
  await autocannon({
    url: `${server.url}/locations`,
    method: 'POST',
    connections: 4,
    amount: bodies.length,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++] }) }],
  });
  return { rss: rssMiB(server), peak: server.peakRssMiB() };
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
try {
  const bare = await startBare(5150);
  const bareMemory = await ingestAll(bare).finally(() => bare.stop());
  const file = path.join(dir, 'locus.db');
  const locus = await startLocus(5151, { DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'warn' });
  const locusMemory = await ingestAll(locus).finally(() => locus.stop());
  const db = new Database(file, { readonly: true });
  const sizes = db
    .prepare<[], { name: string; bytes: number }>(
      'SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name',
    )
    .all();
  const stored = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM dedupe_keys').get()?.n ?? 0;
  db.close();
  const bytesOf = (name: string) => sizes.find((s) => s.name === name)?.bytes ?? 0;
  console.log(
    `### Memory after ${bodies.length * BATCH} points through POST /locations (batches of ${BATCH})\n`,
  );
  console.log(`Machine: ${machine()}.\n`);
  console.log(
    table(
      ['server', 'RSS after, MiB', 'peak RSS, MiB'],
      [
        ['bare node:http (baseline)', round(bareMemory.rss), round(bareMemory.peak)],
        ['Locus, SQLite file', round(locusMemory.rss), round(locusMemory.peak)],
      ],
    ),
  );
  console.log(
    `\nOn disk: ${stored} dedupe keys in ${(bytesOf('dedupe_keys') / 2 ** 20).toFixed(1)} MiB ` +
      `(${(bytesOf('dedupe_keys') / Math.max(stored, 1)).toFixed(1)} bytes per point); minutes ` +
      `${(bytesOf('minutes') / 2 ** 20).toFixed(1)} MiB.`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
