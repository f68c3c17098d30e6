/*
 * Same-run A/B of two builds of Locus (issue #20: "within noise of the build before"). Each round runs every
 * scenario on both builds, the order alternating from round to round (before, after; after, before; …) so that
 * drift of a shared machine falls on both sides alike:
 *
 *   put     PUT /location, 64 connections, unique points, as bench/throughput.ts (req/s)
 *   batch   POST /locations, 1,000 points a request, 8 connections, every point new, as bench/batch.ts (points/s)
 *   import  `locus import --json` of one generated file per format into a fresh SQLite file, through each build's
 *           own dist CLI (the summary's points/s, and the process's wall time)
 *
 * Every run starts its own process on a fresh SQLite file (synchronous=FULL, as shipped) in a temporary folder, and
 * the inputs are generated once, so both builds get byte-identical bodies and files. The table gives each side's
 * median, the ratio of the medians (after / before) and the ratio within each round.
 *
 *   git worktree add /tmp/locus-before 6bf9b1c && (cd /tmp/locus-before && npm ci && npm run build)
 *   npm run build                                   # the after side runs its dist/, not src/
 *   npx tsx bench/ab.ts --before /tmp/locus-before  # --after defaults to this repository
 *
 * Options: --after DIR, --rounds 5, --put-seconds 8, --only put,batch,import, --formats csv,gpx,owntracks-rec,
 * --import-points 200000, --dir DIR (where the SQLite files and inputs go; default the OS temp folder).
 * Run the same build on both sides (--after the --before path) to see the noise floor of the machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { IMPORT_FORMATS, type ImportFormat } from '../src/import/readers/index.js';
import { putLoad } from './lib/load.js';
import { uniqueRows } from './lib/points.js';
import { ROOT, startLocus, type Server } from './lib/processes.js';
import { machine, round, table } from './lib/report.js';
import { TRACE_FILES, TRACE_USER, writeTraceFile } from './lib/trace-files.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: ROOT },
    rounds: { type: 'string', default: '5' },
    'put-seconds': { type: 'string', default: '8' },
    only: { type: 'string', default: 'put,batch,import' },
    formats: { type: 'string', default: 'csv,gpx,owntracks-rec' },
    'import-points': { type: 'string', default: '200000' },
    dir: { type: 'string', default: tmpdir() },
  },
});
if (values.before === undefined) {
  console.error(
    'usage: npx tsx bench/ab.ts --before DIR [--after DIR] [--rounds N] (see the top of bench/ab.ts)',
  );
  process.exit(2);
}

const ROUNDS = Number(values.rounds);
const PUT_SECONDS = Number(values['put-seconds']);
const PUT_WARM_UP_SECONDS = 2;
const PUT_CONNECTIONS = 64;
const BATCH = 1000;
const BATCH_CONNECTIONS = 8;
const BATCH_WARM_UP_REQUESTS = 20;
const IMPORT_POINTS = Number(values['import-points']);
const IMPORT_BATCH_SIZE = 5000;
const SCENARIOS = new Set(values.only.split(','));
for (const name of SCENARIOS) {
  if (!['put', 'batch', 'import'].includes(name)) {
    console.error(`--only: unknown scenario ${JSON.stringify(name)} (put, batch, import)`);
    process.exit(2);
  }
}
const FORMATS = values.formats.split(',').filter(Boolean);

interface Side {
  name: 'before' | 'after';
  root: string;
}
const SIDES: Side[] = [
  { name: 'before', root: path.resolve(values.before) },
  { name: 'after', root: path.resolve(values.after) },
];
const cli = (side: Side) => path.join(side.root, 'dist/src/cli/main.js');

/** The newest modification time of the files under `dir` whose name ends with `suffix`, 0 if none. */
function newest(dir: string, suffix: string): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix))
      latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Which commit a root is at, and whether its tree has changes on top; "?" outside git. */
function describeRoot(root: string): string {
  const git = (...args: string[]) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return '?';
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes' : ''}`;
}

for (const side of SIDES) {
  if (!existsSync(cli(side))) {
    console.error(`${side.name}: ${cli(side)} is missing; run npm ci && npm run build in ${side.root}`);
    process.exit(2);
  }
  if (newest(path.join(side.root, 'src'), '.ts') > newest(path.join(side.root, 'dist/src'), '.js'))
    console.error(`warning: ${side.name}: src/ is newer than dist/ in ${side.root}; run npm run build there`);
}

const dir = await mkdtemp(path.join(values.dir, 'locus-ab-'));
let run = 0;
/** A fresh folder, port and SQLite file for one run. */
async function fresh(): Promise<{ folder: string; port: number; databaseUrl: string }> {
  run++;
  const folder = path.join(dir, `run-${run}`);
  await mkdir(folder);
  return { folder, port: await freePort(), databaseUrl: `sqlite:${path.join(folder, 'locus.db')}` };
}

