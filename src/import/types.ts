import type { Readable } from 'node:stream';
import type { FieldError } from '../ingest/point.js';

/*
 * What every import format hands to the import engine. A reader only knows its file's syntax: it turns elements or
 * lines into ImportFix objects (units converted, user chosen) or into errors for what it cannot read. The engine
 * then runs each fix through the same checks, UTC resolution, dedupe and aggregation as PUT /location.
 */

/** The formats `locus import` reads. */
export const IMPORT_FORMATS = ['gpx', 'geojson', 'csv', 'owntracks-rec', 'takeout'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * One location as read from a file, in PUT /location's field names and units (degrees, metres, m/s). Not yet
 * checked: values may be out of range (NaN included); the engine checks them with the PUT /location rules.
 */
export interface ImportFix {
  user_id: string;
  /**
   * Timestamp text as PUT /location takes it: `YYYY-MM-DD HH:MM:SS[.fff]` local wall time (the zone comes from the
   * coordinates), or with an offset or `Z` when the file says which instant it is.
   */
  timestamp: string;
  lat: number;
  long: number;
  /** Metres; null when the file does not carry it. */
  accuracy: number | null;
  /** Metres per second; null when the file does not carry it. */
  speed: number | null;
}

/** Where a record is in its file: a 1-based line for line formats, a 0-based item index for XML and JSON ones. */
export type RecordPosition = { line: number } | { item: number };

/** One record of a file: a fix, or why the record cannot be one (a missing time, a number that is not one…). */
export type ImportRecord =
  { ok: true; fix: ImportFix; at: RecordPosition } | { ok: false; errors: FieldError[]; at: RecordPosition };

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

/** The file cannot be read as the format (not XML, not JSON, no header…): the import of that file stops. */
export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
}
