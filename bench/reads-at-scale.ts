/*
 * Issue #15, "How it is measured": Locus on a large database, every figure a ratio within one run.
 *
 *   npm run build && npx tsx bench/reads-at-scale.ts [--size small|full] [--store sqlite|postgres|both]
 *
 * Builds a large database (bench/lib/big-database.ts: full is 10,000,000 minutes over 2,000 users, 'big' holding
 * 1,000,000 consecutive ones and 'little' 1,000; small is 200,000 over 200 users, 'big' 100,000) and one of
 * 10,000 minutes over as many users, then runs the compiled server on them (`node dist/src/cli/main.js serve`,
 * AUTH=on, LOG_LEVEL=info, tokens made in each database) and measures:
 *
 *   put        PUT /location (admin token, kept-alive connections, every point new, for new users) while one
 *              client reads big's full CSV export in a loop and N /events streams are open, against PUT alone on
 *              the same server (goal >= 0.8); GET /healthz p99 meanwhile, probed 20 times a second (goal <= 50 ms)
 *   users      GET /users with big's user token, and GET /users?limit=1000 with the admin token, on the large
 *              database against the 10,000-minute one, requests alternating between the two servers (goal <= 1.5x)
 *   export     GET /users/big/locations.csv alone: rows/s, and the server's RSS growth while it runs (goal <= 64 MiB)
 *   dashboard  headless Chromium opening the dashboard on 'big' until its map and charts are drawn, against
 *              'little' (goal <= 2x); SQLite only unless --only names it
 *
 * PostgreSQL (--store postgres or both) runs put, users and export on databases made on BENCH_POSTGRES_URL,
 * TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres (named locus_bench_PID_*, dropped at the end).
 *
 * Options: --only put,users,export,dashboard; --seconds N (each PUT run; small 5, full 15); --rounds N (PUT and
 * dashboard runs, alternating the order; small 1, full 2); --connections N (PUT, 16); --streams N (200);
 * --streams-per-token N (10, the per-token cap); --load export,streams (what loads the server in the loaded PUT
 * runs: one of them alone tells which costs what); --users, --minutes, --big-minutes (override the size);
 * --root DIR (the Locus checkout whose dist/ is run and builds the schema: another build, e.g. one in /tmp);
 * --dir DIR (where the SQLite files go). Environment: BENCH_SIZE, BENCH_STORE set the defaults of --size, --store
 * (for `tsx bench/run.ts reads-at-scale`). The Markdown for BENCHMARKS.md goes to stdout, progress to stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BIG_USER,
  LITTLE_USER,
  buildPostgresDatabase,
  buildSqliteDatabase,
  dropPostgresDatabase,
  postgresProblem,
  postgresServerUrl,
  type BuiltDatabase,
  type DatabaseSpec,
} from './lib/big-database.js';
import { ROOT, startLocus, type Server } from './lib/processes.js';
import {
  exportLoop,
  freePort,
  measureCpu,
  median,
  openStreams,
  probeHealth,
  putBodies,
  putLoad,
  request,
  settle,
  startDashboard,
  watchRss,
  type DashboardLoad,
  type LatencySummary,
  type PutResult,
  type StreamStats,
} from './lib/read-load.js';
import { machine, table } from './lib/report.js';

const SIZES = {
  small: { users: 200, minutes: 200_000, bigMinutes: 100_000, seconds: 5, rounds: 1 },
  full: { users: 2_000, minutes: 10_000_000, bigMinutes: 1_000_000, seconds: 15, rounds: 2 },
} as const;
const LITTLE_MINUTES = 1_000;
const BASE_MINUTES = 10_000;
const SCENARIOS = ['put', 'users', 'export', 'dashboard'] as const;
type Scenario = (typeof SCENARIOS)[number];
type StoreKind = 'sqlite' | 'postgres';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: process.env.BENCH_SIZE || 'small' },
    store: { type: 'string', default: process.env.BENCH_STORE || 'both' },
    only: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string', default: '16' },
    streams: { type: 'string', default: '200' },
    'streams-per-token': { type: 'string', default: '10' },
    load: { type: 'string', default: 'export,streams' },
    users: { type: 'string' },
    minutes: { type: 'string' },
    'big-minutes': { type: 'string' },
    root: { type: 'string', default: ROOT },
    dir: { type: 'string', default: tmpdir() },
  },
});

function fail(message: string): never {
  console.error(`reads-at-scale: ${message} (see the top of bench/reads-at-scale.ts)`);
  process.exit(2);
}

if (values.size !== 'small' && values.size !== 'full') fail(`--size: small or full, not ${values.size}`);
const size = SIZES[values.size];
const STORES: StoreKind[] =
  values.store === 'both'
    ? ['sqlite', 'postgres']
    : values.store === 'sqlite' || values.store === 'postgres'
      ? [values.store]
      : fail(`--store: sqlite, postgres or both, not ${values.store}`);
const only = values.only?.split(',').filter(Boolean);
for (const name of only ?? [])
  if (!(SCENARIOS as readonly string[]).includes(name)) fail(`--only: unknown scenario ${name}`);
/** What runs on each store: everything on SQLite; the dashboard on PostgreSQL only when asked for by name. */
const runs = (store: StoreKind, scenario: Scenario) =>
  only ? only.includes(scenario) : store === 'sqlite' || scenario !== 'dashboard';