/** A port nobody listens on now, from the OS (a fixed range would sooner or later hit PostgreSQL's 5432). */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** The same settings for both builds, whatever the caller's environment holds. */
const serverEnv = (databaseUrl: string): NodeJS.ProcessEnv => ({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'info',
  RATE_LIMIT: '',
  DEDUPE_RETENTION: '',
  MQTT_URL: '',
});

async function withServer<T>(side: Side, measure: (server: Server) => Promise<T>): Promise<T> {
  const { folder, port, databaseUrl } = await fresh();
  const server = await startLocus(port, serverEnv(databaseUrl), [], side.root);
  try {
    return await measure(server);
  } finally {
    await server.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

/** One measured number of one run, with anything that makes it suspect (non-2xx answers, errors). */
interface Sample {
  value: number;
  problem?: string;
  /** What every run of the scenario, on either side, must give alike (the points an import stored). */
  same?: string;
}

interface Scenario {
  name: string;
  unit: string;
  /** Whether a larger value is better (rates) or worse (seconds). */
  higherIsBetter: boolean;
  run: (side: Side) => Promise<Sample[]>;
  /** Several rows from one run (the import's rate and wall time): their names, in the order run() returns them. */
  rows?: Array<{ name: string; unit: string; higherIsBetter: boolean }>;
}

const scenarios: Scenario[] = [];

if (SCENARIOS.has('put')) {
  const bodies = uniqueRows(400, 240).map((row) => JSON.stringify(row));
  const warmUp = bodies.slice(0, bodies.length / 4);
  const measured = bodies.slice(bodies.length / 4);
  scenarios.push({
    name: `PUT /location, ${PUT_CONNECTIONS} connections, ${PUT_SECONDS} s (after ${PUT_WARM_UP_SECONDS} s warm-up)`,
    unit: 'req/s',
    higherIsBetter: true,
    run: (side) =>
      withServer(side, async (server) => {
        const load = { url: server.url, connections: PUT_CONNECTIONS };
        await putLoad({ ...load, bodies: warmUp, durationS: PUT_WARM_UP_SECONDS });
        const result = await putLoad({ ...load, bodies: measured, durationS: PUT_SECONDS });
        const problems = [
          result.non2xx ? `${result.non2xx} non-2xx` : '',
          result.errors ? `${result.errors} errors` : '',
          result.total > measured.length ? `${result.total - measured.length} points resent` : '',
        ].filter(Boolean);
        return [{ value: result.requestsPerSecond, problem: problems.join(', ') || undefined }];
      }),
  });
}

if (SCENARIOS.has('batch')) {
  const rows = uniqueRows(500, 240);
  const bodies: string[] = [];
  for (let start = 0; start + BATCH <= rows.length; start += BATCH)
    bodies.push(JSON.stringify(rows.slice(start, start + BATCH)));
  const warmUp = bodies.slice(0, BATCH_WARM_UP_REQUESTS);
  const measured = bodies.slice(BATCH_WARM_UP_REQUESTS);
  const post = async (url: string, list: string[]) => {
    let next = 0;
    return autocannon({
      url: `${url}/locations`,
      method: 'POST',
      connections: BATCH_CONNECTIONS,
      // With `amount`, autocannon notices the end on its next sample tick (one second by default), which made a run
      // of a few seconds last a whole number of seconds.
      sampleInt: 10,
      amount: list.length,
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (request) => ({ ...request, body: list[next++ % list.length] }) }],
    });
  };
  scenarios.push({
    name: `POST /locations, ${BATCH} points a request, ${BATCH_CONNECTIONS} connections, ${measured.length} requests`,
    unit: 'points/s',
    higherIsBetter: true,
    run: (side) =>
      withServer(side, async (server) => {
        await post(server.url, warmUp);
        const result = await post(server.url, measured);
        const problems = [
          result.non2xx ? `${result.non2xx} non-2xx` : '',
          result.errors ? `${result.errors} errors` : '',
        ].filter(Boolean);
        const value = (result.requests.total * BATCH) / result.duration;
        return [{ value, problem: problems.join(', ') || undefined }];
      }),
  });
}

/** Runs a command to its end; resolves with its stdout, or rejects with the end of its stderr. */
function runCli(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')}: exit ${code}\n${stderr}`)),
    );
  });
}

interface ImportSummary {
  outcome: string;
  files: Array<{ status: string; points_per_second: number; stored: number; rows?: number }>;
}

