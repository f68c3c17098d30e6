import { composePoint, type ComposeOptions } from '../compose.js';
import { MAX_BATCH_BYTES, MAX_BATCH_POINTS, MAX_POINT_BODY_BYTES } from '../limits.js';
import type { IngestOutcome, Point, Result } from '../point.js';
import type { ItemError } from './fix.js';
import { BatchTooLargeError, ndjsonRecords } from './ndjson.js';

/*
 * POST /locations: many PUT /location objects at once, as a JSON array or as NDJSON. Each item goes through the
 * same checks as PUT /location (except that accuracy and speed may be null, as in imports and app formats); the
 * valid ones are stored together, the others reported by index.
 */

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

/** A batch's items prepared through the one composer, in arrival order; a failed item (an NDJSON line that is not JSON) is a rejected one. */
export function prepareBatch(items: Iterable<Result<unknown>>, options: ComposeOptions = {}): PreparedBatch {
  const batch = new PreparedBatch();
  for (const item of items) batch.add(item.ok ? composePoint(item.value, options) : item);
  return batch;
}

/** A JSON array batch. Throws BatchTooLargeError when it has more than MAX_BATCH_POINTS items. */
export function prepareArrayBatch(items: readonly unknown[], options: ComposeOptions = {}): PreparedBatch {
  if (items.length > MAX_BATCH_POINTS) throw tooManyPoints();
  return prepareBatch(
    items.map((value) => ({ ok: true, value })),
    options,
  );
}

/** An NDJSON body as read: one record per non-blank line, a value or why the line is not one. */
export class NdjsonLines {
  constructor(readonly records: readonly Result<unknown>[]) {}
}

/**
 * Reads an NDJSON body as its bytes arrive, so that memory holds one line and the values read, never the body.
 * Throws BatchTooLargeError past MAX_BATCH_BYTES or MAX_BATCH_POINTS.
 */
export async function readNdjsonLines(source: AsyncIterable<Uint8Array | string>): Promise<NdjsonLines> {
  const records: Result<unknown>[] = [];
  const limits = { maxBytes: MAX_BATCH_BYTES, maxLineBytes: MAX_POINT_BODY_BYTES };
  for await (const record of ndjsonRecords(source, limits)) {
    if (records.length === MAX_BATCH_POINTS) throw tooManyPoints();
    records.push(record);
  }
  return new NdjsonLines(records);
}