const int = (text: string | undefined, fallback: number) => {
  const value = text === undefined ? fallback : Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : fail(`not a positive whole number: ${text}`);
};
const SPEC: DatabaseSpec = {
  users: int(values.users, size.users),
  minutes: int(values.minutes, size.minutes),
  bigMinutes: int(values['big-minutes'], size.bigMinutes),
  littleMinutes: LITTLE_MINUTES,
};
const BASE_SPEC: DatabaseSpec = {
  users: SPEC.users,
  minutes: BASE_MINUTES,
  bigMinutes: LITTLE_MINUTES,
  littleMinutes: LITTLE_MINUTES,
};
const PUT_SECONDS = int(values.seconds, size.seconds);
const ROUNDS = int(values.rounds, size.rounds);
const CONNECTIONS = int(values.connections, 16);
const STREAMS = int(values.streams, 200);
const PER_TOKEN = int(values['streams-per-token'], 10);
const PUT_USERS = 100;
const LOAD = new Set(values.load.split(',').filter(Boolean));
for (const name of LOAD)
  if (name !== 'export' && name !== 'streams') fail(`--load: export, streams, not ${name}`);
const ROOT_DIR = path.resolve(values.root);
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (file): file is string => Boolean(file && existsSync(file)),
);

const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(1) : count(n));
const mib = (bytes: number) => `${count(bytes / 2 ** 20)} MiB`;

/** The newest modification time of the files under `dir` whose name ends with `suffix`, 0 if none. */
function newest(dir: string, suffix: string): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile() && entry.name.endsWith(suffix))
      latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  return latest;
}

function describeRoot(root: string): string {
  const git = (...args: string[]) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return root;
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes' : ''}`;
}

if (!existsSync(path.join(ROOT_DIR, 'dist/src/cli/main.js')))
  fail(`no build in ${ROOT_DIR}: run npm run build`);
if (newest(path.join(ROOT_DIR, 'src'), '.ts') > newest(path.join(ROOT_DIR, 'dist/src'), '.js'))
  log(`warning: src/ is newer than dist/ in ${ROOT_DIR}; the server runs dist/ (npm run build)`);

const alsoPostgres = (db: BuiltDatabase) => (db.url.startsWith('postgres') ? 'PostgreSQL ' : '');

/** A row of the results table. */
interface Row {
  id: string;
  scenario: string;
  baseline: string;
  measured: string;
  ratio: string;
  goal: string;
  met: string;
  limits: string;
}

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
/** Stops the servers and removes the databases, once however often it is called; later steps first. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.splice(0).reverse())
      await step().catch((error: unknown) => log(String(error)));
  })();
  return cleaning;
}
// Ctrl-C reaches this process twice (from the terminal, and relayed by tsx): clean up once, ignore the rest.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** The settings of every server, whatever the caller's environment holds. */
const serverEnv = (databaseUrl: string): NodeJS.ProcessEnv => ({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'info',
  AUTH: 'on',
  RATE_LIMIT: '',
  DEDUPE_RETENTION: '',
  MQTT_URL: '',
  CORS_ORIGINS: '',
});

