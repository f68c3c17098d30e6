import type { PrepareOptions } from '../compose.js';
import type { IngestOutcome, Point, Result } from '../point.js';
import type { ItemError } from './fix.js';
import { BatchTooLargeError, ndjsonRecords } from './ndjson.js';
import { prepareWithNullableExtras } from './nullable-extras.js';

/*
 * POST /locations: many PUT /location objects at once, as a JSON array or as NDJSON. Each item goes through the
 * same checks as PUT /location (except that accuracy and speed may be null, as in imports and app formats); the
 * valid ones are stored together, the others reported by index.
 */

export const MAX_BATCH_POINTS = 10_000;
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** The PUT /location body limit, applied to each NDJSON line. */
export const MAX_BATCH_LINE_BYTES = 64 * 1024;

/** What to answer for a batch: how many points were stored and repeated, and why the others were not stored. */
export interface BatchSummary {
  stored: number;
  duplicates: number;
  rejected: number;
  errors: ItemError[];
}

/** A batch's items prepared one by one, in arrival order (which decides which of two duplicates wins). */
export class PreparedBatch {
  readonly points: Point[] = [];
  readonly rejected: ItemError[] = [];
  #items = 0;

  /** Adds the next item; throws BatchTooLargeError past MAX_BATCH_POINTS items. */
  add(result: Result<Point>): void {
    const index = this.#items++;
    if (index >= MAX_BATCH_POINTS) throw tooManyPoints();
    if (result.ok) this.points.push(result.value);
    else this.rejected.push({ index, errors: result.errors });
  }

  /** The answer, given the store's outcome for each point of `points`. */
  summary(outcomes: readonly IngestOutcome[]): BatchSummary {
    const stored = outcomes.filter((o) => o === 'stored').length;
    return {
      stored,
      duplicates: outcomes.length - stored,
      rejected: this.rejected.length,
      errors: this.rejected,
    };
  }
}

function tooManyPoints(): BatchTooLargeError {
  return new BatchTooLargeError(`A batch holds at most ${MAX_BATCH_POINTS} points.`);
}

/** A JSON array batch. Throws BatchTooLargeError when it has more than MAX_BATCH_POINTS items. */
export function prepareArrayBatch(items: readonly unknown[], options: PrepareOptions = {}): PreparedBatch {
  if (items.length > MAX_BATCH_POINTS) throw tooManyPoints();
  const batch = new PreparedBatch();
  for (const item of items) batch.add(prepareWithNullableExtras(item, options));
  return batch;
}

/**
 * An NDJSON batch, prepared line by line as it is read, so that memory holds one line and the prepared points,
 * never the body. A line that is not JSON is a rejected item like any other. Throws BatchTooLargeError past
 * MAX_BATCH_BYTES or MAX_BATCH_POINTS.
 */
export async function prepareNdjsonBatch(
  source: AsyncIterable<Uint8Array | string>,
  options: PrepareOptions = {},
): Promise<PreparedBatch> {
  const batch = new PreparedBatch();
  const limits = { maxBytes: MAX_BATCH_BYTES, maxLineBytes: MAX_BATCH_LINE_BYTES };
  for await (const record of ndjsonRecords(source, limits)) {
    batch.add(record.ok ? prepareWithNullableExtras(record.value, options) : record);
  }
  return batch;
}
