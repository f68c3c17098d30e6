/*
 * Scenario 4 of BENCHMARKS.md: the pure pipeline without HTTP or storage, in nanoseconds per point, and geo-tz
 * lookups cold (first touch of each area, in this fresh process) against warm (the same positions again).
 */
import { find } from 'geo-tz';
import { aggregate } from '../src/pipeline/aggregate.js';
import { preparePoint } from '../src/pipeline/prepare.js';
import type { Point } from '../src/pipeline/types.js';
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
const cold = nsPer(positions.length, () => positions.forEach(([lat, long]) => find(lat, long)));
const warm = nsPer(positions.length, () => positions.forEach(([lat, long]) => find(lat, long)));

const rows = traceRows(50, 600, 3);
rows.slice(0, 5000).forEach((row) => preparePoint(row)); // let the JIT settle
const points: Point[] = [];
const prepare = nsPer(rows.length, () => {
  for (const row of rows) {
    const prepared = preparePoint(row);
    if (prepared.ok) points.push(prepared.value);
  }
});
const aggregation = nsPer(points.length, () => aggregate(points));

console.log(`### Pipeline alone, ${rows.length} generated points (New York)\n`);
console.log(`Machine: ${machine()}.\n`);
console.log(
  table(
    ['stage', 'ns/point'],
    [
      ['validate + parse timestamp + zone + UTC (preparePoint)', Math.round(prepare)],
      ['aggregate per (user, minute)', Math.round(aggregation)],
      ['geo-tz lookup, cold (2,000 positions worldwide, first touch)', Math.round(cold)],
      ['geo-tz lookup, warm (the same positions again)', Math.round(warm)],
    ],
  ),
);