async function serve(db: BuiltDatabase): Promise<Server> {
  const server = await startLocus(await freePort(), serverEnv(db.url), [], ROOT_DIR);
  cleanups.push(() => server.stop());
  return server;
}

async function build(
  store: StoreKind,
  dir: string,
  name: string,
  spec: DatabaseSpec,
): Promise<BuiltDatabase> {
  log(`${store}: building ${name}: ${count(spec.minutes)} minutes over ${count(spec.users)} users`);
  const options = { root: ROOT_DIR, streamTokens: Math.ceil(STREAMS / PER_TOKEN), log };
  const database = `locus_bench_${process.pid}_${name}`;
  // Before the build, so that an interrupted build leaves no database behind.
  if (store === 'postgres') cleanups.push(() => dropPostgresDatabase(postgresServerUrl(), database));
  const db =
    store === 'sqlite'
      ? await buildSqliteDatabase(path.join(dir, `${name}.db`), spec, options)
      : await buildPostgresDatabase(postgresServerUrl(), database, spec, options);
  if (store === 'sqlite') cleanups.push(db.drop);
  log(
    `${store}: ${name} built in ${db.seconds.all.toFixed(1)} s (rows ${db.seconds.rows.toFixed(1)} s, ` +
      `user_totals ${db.userTotals ? `${db.seconds.totals.toFixed(1)} s` : 'not in this schema'}), ${mib(db.bytes)}`,
  );
  return db;
}

/** GET /users both ways, requests alternating between the two servers; the medians and the ratio. */
async function usersScenario(
  base: { server: Server; db: BuiltDatabase },
  big: { server: Server; db: BuiltDatabase },
  problems: string[],
): Promise<Row[]> {
  const kinds = [
    {
      id: '2a',
      name: "GET /users, a user token ('big')",
      path: '/users',
      token: (db: BuiltDatabase) => db.tokens.bigUser,
    },
    {
      id: '2b',
      name: 'GET /users?limit=1000, admin token',
      path: '/users?limit=1000',
      token: (db: BuiltDatabase) => db.tokens.admin,
    },
  ];
  const rows: Row[] = [];
  for (const kind of kinds) {
    const sides = [base, big];
    const times: number[][] = [[], []];
    const bytes = [0, 0];
    for (const { server, db } of sides) {
      // A server just started may shed its first requests (event-loop delay): warm up until it answers.
      await settle(server.url);
      for (let i = 0; i < 50; i++) {
        const answer = await request(`${server.url}${kind.path}`, { token: kind.token(db), agent: false });
        if (answer.status === 200 && i >= 2) break;
        await sleep(100);
      }
    }
    const began = performance.now();
    for (let i = 0; i < 30 && (i < 4 || performance.now() - began < 60_000); i++) {
      for (const [side, { server, db }] of sides.entries()) {
        const answer = await request(`${server.url}${kind.path}`, { token: kind.token(db), agent: false });
        if (answer.status !== 200) problems.push(`${kind.name}: ${answer.status} ${answer.head}`);
        else {
          bytes[side] = answer.bytes;
          times[side]!.push(answer.ms);
        }
      }
    }
    const [baseMs, bigMs] = times.map((t) => median(t)) as [number, number];
    const ratio = bigMs / baseMs;
    rows.push({
      id: kind.id,
      scenario: `${kind.name}, median of ${times[0]!.length}`,
      baseline: `${ms(baseMs)} ms (${count(BASE_SPEC.minutes)} minutes; ${count(bytes[0]!)} B)`,
      measured: `${ms(bigMs)} ms (${count(SPEC.minutes)} minutes; ${count(bytes[1]!)} B)`,
      ratio: `**${ratio.toFixed(2)}×**`,
      goal: '≤ 1.5×',
      met: ratio <= 1.5 ? 'yes' : 'no',
      limits:
        'one request at a time, alternating between the two servers; same users (so the same answer size) on both; ' +
        'a few ms, so timer and scheduling noise count',
    });
  }
  return rows;
}

