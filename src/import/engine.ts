import type { Readable } from 'node:stream';
import { composePoint, type ComposeOptions } from '../ingest/compose.js';
import { BatchWriter } from './engine-writer.js';
import {
  DestinationError,
  type ImportBatch,
  type ImportDestination,
  type DestinationResult,
} from './destinations.js';
import { FileTally, totalsOf, type FileStatus, type FileSummary, type ImportTotals } from './summary.js';
import type { ImportFormat } from './readers/index.js';
import { UnreadableFileError, type FormatReader, type ImportRecord, type RecordPosition } from './types.js';

/*
 * The import engine: file after file, record after record in file order, each fix through the PUT /location
 * checks and UTC resolution, the valid points in large batches to a destination. Counting happens here; formats only read
 * and destinations only store.
 */

/** A file opened for reading: its decompressed content, and how far into the file on disk the reading is. */
export interface OpenedFile {
  input: Readable;
  /** The first bytes of the decompressed content, for format detection; `input` still yields them. */
  head: Buffer;
  /** Bytes of the file on disk read so far (compressed bytes for a gzipped file), for progress. */
  bytesRead(): number;
}

/** How files are opened, recognised and read; deps.ts gives the real ones, tests their own. */
export interface ImportDeps {
  open(path: string): Promise<OpenedFile>;
  detect(head: Buffer, path: string): ImportFormat | null;
  reader(format: ImportFormat): FormatReader;
}

export interface ImportProgress {
  /** 0-based index of the file being read. */
  fileIndex: number;
  /** Bytes on disk read so far, all files together. */
  bytes: number;
  /** Records read so far, all files together. */
  records: number;
}

export interface ImportOptions {
  /** `--user`: every record belongs to it. */
  user?: string;
  /** `--format`: no detection. */
  format?: ImportFormat;
  /** Points per batch (capped at the destination's maximum). */
  batchSize?: number;
  prepare?: ComposeOptions;
  /** Aborting stops after the batch being filled has committed; the report says `interrupted`. */
  signal?: AbortSignal;
  /** Rejected records listed in full per file. */
  maxExamples?: number;
  onProgress?: (progress: ImportProgress) => void;
}

export const DEFAULT_BATCH_SIZE = 5000;

export type ImportOutcome = 'done' | 'unreadable' | 'store-failed' | 'interrupted';

export interface ImportReport {
  /** `done`: every file read; `unreadable`: some file was not; `store-failed`, `interrupted`: stopped early. */
  outcome: ImportOutcome;
  files: FileSummary[];
  totals: ImportTotals;
}

/** The CLI's exit code for a report: 0 all read, 1 a file unreadable or the store failed, 130 interrupted. */
export function exitCodeOf(report: ImportReport): number {
  if (report.outcome === 'interrupted') return 130;
  return report.outcome === 'done' ? 0 : 1;
}

/** Imports the files in order into the destination; resolves with what happened, file by file. Closes nothing. */
export async function importFiles(
  paths: readonly string[],
  destination: ImportDestination,
  deps: ImportDeps,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const began = performance.now();
  const files: FileSummary[] = [];
  const run = new ImportRun(destination, deps, options);
  let outcome: ImportOutcome = 'done';
  for (const [index, path] of paths.entries()) {
    if (options.signal?.aborted) {
      outcome = 'interrupted';
      break;
    }
    const summary = await run.file(path, index);
    files.push(summary);
    if (summary.status === 'unreadable') outcome = 'unreadable';
    if (summary.status === 'store-failed' || summary.status === 'interrupted') {
      outcome = summary.status;
      break;
    }
  }
  return { outcome, files, totals: totalsOf(files, performance.now() - began) };
}

/**
 * The line to show for an error that means "this file cannot be read", starting with the file's path; null for
 * any other error (a bug).
 */
export function unreadableReason(error: unknown, path: string): string | null {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  // System errors (ENOENT, EISDIR, EACCES, EIO…) and zlib's (a truncated or corrupt .gz).
  const systemError =
    typeof code === 'string' && (typeof syscall === 'string' || /^(Z_|ERR_ZLIB)/.test(code));
  if (!(error instanceof UnreadableFileError) && !systemError) return null;
  const message = (error as Error).message;
  return message.startsWith(`${path}:`) ? message : `${path}: ${message}`;
}

/** One import's state across files: the destination, the running totals for progress. */
class ImportRun {
  readonly #batchSize: number;
  #bytesBefore = 0;
  #recordsBefore = 0;

