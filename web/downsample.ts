/*
 * Reducing what is drawn, never what is loaded: the page keeps every minute, and these pick what the map and the
 * charts draw so that 100,000 minutes render as quickly as 1,000. Pure (no DOM): the tests run it under Node.
 */

/**
 * At most `max` indices from [start, end), evenly spread, always with the first and the last, so the drawn track
 * starts and ends where the data does.
 */
export function strideIndices(start: number, end: number, max: number): number[] {
  const count = end - start;
  if (count <= 0) return [];
  if (count <= max) return Array.from({ length: count }, (_, i) => start + i);
  const step = (count - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => start + Math.round(i * step));
}

/** One chart's data for uPlot: x in seconds, y with null where the line breaks (or nothing was reported). */
export type Series = [number[], Array<number | null>];

/** A silence longer than this breaks the chart's line instead of drawing across the gap. */
export const GAP_MS = 5 * 60_000;

function rawSeries(ms: ArrayLike<number>, values: ArrayLike<number>, start: number, end: number): Series {
  const xs: number[] = [];
  const ys: Array<number | null> = [];
  for (let i = start; i < end; i++) {
    if (i > start && ms[i]! - ms[i - 1]! > GAP_MS) {
      xs.push((ms[i - 1]! + GAP_MS / 2) / 1000);
      ys.push(null);
    }
    const v = values[i]!;
    xs.push(ms[i]! / 1000);
    ys.push(Number.isNaN(v) ? null : v);
  }
  return [xs, ys];
}

/**
 * The values in [start, end) for a chart `bins` pixels wide. Up to two points per bin it draws every minute;
 * beyond that each time bin contributes its minimum and maximum in the order they occur, so peaks survive
 * (a spike in speed is never averaged away) and an empty bin breaks the line. NaN is a value not reported.
 */
export function minMaxSeries(
  ms: ArrayLike<number>,
  values: ArrayLike<number>,
  start: number,
  end: number,
  bins: number,
): Series {
  if (end - start <= 2 * bins) return rawSeries(ms, values, start, end);
  const t0 = ms[start]!;
  const width = (ms[end - 1]! - t0) / bins || 1;
  const xs: number[] = [];
  const ys: Array<number | null> = [];
  let i = start;
  let brokeLine = false;
  for (let bin = 0; bin < bins && i < end; bin++) {
    const binEnd = bin === bins - 1 ? Infinity : t0 + (bin + 1) * width;
    let lo = -1;
    let hi = -1;
    for (; i < end && ms[i]! < binEnd; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      if (lo < 0 || v < values[lo]!) lo = i;
      if (hi < 0 || v > values[hi]!) hi = i;
    }
    if (lo < 0) {
      if (!brokeLine) {
        xs.push((t0 + (bin + 0.5) * width) / 1000);
        ys.push(null);
      }
      brokeLine = true;
      continue;
    }
    brokeLine = false;
    for (const j of lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)]) {
      xs.push(ms[j]! / 1000);
      ys.push(values[j]!);
    }
  }
  return [xs, ys];
}