if (SCENARIOS.has('import')) {
  for (const format of FORMATS) {
    if (!(IMPORT_FORMATS as readonly string[]).includes(format))
      throw new Error(`--formats: no writer for ${format} (have ${IMPORT_FORMATS.join(', ')})`);
    const writer = TRACE_FILES[format as ImportFormat];
    const user = writer.users === 1 && format !== 'owntracks-rec' ? TRACE_USER : undefined;
    const file = path.join(dir, 'inputs', format, writer.file);
    const points = await writeTraceFile(file, writer, IMPORT_POINTS);
    readFileSync(file); // into the page cache, so the first run does not pay for the disk
    const megabytes = (statSync(file).size / 1e6).toFixed(0);
    scenarios.push({
      name: `locus import, ${format}, ${points.toLocaleString('en-US')} rows (${megabytes} MB)`,
      unit: '',
      higherIsBetter: true,
      rows: [
        {
          name: `locus import ${format}, ${points.toLocaleString('en-US')} rows`,
          unit: 'points/s',
          higherIsBetter: true,
        },
        { name: `locus import ${format}, wall time of the process`, unit: 's', higherIsBetter: false },
      ],
      run: async (side) => {
        const { folder, databaseUrl } = await fresh();
        try {
          const began = performance.now();
          const args = [
            cli(side),
            'import',
            file,
            '--format',
            format,
            '--database-url',
            databaseUrl,
            '--json',
          ];
          args.push('--batch-size', String(IMPORT_BATCH_SIZE), ...(user ? ['--user', user] : []));
          const out = await runCli(args, side.root);
          const seconds = (performance.now() - began) / 1000;
          const summary = JSON.parse(out) as ImportSummary;
          const first = summary.files[0];
          if (!first || first.status !== 'done') throw new Error(`${side.name} ${format}: ${out}`);
          return [{ value: first.points_per_second, same: `${first.stored} stored` }, { value: seconds }];
        } finally {
          await rm(folder, { recursive: true, force: true });
        }
      },
    });
  }
}

const median = (list: number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** results[scenario][row][side] = one value a round. */
const results = scenarios.map((s) =>
  (s.rows ?? [s]).map(() => ({ before: [] as number[], after: [] as number[] })),
);
const problems: string[] = [];
const outcomes = scenarios.map(() => new Map<string, Set<string>>());
const started = new Date();
const loadAtStart = os.loadavg();
/** The one-minute load average after each run: a run on a busier machine than its pair is less comparable. */
const loads: number[] = [];

try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? SIDES : [...SIDES].reverse();
    for (const [index, scenario] of scenarios.entries()) {
      for (const side of order) {
        const samples = await scenario.run(side);
        samples.forEach((sample, row) => {
          results[index]![row]![side.name].push(sample.value);
          if (sample.problem)
            problems.push(`round ${r + 1}, ${side.name}, ${scenario.name}: ${sample.problem}`);
          if (sample.same !== undefined) {
            const seen = outcomes[index]!;
            seen.set(sample.same, (seen.get(sample.same) ?? new Set()).add(side.name));
          }
        });
        const shown = samples.map((s) => round(s.value * 100) / 100).join(' / ');
        const load = os.loadavg()[0]!;
        loads.push(load);
        console.error(
          `round ${r + 1}/${ROUNDS} ${side.name.padEnd(6)} ${scenario.name}: ${shown} (load ${load.toFixed(1)})`,
        );
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
outcomes.forEach((seen, index) => {
  const described = [...seen].map(([outcome, sides]) => `${outcome} (${[...sides].join(', ')})`);
  if (seen.size > 1) problems.push(`${scenarios[index]!.name}: runs differ: ${described.join('; ')}`);
});

const tableRows: Array<Array<string | number>> = [];
scenarios.forEach((scenario, index) => {
  (scenario.rows ?? [scenario]).forEach((row, rowIndex) => {
    const { before, after } = results[index]![rowIndex]!;
    const perRound = after.map((value, r) => (value / before[r]!).toFixed(2));
    const show = (value: number) =>
      row.unit === 's' ? value.toFixed(2) : round(value).toLocaleString('en-US');
    tableRows.push([
      row.name,
      row.unit,
      show(median(before)),
      show(median(after)),
      `**${(median(after) / median(before)).toFixed(2)}**`,
      perRound.join(', '),
      row.higherIsBetter ? 'higher' : 'lower',
    ]);
  });
});

console.log(
  `### Same-run A/B: before ${describeRoot(SIDES[0]!.root)} against after ${describeRoot(SIDES[1]!.root)}\n`,
);
console.log(`Command: \`npx tsx bench/ab.ts ${process.argv.slice(2).join(' ')}\`.`);
console.log(`Before: \`${SIDES[0]!.root}\`; after: \`${SIDES[1]!.root}\`; both their compiled \`dist/\`.`);
console.log(
  `Date: ${started.toISOString()} to ${new Date().toISOString()}. Machine: ${machine()} ` +
    `(at start: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; one-minute load after each run ` +
    `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}).`,
);
console.log(
  `${ROUNDS} rounds, order alternating (before, after; after, before; …); each run a fresh process and a fresh ` +
    'SQLite file (synchronous=FULL). Ratio: median after / median before; per round: after / before of that round.\n',
);
console.log(
  table(
    ['Scenario', 'Unit', 'Before, median', 'After, median', 'After / before', 'Per round', 'Better'],
    tableRows,
  ),
);
if (problems.length) console.log(`\nSuspect runs:\n\n${problems.map((p) => `- ${p}`).join('\n')}`);
