/* Test helpers for the import readers: run a reader over bytes cut into chunks. */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { FormatReader, ImportRecord } from '../../src/import/types.js';

export interface ReadOutcome {
  records: ImportRecord[];
  /** What the reader threw after its records, if anything. */
  error: unknown;
  /** How many arrays the reader yielded. */
  batches: number;
}

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url));
}

/** Runs `reader` over `chunks`, as a file read in those pieces would arrive. */
export async function readChunks(
  reader: FormatReader,
  chunks: readonly (Buffer | string)[],
  user: string | undefined,
): Promise<ReadOutcome> {
  const outcome: ReadOutcome = { records: [], error: undefined, batches: 0 };
  try {
    for await (const batch of reader(Readable.from(chunks), { path: 'test-file', user })) {
      outcome.batches++;
      outcome.records.push(...batch);
    }
  } catch (error) {
    outcome.error = error;
  }
  return outcome;
}

/** The bytes cut at the given offsets (sorted, deduplicated). */
export function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets)].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** Reads the bytes split in two at every offset, and returns the offsets whose records differ from `expected`. */
export async function offsetsThatDiffer(
  reader: FormatReader,
  bytes: Buffer,
  expected: readonly ImportRecord[],
  user: string | undefined,
): Promise<number[]> {
  const wanted = JSON.stringify(expected);
  const differing: number[] = [];
  for (let offset = 0; offset <= bytes.length; offset++) {
    const outcome = await readChunks(reader, splitAt(bytes, [offset]), user);
    if (outcome.error !== undefined || JSON.stringify(outcome.records) !== wanted) differing.push(offset);
  }
  return differing;
}
