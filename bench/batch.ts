/*
 * Scenario 3 of BENCHMARKS.md: batch ingest, POST /locations with 1,000 points a request, against the bare
 * node:http baseline parsing the same bodies in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { uniqueRows } from './lib/points.js';
import { startBare, startLocus, type Server } from './lib/processes.js';
import { machine, ratio, round, table } from './lib/report.js';

const BATCH = 1000;
const CONNECTIONS = 8;
const rows = uniqueRows(500, 480);
const bodies: string[] = [];
for (let start = 0; start + BATCH <= rows.length; start += BATCH) {
  bodies.push(JSON.stringify(rows.slice(start, start + BATCH)));
}

interface Measured {
  pointsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  peakRssMiB: number;
}

/** Sends every body once (each point is new to the database), as fast as the server answers. */
async function measure(server: Server): Promise<Measured> {
  try {
    let next = 0;
    const result = await autocannon({
      url: `${server.url}/locations`,
      method: 'POST',
      connections: CONNECTIONS,
      // With `amount`, autocannon notices the end on its next sample tick (one second by default), which made a run
      // of a few seconds last a whole number of seconds.
      sampleInt: 10,
      amount: bodies.length,
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
    });
    const seconds = result.duration;
    return {
      pointsPerSecond: (result.requests.total * BATCH) / seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      peakRssMiB: server.peakRssMiB(),
    };
  } finally {
    await server.stop();
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
try {
  const bare = await measure(await startBare(5120));
  const locus = await measure(
    await startLocus(5121, { DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}` }),
  );
  console.log(
    `### Batch ingest, POST /locations, ${BATCH} points a request, ${CONNECTIONS} connections, ${bodies.length} requests\n`,
  );
  console.log(`Machine: ${machine()}.\n`);
  console.log(
    table(
      ['server', 'points/s', 'ratio to baseline', 'p50 ms', 'p99 ms', 'non-2xx', 'peak RSS MiB'],
      [
        ['bare node:http (baseline, parse only)', bare],
        ['Locus, SQLite file, synchronous=FULL', locus],
      ].map(([name, m]) => {
        const measured = m as Measured;
        return [
          name as string,
          round(measured.pointsPerSecond),
          ratio(measured.pointsPerSecond, bare.pointsPerSecond),
          measured.p50,
          measured.p99,
          measured.non2xx,
          round(measured.peakRssMiB),
        ];
      }),
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
