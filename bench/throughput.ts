/*
 * Scenarios 1, 5 and 6 of BENCHMARKS.md: PUT /location throughput with 64 connections, latency under a fixed
 * offered load, and peak memory, each for Locus and for the bare node:http baseline measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { putLoad, type LoadResult } from './lib/load.js';
import { uniqueRows } from './lib/points.js';
import { startBare, startLocus, type Server } from './lib/processes.js';
import { machine, ratio, round, table } from './lib/report.js';

const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const OFFERED_RATE = 5000;

const rows = uniqueRows(400, 240);
const bodies = rows.map((row) => JSON.stringify(row));
// Each phase takes its own slice, so no point is sent twice to one database.
const slice = (phase: number) => bodies.slice((phase * bodies.length) / 3, ((phase + 1) * bodies.length) / 3);

interface Measured {
  name: string;
  throughput: LoadResult;
  fixedRate: LoadResult;
  peakRssMiB: number;
}

async function measure(name: string, server: Server): Promise<Measured> {
  try {
    await putLoad({ url: server.url, bodies: slice(0), connections: CONNECTIONS, durationS: 2 }); // warm-up
    const throughput = await putLoad({
      url: server.url,
      bodies: slice(1),
      connections: CONNECTIONS,
      durationS: DURATION_S,
    });
    const fixedRate = await putLoad({
      url: server.url,
      bodies: slice(2),
      connections: CONNECTIONS,
      durationS: DURATION_S,
      overallRate: OFFERED_RATE,
    });
    return { name, throughput, fixedRate, peakRssMiB: server.peakRssMiB() };
  } finally {
    await server.stop();
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
try {
  const bare = await measure('bare node:http (baseline)', await startBare(5100));
  const locus = await measure(
    'Locus, SQLite file, synchronous=FULL',
    await startLocus(5101, { DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}` }),
  );
  const base = bare.throughput.requestsPerSecond;
  console.log(`### PUT /location, ${CONNECTIONS} connections, ${DURATION_S} s, autocannon\n`);
  console.log(`Machine: ${machine()}. ${bodies.length} unique generated points.\n`);
  console.log(
    table(
      ['server', 'req/s', 'ratio to baseline', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
      [bare, locus].map((m) => [
        m.name,
        round(m.throughput.requestsPerSecond),
        ratio(m.throughput.requestsPerSecond, base),
        m.throughput.p50,
        m.throughput.p99,
        m.throughput.non2xx,
        m.throughput.errors,
      ]),
    ),
  );
  console.log(`\n### Latency at ${OFFERED_RATE} req/s offered, ${CONNECTIONS} connections\n`);
  console.log(
    table(
      ['server', 'req/s served', 'p50 ms', 'p99 ms', 'p99.9 ms', 'peak RSS MiB'],
      [bare, locus].map((m) => [
        m.name,
        round(m.fixedRate.requestsPerSecond),
        m.fixedRate.p50,
        m.fixedRate.p99,
        m.fixedRate.p999,
        round(m.peakRssMiB),
      ]),
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
