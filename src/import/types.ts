import type { Readable } from 'node:stream';
import type { OwnTracksUserIdMode } from '../ingest/apps/owntracks.js';
import type { FieldError, RawFix } from '../ingest/point.js';
import type { FileHead } from './readers/file-head.js';

/*
 * What every import format hands to the import engine. A reader only knows its file's syntax: it turns elements or
 * lines into RawFix objects (units converted, user chosen) or into errors for what it cannot read. The engine
 * then runs each fix through the same checks, UTC resolution, dedupe and aggregation as PUT /location.
 */

/** Where a record is in its file: a 1-based line for line formats, a 0-based item index for XML and JSON ones. */
export type RecordPosition = { line: number } | { item: number };

/** One record of a file: a fix, or why the record cannot be one (a missing time, a number that is not one…). */
export type ImportRecord =
  { ok: true; fix: RawFix; at: RecordPosition } | { ok: false; errors: FieldError[]; at: RecordPosition };

export interface ReadContext {
  /** The file's path as the user gave it: `.rec` files take their user from it, and errors name it. */
  path: string;
  /** `--user`: when given, every record belongs to it, whatever the file says. */
  user: string | undefined;
}

/**
 * A format reader: the file's decompressed bytes in, its records out in file order, a chunk at a time (one array
 * per input chunk, so that the per-record cost is not an await). It must stream: memory stays flat whatever the
 * file's size. It throws UnreadableFileError when the file is not in its format at all.
 */
export type FormatReader = (input: Readable, context: ReadContext) => AsyncIterable<ImportRecord[]>;

/** Settings from the environment that a reader may need. */
export interface ReaderSettings {
  /** Whose points a Recorder `.rec` file holds: its USER, or USER/DEVICE (OWNTRACKS_USER_ID, as for live ones). */
  owntracksUserId: OwnTracksUserIdMode;
}

/**
 * A format `locus import` reads, as readers/index.ts lists it: its name, how to recognise a file of it, and its
 * reader. The reader is loaded only when a file of the format comes, so that detection, which every import runs
 * for every format, never loads a parser (saxes) or compiles a schema it does not need.
 */
export interface FormatDescriptor<Name extends string = string> {
  /** What `--format` takes and the summary shows. */
  readonly format: Name;
  /**
   * Where in `head.text` the evidence that the file is in this format ends, or null when the head is not in it.
   * When several formats recognise a head, the earliest evidence wins: a JSON object's first deciding key.
   */
  detect(head: FileHead): number | null;
  load(settings: ReaderSettings): Promise<FormatReader>;
}

/** The file cannot be read as the format (not XML, not JSON, no header…): the import of that file stops. */
export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
}
