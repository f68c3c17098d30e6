/*
 * Where PUT /location's CPU goes: Locus (the compiled build, SQLite file) under 64 connections of unique points
 * while `node --cpu-prof` samples it, then the main thread's busy time split by what it was doing. A sample counts
 * for the nearest part of Locus or of a library on its stack (logging, metrics, the pipeline…), looking no further
 * up than Fastify's own frames, so that a hook does not take the blame for the rest of the request that runs
 * inside its callback. What is left is Fastify and Node.js themselves: HTTP parsing, routing, hooks, the reply.
 *
 *   npm run build && node --import tsx bench/profile-put.ts [seconds, 20]     # BENCHMARKS.md, "What the profile…"
 *
 * The .cpuprofile files stay in the printed directory, for a flame graph (e.g. speedscope, or Chrome's DevTools).
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { putLoad } from './lib/load.js';
import { uniqueRows } from './lib/points.js';
import { startLocus } from './lib/processes.js';
import { machine, table } from './lib/report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a frame belongs to, by its script or its function (Ajv's compiled validators have no script); first match wins. */
const PARTS: Array<[RegExp, string]> = [
  [/sonic-boom|\/pino\/|writeString/, 'logging (pino)'],
  [/prom-client|\/metrics\//, 'metrics'],
  [/helmet/, 'security headers'],
  [/under-pressure|\/http\/overload/, 'load shedding'],
  [/\/http\/auth|\/auth\//, 'authentication'],
  [/strict-body|secure-json-parse/, 'body decoding and JSON'],
  [/\/pipeline\/|geo-tz|temporal|\/ajv\/|\/schemas\/|^validate\d+$/, 'validation, time zone and UTC'],
  [/\/store\/|better-sqlite3/, 'group commit and hand-off to the writer'],
  [/\/http\/routes\//, 'route handler and answer'],
];
const FASTIFY = /node_modules\/fastify\//;

function partOf(profile: CpuProfile, nodeId: number, parents: Map<number, number>): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (let id: number | undefined = nodeId; id !== undefined; id = parents.get(id)) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) break;
    const part = PARTS.find(([pattern]) => pattern.test(frame.url) || pattern.test(frame.functionName));
    if (part) return part[1];
    if (FASTIFY.test(frame.url)) break;
  }
  const leaf = byId.get(nodeId)?.callFrame.functionName ?? '';
  if (leaf === '(idle)') return 'idle';
  if (leaf === '(garbage collector)' || leaf === '(program)') return 'V8 (GC, compiled code, native)';
  return 'Fastify and Node.js';
}

function summarise(profile: CpuProfile): Array<[string, number]> {
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const memo = new Map<number, string>();
  const time = new Map<string, number>();
  profile.samples.forEach((nodeId, i) => {
    let part = memo.get(nodeId);
    if (part === undefined) memo.set(nodeId, (part = partOf(profile, nodeId, parents)));
    time.set(part, (time.get(part) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...time].sort((a, b) => b[1] - a[1]);
}

// Start-up (loading modules, compiling schemas: about half a second) is in the profile too; 20 s makes it small.
const seconds = Number(process.argv[2] ?? 20);
const bodies = uniqueRows(400, 120).map((row) => JSON.stringify(row));
const dir = mkdtempSync(path.join(tmpdir(), 'locus-profile-'));
const server = await startLocus(5102, { DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}` }, [
  '--cpu-prof',
  `--cpu-prof-dir=${dir}`,
]);
const load = await putLoad({ url: server.url, bodies, connections: 64, durationS: seconds });
await server.stop();

// The main thread's profile is the larger one; the writer thread's is mostly waiting for the disk.
const [main] = readdirSync(dir)
  .filter((name) => name.endsWith('.cpuprofile'))
  .map((name) => path.join(dir, name))
  .sort((a, b) => statSync(b).size - statSync(a).size);
if (!main) throw new Error(`no profile in ${dir}`);
const parts = summarise(JSON.parse(readFileSync(main, 'utf8')) as CpuProfile);
const busy = parts.filter(([part]) => part !== 'idle').reduce((sum, [, us]) => sum + us, 0);
console.log(
  `### Where PUT /location's main-thread time goes (${Math.round(load.requestsPerSecond)} req/s)\n`,
);
console.log(`Machine: ${machine()}. Profiles in ${dir}.\n`);
console.log(
  table(
    ['part', 'share of busy time'],
    parts
      .filter(([part]) => part !== 'idle')
      .map(([part, us]) => [part, `${((100 * us) / busy).toFixed(1)} %`]),
  ),
);
