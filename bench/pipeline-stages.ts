/*
 * The pure pipeline front stage by stage, in nanoseconds per point, on the generated New York trace: where the
 * time of the composer (composePoint, the one way in for a point) goes. Each stage runs over all rows once to warm the JIT, then three times; the best of
 * the three is printed (the least disturbed by the rest of the machine).
 *
 *   npx tsx bench/pipeline-stages.ts
 */
import { find } from 'geo-tz';
import { composePoint } from '../src/ingest/compose.js';
import { OffsetCache, zoneAt } from '../src/ingest/resolve-utc.js';
import { parseTimestamp, wallClockMs } from '../src/ingest/timestamp.js';
import { checkFix } from '../src/ingest/checks.js';
import { traceRows } from './lib/points.js';

const ROUNDS = 3;
const rows = traceRows(50, 600, 3);

// Every stage folds its results into this, so that the JIT cannot drop the work as unused.
let sink = 0;

function bestNsPerRow(work: () => void): number {
  work();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const began = process.hrtime.bigint();
    work();
    best = Math.min(best, Number(process.hrtime.bigint() - began) / rows.length);
  }
  return best;
}

function wallTimes(): number[] {
  return rows.map((row) => {
    const parsed = parseTimestamp(row.timestamp);
    if (!parsed.ok) throw new Error(`generated timestamp ${row.timestamp} does not parse`);
    return wallClockMs(parsed.value);
  });
}

const walls = wallTimes();
const parsedRows = rows.map((row) => parseTimestamp(row.timestamp));
// One cache for all rounds: the warm-up round fills it, so the rounds time hits, as a long-running server sees.
const offsets = new OffsetCache();

const stages: Array<[string, () => void]> = [
  [
    'checkFix, PUT rules (incl. the one parseTimestamp)',
    () => rows.forEach((row) => (sink += +checkFix(row, 'put').ok)),
  ],
  ['parseTimestamp', () => rows.forEach((row) => (sink += +parseTimestamp(row.timestamp).ok))],
  ['wallClockMs', () => parsedRows.forEach((parsed) => (sink += parsed.ok ? wallClockMs(parsed.value) : 0))],
  ['geo-tz find', () => rows.forEach((row) => (sink += find(row.lat, row.long).length))],
  ['zoneAt', () => rows.forEach((row) => (sink += zoneAt(row.lat, row.long).length))],
  [
    'OffsetCache.offsetMs (warm)',
    () => {
      for (const wallMs of walls) sink += offsets.offsetMs('America/New_York', wallMs);
    },
  ],
  [
    // Alternating zones defeat the cache's last-minute shortcut: this times its Map lookups.
    'OffsetCache.offsetMs (warm, 2 zones alternating)',
    () => {
      for (let i = 0; i < walls.length; i++) {
        sink += offsets.offsetMs(i % 2 === 0 ? 'America/New_York' : 'America/Chicago', walls[i] ?? 0);
      }
    },
  ],
  ['composePoint, PUT rules', () => rows.forEach((row) => (sink += +composePoint(row, { rules: 'put' }).ok))],
];

console.log(`${rows.length} generated points (New York), ns/point, best of ${ROUNDS}`);
for (const [name, work] of stages)
  console.log(`${name.padEnd(50)} ${bestNsPerRow(work).toFixed(0).padStart(6)}`);
if (Number.isNaN(sink)) console.log('(sink)');
