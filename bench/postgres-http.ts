/*
 * PUT /location throughput with PostgreSQL behind Locus, against SQLite in the same run: one instance on a SQLite
 * file, one instance on PostgreSQL, and two instances on the same PostgreSQL database sharing the load (each gets
 * half the connections and its own half of the points, as behind a load balancer). Every request is a new point.
 * Needs `npm run build` first (Locus runs as `npm start` does). Everything shares one machine: the client, the
 * instances and the database compete for the same cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, findTestServer } from '../test/store/postgres-database.js';
import { putLoad, type LoadResult } from './lib/load.js';
import { uniqueRows } from './lib/points.js';
import { startLocus, type Server } from './lib/processes.js';
import { machine, ratio, round, table } from './lib/report.js';

const CONNECTIONS = 64;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const PORTS = [5461, 5462, 5463, 5464];

const bodies = uniqueRows(400, 240).map((row) => JSON.stringify(row));
// Each run takes its own slice of the points, split again between instances, so no point is sent twice.
const slice = (run: number, part: number, parts: number) => {
  const size = bodies.length / 3 / parts;
  const start = Math.floor((run * bodies.length) / 3 + part * size);
  return bodies.slice(start, Math.floor(start + size));
};

interface Measured {
  name: string;
  requestsPerSecond: number;
  p99: number;
  failed: number;
}

async function load(servers: Server[], run: number): Promise<Measured> {
  const results: LoadResult[] = await Promise.all(
    servers.map((server, part) =>
      putLoad({
        url: server.url,
        bodies: slice(run, part, servers.length),
        connections: CONNECTIONS / servers.length,
        durationS: DURATION_S,
      }),
    ),
  );
  return {
    name: '',
    requestsPerSecond: results.reduce((sum, r) => sum + r.requestsPerSecond, 0),
    p99: Math.max(...results.map((r) => r.p99)),
    failed: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

async function measure(name: string, run: number, start: () => Promise<Server[]>): Promise<Measured> {
  const servers = await start();
  try {
    await Promise.all(
      servers.map((server, part) =>
        putLoad({
          url: server.url,
          bodies: slice(run, part, servers.length).slice(0, 2000),
          connections: 8,
          durationS: 2,
        }),
      ),
    ); // warm-up, on points the measured load never reaches first
    return { ...(await load(servers, run)), name };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

const server = await findTestServer();
if (server.skip) {
  console.log(`### PUT /location on PostgreSQL\n\nSkipped: ${server.skip}.`);
  process.exit(0);
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
const db = await createTestDatabase(server.url);
const env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
try {
  const sqlite = await measure('one instance, SQLite file', 0, async () => [
    await startLocus(PORTS[0] as number, {
      DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}`,
      LOG_LEVEL: 'warn',
    }),
  ]);
  const one = await measure('one instance, PostgreSQL', 1, async () => [
    await startLocus(PORTS[1] as number, env),
  ]);
  const two = await measure('two instances, one PostgreSQL database', 2, () =>
    Promise.all([startLocus(PORTS[2] as number, env), startLocus(PORTS[3] as number, env)]),
  );

  console.log(
    `### PUT /location on PostgreSQL: ${CONNECTIONS} connections, ${DURATION_S} s, every point new\n`,
  );
  console.log(`Machine: ${machine()}. PostgreSQL 15 on the same machine.\n`);
  console.log(
    table(
      ['Locus', 'requests/s', '× SQLite', 'p99 ms', 'failed'],
      [sqlite, one, two].map((m) => [
        m.name,
        round(m.requestsPerSecond),
        ratio(m.requestsPerSecond, sqlite.requestsPerSecond),
        m.p99,
        m.failed,
      ]),
    ),
  );
} finally {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