/** Big's full CSV export on an idle server, twice: rows/s, RSS growth, and /healthz meanwhile. */
async function exportScenario(server: Server, db: BuiltDatabase, problems: string[]): Promise<Row[]> {
  const pid = server.child.pid!;
  // One-time costs (a reader thread started, code compiled, buffers first allocated) are not the export's: a
  // short export first.
  await request(`${server.url}/users/${LITTLE_USER}/locations.csv`, { token: db.tokens.admin, agent: false });
  const results: Array<{
    rowsPerSecond: number;
    growthMiB: number;
    health: LatencySummary;
    seconds: number;
  }> = [];
  for (let run = 0; run < 2; run++) {
    await settle(server.url);
    const stopRss = watchRss(pid);
    const stopProbe = probeHealth(server.url);
    const answer = await request(`${server.url}/users/${BIG_USER}/locations.csv`, {
      token: db.tokens.admin,
      agent: false,
      timeoutMs: 3_600_000,
    });
    const rss = stopRss();
    const health = await stopProbe();
    const rows = answer.lines - 1;
    if (answer.status !== 200 || rows !== db.spec.bigMinutes)
      problems.push(
        `export: ${answer.status}, ${count(rows)} rows of ${count(db.spec.bigMinutes)} ${answer.head.slice(0, 200)}`,
      );
    results.push({
      rowsPerSecond: rows / (answer.ms / 1000),
      growthMiB: rss.peakMiB - rss.startMiB,
      health,
      seconds: answer.ms / 1000,
    });
    log(
      `export run ${run + 1}: ${count(rows / (answer.ms / 1000))} rows/s, ` +
        `RSS ${rss.startMiB.toFixed(0)} MiB +${(rss.peakMiB - rss.startMiB).toFixed(1)} MiB`,
    );
  }
  const best = results.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
  const growth = Math.max(...results.map((r) => r.growthMiB));
  const each = (show: (r: (typeof results)[number]) => string) => results.map(show).join(' / ');
  return [
    {
      id: '3',
      scenario: `Full CSV export of '${BIG_USER}' (${count(db.spec.bigMinutes)} minutes), alone, two in a row`,
      baseline: '',
      measured: `${each((r) => count(r.rowsPerSecond))} rows/s (best ${best.seconds.toFixed(1)} s)`,
      ratio: '',
      goal: '',
      met: '',
      limits: 'the reader (bench process) shares the 2 cores; page cache warm (the database was just built)',
    },
    {
      id: '3b',
      scenario: 'Server RSS growth during each export (VmRSS every 20 ms, peak − start)',
      baseline: '',
      measured: `${each((r) => r.growthMiB.toFixed(1))} MiB`,
      ratio: '',
      goal: '≤ 64 MiB',
      met: growth <= 64 ? 'yes' : 'no',
      limits:
        'RSS of the Locus process only (not PostgreSQL’s), after a 1,000-row export warmed it up; includes ' +
        'garbage not yet collected',
    },
    {
      id: '3c',
      scenario: 'GET /healthz p99 during each export (20 probes/s on schedule)',
      baseline: '',
      measured: `${each((r) => ms(r.health.p99))} ms (max ${ms(Math.max(...results.map((r) => r.health.max)))})`,
      ratio: '',
      goal: '',
      met: '',
      limits: 'probes on schedule, timed from when due: a stall delays every probe in it',
    },
  ];
}

interface PutRun {
  put: PutResult;
  health: LatencySummary;
  cpu: { serverPercent: number; benchPercent: number };
  exports?: { completed: number; rowsPerSecond: number };
  streams?: StreamStats;
}

