import type { MinuteAggregate, MinuteSums } from '../minutes.js';
import type { MinutePage, TrackBucket } from '../store.js';

/*
 * Pages of minutes and tracks cross from a reader thread packed into one Float64Array each, transferred rather
 * than copied: structured cloning 5,000 rows of nested objects costs milliseconds of the main thread's time, which
 * is the time a reader thread is there to save. Every sum is a safe integer or a double already (see
 * sqlite-reads.ts), so float64 holds each exactly.
 */

const SUM_FIELDS: ReadonlyArray<keyof MinuteSums> = [
  'samples',
  'latSum',
  'longSum',
  'longMin',
  'longMax',
  'longEastSum',
  'longEastMin',
  'longEastMax',
  'accuracySum',
  'accuracyCount',
  'speedSum',
  'speedCount',
];

function writeSums(values: Float64Array, at: number, sums: MinuteSums): void {
  for (let f = 0; f < SUM_FIELDS.length; f++) values[at + f] = sums[SUM_FIELDS[f]!];
}

function readSums(values: Float64Array, at: number): MinuteSums {
  const sums = {} as MinuteSums;
  for (let f = 0; f < SUM_FIELDS.length; f++) sums[SUM_FIELDS[f]!] = values[at + f]!;
  return sums;
}

/** Numbers per row: the minute, then the sums. */
const MINUTE_NUMBERS = 1 + SUM_FIELDS.length;
/** Numbers per bucket: first and last minute, the minute count, then the sums. */
const BUCKET_NUMBERS = 3 + SUM_FIELDS.length;

export interface PackedMinutePage {
  userId: string;
  nextAfterMinuteMs: number | null;
  values: Float64Array;
}

export function packMinutePage(page: MinutePage | null): PackedMinutePage | null {
  if (page === null) return null;
  const values = new Float64Array(page.rows.length * MINUTE_NUMBERS);
  page.rows.forEach((row, i) => {
    const at = i * MINUTE_NUMBERS;
    values[at] = row.minuteMs;
    writeSums(values, at + 1, row.sums);
  });
  return { userId: page.rows[0]?.userId ?? '', nextAfterMinuteMs: page.nextAfterMinuteMs, values };
}

export function unpackMinutePage(packed: PackedMinutePage | null): MinutePage | null {
  if (packed === null) return null;
  const { userId, values } = packed;
  const rows = new Array<MinuteAggregate>(values.length / MINUTE_NUMBERS);
  for (let i = 0; i < rows.length; i++) {
    const at = i * MINUTE_NUMBERS;
    rows[i] = { userId, minuteMs: values[at]!, sums: readSums(values, at + 1) };
  }
  return { rows, nextAfterMinuteMs: packed.nextAfterMinuteMs };
}

export function packTrack(buckets: readonly TrackBucket[] | null): Float64Array | null {
  if (buckets === null) return null;
  const values = new Float64Array(buckets.length * BUCKET_NUMBERS);
  buckets.forEach((bucket, i) => {
    const at = i * BUCKET_NUMBERS;
    values[at] = bucket.firstMinuteMs;
    values[at + 1] = bucket.lastMinuteMs;
    values[at + 2] = bucket.minutes;
    writeSums(values, at + 3, bucket.sums);
  });
  return values;
}

export function unpackTrack(values: Float64Array | null): TrackBucket[] | null {
  if (values === null) return null;
  const buckets = new Array<TrackBucket>(values.length / BUCKET_NUMBERS);
  for (let i = 0; i < buckets.length; i++) {
    const at = i * BUCKET_NUMBERS;
    buckets[i] = {
      firstMinuteMs: values[at]!,
      lastMinuteMs: values[at + 1]!,
      minutes: values[at + 2]!,
      sums: readSums(values, at + 3),
    };
  }
  return buckets;
}
