/*
 * Scenario 4 of BENCHMARKS.md: the pure pipeline without HTTP or storage, in nanoseconds per point, and geo-tz
 * lookups cold (first touch of each area, in this fresh process) against warm (the same positions again).
 */
import { find } from 'geo-tz';
import { aggregate } from '../src/store/minutes.js';
import { composePoint } from '../src/ingest/compose.js';
import type { Point } from '../src/ingest/point.js';
import { traceRows } from './lib/points.js';
import { machine, table } from './lib/report.js';

function nsPer(count: number, work: () => void): number {
  const began = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - began) / count;
}

// Positions spread over the globe, on land and at sea, in a fixed pseudo-random order.
const positions = Array.from<unknown, [number, number]>({ length: 2000 }, (_, i) => [
  ((i * 7919) % 17_000) / 100 - 85,
  ((i * 104_729) % 36_000) / 100 - 180,
]);

const rows = traceRows(50, 600, 3);
rows.slice(0, 5000).forEach((row) => composePoint(row, { rules: 'put' })); // let the JIT settle
// Best of three passes, as bench/pipeline-stages.ts measures: one pass is at the mercy of a GC or a busy core. The
// points are not kept while timing: holding 215,302 of them made the pass about 1.7× slower (old-generation GC),
// which says more about the heap than about the pipeline.
const ROUNDS = 3;
let valid = 0;
const prepare = Math.min(
  ...Array.from({ length: ROUNDS }, () =>
    nsPer(rows.length, () => {
      for (const row of rows) valid += +composePoint(row, { rules: 'put' }).ok;
    }),
  ),
);
const points: Point[] = rows.flatMap((row) => {
  const prepared = composePoint(row, { rules: 'put' });
  return prepared.ok ? [prepared.value] : [];
});
if (valid !== points.length * ROUNDS) throw new Error('composePoint answered differently between passes');
const aggregation = Math.min(
  ...Array.from({ length: ROUNDS }, () => nsPer(points.length, () => aggregate(points))),
);

const cold = nsPer(positions.length, () => positions.forEach(([lat, long]) => find(lat, long)));
const warm = nsPer(positions.length, () => positions.forEach(([lat, long]) => find(lat, long)));

console.log(`### Pipeline alone, ${rows.length} generated points (New York)\n`);
console.log(`Machine: ${machine()}.\n`);
console.log(
  table(
    ['stage', 'ns/point'],
    [
      ['validate + parse timestamp + zone + UTC (composePoint)', Math.round(prepare)],
      ['aggregate per (user, minute)', Math.round(aggregation)],
      ['geo-tz lookup, cold (2,000 positions worldwide, first touch)', Math.round(cold)],
      ['geo-tz lookup, warm (the same positions again)', Math.round(warm)],
    ],
  ),
);