/** PUT alone and PUT under the export loop and the streams, alternating; the ratio of the medians. */
async function putScenario(server: Server, db: BuiltDatabase, problems: string[]): Promise<Row[]> {
  let phase = 0;
  const put = (durationMs: number) =>
    putLoad({
      url: server.url,
      token: db.tokens.admin,
      connections: CONNECTIONS,
      durationMs,
      body: putBodies(`w${++phase}-`, PUT_USERS),
    });
  await put(2000); // warm-up: JIT, the time zone lookups of New York
  const alone: PutRun[] = [];
  const loaded: PutRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? ['alone', 'loaded'] : ['loaded', 'alone']) {
      const settled = await settle(server.url);
      if (settled > 1000)
        log(`waited ${(settled / 1000).toFixed(1)} s for the server to answer /healthz quickly`);
      if (kind === 'alone') {
        const stopCpu = measureCpu(server.child.pid!);
        const stopProbe = probeHealth(server.url);
        const result = await put(PUT_SECONDS * 1000);
        const cpu = stopCpu();
        alone.push({ put: result, health: await stopProbe(), cpu });
      } else {
        const crowd = LOAD.has('streams')
          ? openStreams(server.url, db.tokens.streams, STREAMS, PER_TOKEN)
          : undefined;
        await crowd?.settled(60_000);
        const loop = LOAD.has('export')
          ? exportLoop(server.url, `/users/${BIG_USER}/locations.csv`, db.tokens.admin)
          : undefined;
        if (loop) await Promise.race([loop.started, sleep(60_000)]);
        const began = performance.now();
        const stopCpu = measureCpu(server.child.pid!);
        const stopProbe = probeHealth(server.url);
        const result = await put(PUT_SECONDS * 1000);
        const cpu = stopCpu();
        const health = await stopProbe();
        const streams = crowd?.stats();
        const exported = await loop?.stop();
        const seconds = (performance.now() - began) / 1000;
        crowd?.close();
        loaded.push({
          put: result,
          health,
          cpu,
          exports: exported && { completed: exported.completed, rowsPerSecond: exported.rows / seconds },
          streams,
        });
        for (const [status, n] of Object.entries(exported?.failed ?? {}))
          problems.push(
            `export loop during PUT: ${n} answered ${status === '0' ? 'a network error' : status}`,
          );
      }
      const last = (kind === 'alone' ? alone : loaded).at(-1)!;
      log(
        `PUT ${kind}: ${count(last.put.requestsPerSecond)} req/s, /healthz p99 ${ms(last.health.p99)} ms` +
          `, server CPU ${Math.round(last.cpu.serverPercent)} %` +
          (last.streams ? `, ${last.streams.open} streams open` : '') +
          (last.exports ? `, ${last.exports.completed} export(s) done` : ''),
      );
      for (const [status, n] of Object.entries(last.put.statuses))
        problems.push(`PUT ${kind}: ${n} answered ${status}`);
      if (last.put.errors) problems.push(`PUT ${kind}: ${last.put.errors} network errors`);
      if (last.health.failed) problems.push(`/healthz during PUT ${kind}: ${last.health.failed} failed`);
    }
  }
  const aloneRps = median(alone.map((r) => r.put.requestsPerSecond));
  const loadedRps = median(loaded.map((r) => r.put.requestsPerSecond));
  const ratio = loadedRps / aloneRps;
  const worstP99 = Math.max(...loaded.map((r) => r.health.p99));
  const streams = loaded.flatMap((r) => (r.streams ? [r.streams] : []));
  const refused = streams.flatMap((s) => Object.entries(s.refused).map(([status, n]) => `${n}× ${status}`));
  const streamNote = streams.length
    ? `${streams.map((s) => s.open).join(', ')} of ${STREAMS} streams open at the end` +
      (refused.length ? `, refused ${refused.join(', ')}` : '') +
      `, opens p50 ${ms(median(streams.flatMap((s) => s.openMs)))} ms`
    : 'no streams';
  const exportNote = loaded.some((r) => r.exports)
    ? loaded
        .map((r) => `${r.exports!.completed} export(s) done (${count(r.exports!.rowsPerSecond)} rows/s)`)
        .join(', ')
    : 'no export';
  const loadNote = [
    LOAD.has('export') ? "big's CSV export in a loop" : '',
    LOAD.has('streams') ? `${STREAMS} /events streams (${PER_TOKEN} a token) open` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const cpuOf = (runs: PutRun[], key: 'serverPercent' | 'benchPercent') =>
    `${Math.round(median(runs.map((r) => r.cpu[key])))} %`;
  const cpuNote =
    `CPU, % of one core, alone / loaded: server ${cpuOf(alone, 'serverPercent')} / ` +
    `${cpuOf(loaded, 'serverPercent')}, bench process ${cpuOf(alone, 'benchPercent')} / ${cpuOf(loaded, 'benchPercent')}`;
  return [
    {
      id: '1',
      scenario:
        `PUT /location, ${CONNECTIONS} connections, ${PUT_SECONDS} s, new points of new users, admin token; ` +
        `${loadNote || 'nothing else'}; median of ${ROUNDS}`,
      baseline: `${count(aloneRps)} req/s (PUT alone)`,
      measured: `${count(loadedRps)} req/s`,
      ratio: `**${ratio.toFixed(2)}**`,
      goal: '≥ 0.8',
      met: ratio >= 0.8 ? 'yes' : 'no',
      limits:
        `2 cores shared by the server, ${alsoPostgres(db)}and the bench process (the PUT client, and under load ` +
        `the readers of the export and the streams) (${cpuNote}); meanwhile: ${exportNote}; ${streamNote}`,
    },
    {
      id: '1b',
      scenario: 'GET /healthz p99 during 1 (20 probes/s on schedule), worst of the loaded runs',
      baseline: `${ms(Math.max(...alone.map((r) => r.health.p99)))} ms (PUT alone)`,
      measured: `${ms(worstP99)} ms (max ${ms(Math.max(...loaded.map((r) => r.health.max)))})`,
      ratio: '',
      goal: '≤ 50 ms',
      met: worstP99 <= 50 ? 'yes' : 'no',
      limits: 'timed from when each probe was due, so a stall delays every probe in it; own connections',
    },
  ];
}