  constructor(
    readonly destination: ImportDestination,
    readonly deps: ImportDeps,
    readonly options: ImportOptions,
  ) {
    const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`batch size must be ≥ 1, got ${size}`);
    this.#batchSize = Math.min(size, destination.maxBatchSize);
  }

  async file(path: string, fileIndex: number): Promise<FileSummary> {
    const tally = new FileTally(path, this.options.maxExamples);
    let opened: OpenedFile;
    try {
      opened = await this.deps.open(path);
    } catch (error) {
      return tally.summary('unreadable', reasonOrThrow(error, path));
    }
    try {
      return await this.#read(path, fileIndex, opened, tally);
    } finally {
      this.#bytesBefore += opened.bytesRead();
      this.#recordsBefore += tally.read;
      opened.input.destroy();
    }
  }

  async #read(path: string, fileIndex: number, opened: OpenedFile, tally: FileTally): Promise<FileSummary> {
    const format = this.options.format ?? this.deps.detect(opened.head, path);
    if (format === null) {
      return tally.summary(
        'unreadable',
        `${path}: not in a format locus import reads (use --format to force one)`,
      );
    }
    tally.format = format;
    const records = this.deps.reader(format)(opened.input, { path, user: this.options.user });
    const writer = new BatchWriter(this.destination, (batch, result) => countResult(tally, batch, result));
    const progress = () =>
      this.options.onProgress?.({
        fileIndex,
        bytes: this.#bytesBefore + opened.bytesRead(),
        records: this.#recordsBefore + tally.read,
      });
    let status: FileStatus = 'done';
    let error: string | null = null;
    try {
      const ended = await this.#batches(records, tally, writer, progress);
      if (ended === 'interrupted') status = 'interrupted';
    } catch (failure) {
      if (failure instanceof DestinationError) {
        await writer.settle();
        return tally.summary('store-failed', failure.message);
      }
      error = reasonOrThrow(failure, path);
      status = 'unreadable';
    }
    // What was read before the file turned out unreadable is stored too: it is valid and in file order, and
    // importing the repaired file later only adds what follows.
    try {
      await writer.drain();
    } catch (failure) {
      if (!(failure instanceof DestinationError)) throw failure;
      return tally.summary('store-failed', failure.message);
    }
    progress();
    return tally.summary(status, error);
  }

  /** Reads the records into batches and submits them; the last, partial batch too. */
  async #batches(
    records: AsyncIterable<ImportRecord[]>,
    tally: FileTally,
    writer: BatchWriter,
    progress: () => void,
  ): Promise<'done' | 'interrupted'> {
    const signal = this.options.signal;
    const prepare = this.options.prepare ?? {};
    let batch = newBatch();
    let positions: RecordPosition[] = [];
    let ended: 'done' | 'interrupted' = 'done';
    // The positions of a batch's points stay with it, so that a point the server refuses is named by its line.
    const submit = async () => {
      positionsOf.set(batch, positions);
      await writer.submit(batch);
      batch = newBatch();
      positions = [];
    };
    try {
      reading: for await (const chunk of records) {
        for (const record of chunk) {
          if (signal?.aborted) {
            ended = 'interrupted';
            break reading;
          }
          tally.read++;
          if (!record.ok) {
            tally.reject(record.at, record.errors);
            continue;
          }
          const point = composePoint(record.fix, prepare);
          if (!point.ok) {
            tally.reject(record.at, point.errors);
            continue;
          }
          if (point.value.accuracy === null) tally.missingAccuracy++;
          if (point.value.speed === null) tally.missingSpeed++;
          batch.points.push(point.value);
          if (this.destination.needsFixes) batch.fixes.push(record.fix);
          positions.push(record.at);
          if (batch.points.length >= this.#batchSize) await submit();
        }
        progress();
      }
    } finally {
      // Also when the file turns out unreadable half way: see #read.
      if (batch.points.length > 0) await submit();
    }
    return ended;
  }
}

const positionsOf = new WeakMap<ImportBatch, RecordPosition[]>();

function newBatch(): ImportBatch {
  return { points: [], fixes: [] };
}

function countResult(tally: FileTally, batch: ImportBatch, result: DestinationResult): void {
  tally.stored += result.stored;
  tally.duplicates += result.duplicates;
  const positions = positionsOf.get(batch) ?? [];
  for (const item of result.rejected) {
    tally.reject(positions[item.index] ?? { item: -1 }, item.errors);
  }
}

function reasonOrThrow(error: unknown, path: string): string {
  const reason = unreadableReason(error, path);
  if (reason === null) throw error;
  return reason;
}