/** The dashboard on 'big' and on 'little', alternating; the ratio of the medians. */
async function dashboardScenario(server: Server, db: BuiltDatabase, problems: string[]): Promise<Row[]> {
  if (!CHROMIUM) {
    problems.push('dashboard: skipped, no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
    return [];
  }
  const timeoutMs = Math.max(120_000, db.spec.bigMinutes / 2);
  const dashboard = await startDashboard(CHROMIUM);
  const loads: Record<string, DashboardLoad[]> = { [BIG_USER]: [], [LITTLE_USER]: [] };
  try {
    await dashboard.open(server.url, db.tokens.admin, LITTLE_USER, timeoutMs); // warm-up: assets cached
    for (let round = 0; round < Math.max(2, ROUNDS); round++) {
      for (const user of round % 2 === 0 ? [BIG_USER, LITTLE_USER] : [LITTLE_USER, BIG_USER]) {
        await settle(server.url);
        const load = await dashboard.open(server.url, db.tokens.admin, user, timeoutMs);
        loads[user]!.push(load);
        log(
          `dashboard ${user}: ${ms(load.ms)} ms, ${count(load.minutes)} minutes, charts ${load.charts.join('/')}`,
        );
        if (load.timedOut) problems.push(`dashboard ${user}: not drawn within ${timeoutMs / 1000} s`);
        if (load.error) problems.push(`dashboard ${user}: ${load.error}`);
      }
    }
  } finally {
    await dashboard.close();
  }
  const big = loads[BIG_USER]!;
  const little = loads[LITTLE_USER]!;
  const ratio = median(big.map((l) => l.ms)) / median(little.map((l) => l.ms));
  const shown = (l: DashboardLoad[]) => `${count(l[0]!.minutes)} minutes, ${count(l[0]!.markers)} markers`;
  return [
    {
      id: '4',
      scenario: `Dashboard in headless Chromium, navigation until map and charts drawn, median of ${big.length}`,
      baseline: `${ms(median(little.map((l) => l.ms)))} ms ('${LITTLE_USER}', ${count(db.spec.littleMinutes)} minutes; ${shown(little)})`,
      measured: `${ms(median(big.map((l) => l.ms)))} ms ('${BIG_USER}', ${count(db.spec.bigMinutes)} minutes; ${shown(big)})`,
      ratio: `**${ratio.toFixed(2)}×**`,
      goal: '≤ 2×',
      met: ratio <= 2 ? 'yes' : 'no',
      limits:
        'Chromium without a GPU on the same 2 cores as the server; "drawn" is window.__locus (user selected, a ' +
        'render done, nothing loading), polled each animation frame; page assets cached',
    },
  ];
}

/** The problems as a list, each once, with how many times it happened. */
function grouped(problems: string[]): string {
  const times = new Map<string, number>();
  for (const problem of problems) times.set(problem, (times.get(problem) ?? 0) + 1);
  return [...times].map(([problem, n]) => `- ${n > 1 ? `${n}× ` : ''}${problem}`).join('\n');
}

async function runStore(kind: StoreKind, dir: string): Promise<string> {
  const title = kind === 'sqlite' ? 'SQLite file' : 'PostgreSQL';
  if (kind === 'postgres') {
    const problem = await postgresProblem(postgresServerUrl());
    if (problem) return `### Reads at scale, ${title}\n\nSkipped: ${problem}.\n`;
  }
  const problems: string[] = [];
  const rows: Row[] = [];
  const began = new Date();
  const big = await build(kind, dir, 'big', SPEC);
  let builtNote = '';
  try {
    if (runs(kind, 'users')) {
      const base = await build(kind, dir, 'base', BASE_SPEC);
      try {
        const [baseServer, bigServer] = await Promise.all([serve(base), serve(big)]);
        try {
          log(`${kind}: GET /users`);
          rows.push(
            ...(await usersScenario(
              { server: baseServer, db: base },
              { server: bigServer, db: big },
              problems,
            )),
          );
        } finally {
          await Promise.all([baseServer.stop(), bigServer.stop()]);
        }
      } finally {
        await base.drop();
      }
    }
    builtNote = `built in ${big.seconds.all.toFixed(0)} s (${mib(big.bytes)}${
      big.userTotals
        ? `; user_totals filled in ${big.seconds.totals.toFixed(1)} s`
        : '; no user_totals in this schema'
    })`;
    const server = await serve(big);
    try {
      if (runs(kind, 'export')) {
        log(`${kind}: export`);
        rows.push(...(await exportScenario(server, big, problems)));
      }
      if (runs(kind, 'put')) {
        log(`${kind}: PUT alone and under load`);
        rows.push(...(await putScenario(server, big, problems)));
      }
      if (runs(kind, 'dashboard')) {
        log(`${kind}: dashboard`);
        rows.push(...(await dashboardScenario(server, big, problems)));
      }
    } finally {
      await server.stop();
    }
  } finally {
    await big.drop();
  }
  rows.sort((a, b) => a.id.localeCompare(b.id));
  return [
    `### Reads at scale, ${title}: ${count(SPEC.minutes)} minutes over ${count(SPEC.users)} users, ` +
      `'${BIG_USER}' ${count(SPEC.bigMinutes)}\n`,
    `\`npx tsx bench/reads-at-scale.ts ${process.argv.slice(2).join(' ')}\` (size ${values.size}), build ` +
      `${describeRoot(ROOT_DIR)}, ${began.toISOString()} to ${new Date().toISOString()}. Machine: ${machine()}. ` +
      `The large database ${builtNote}; the baseline of 2 has ${count(BASE_SPEC.minutes)} minutes over the same ` +
      `${count(BASE_SPEC.users)} users. Servers: the compiled build, AUTH=on, LOG_LEVEL=info, stdout discarded.\n`,
    table(
      ['#', 'Scenario', 'Baseline', 'Measured', 'Ratio', 'Goal', 'Met?', 'What limits it'],
      rows.map((r) => [r.id, r.scenario, r.baseline, r.measured, r.ratio, r.goal, r.met, r.limits]),
    ),
    problems.length ? `\nSuspect:\n\n${grouped(problems)}` : '',
  ].join('\n');
}

const dir = await mkdtemp(path.join(values.dir, 'locus-reads-'));
cleanups.push(() => rm(dir, { recursive: true, force: true }));
const loadAtStart = os.loadavg()[0]!;
try {
  const sections: string[] = [];
  for (const kind of STORES) sections.push(await runStore(kind, dir));
  console.log(`Load average at start ${loadAtStart.toFixed(2)}.\n\n${sections.join('\n\n')}`);
} catch (error) {
  // Interrupted: what failed was a request to a server the clean-up stopped.
  if (!interrupted) throw error;
} finally {
  await cleanUp();
}
