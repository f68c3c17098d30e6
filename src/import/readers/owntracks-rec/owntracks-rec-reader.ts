import path from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ownTracksMessageToFix, type OwnTracksUserIdMode } from '../../../ingest/apps/owntracks.js';
import { UnreadableFileError, type FormatReader, type ImportRecord, type ReadContext } from '../../types.js';
import { LineSplitter } from '../line-splitter.js';

/*
 * OwnTracks Recorder files: `STORAGEDIR/rec/USER/DEVICE/YYYY-MM.rec`, one message a line, written as
 * `ISO-UTC-TIME<TAB>TAG<TAB>JSON` (the tag padded to 18 characters: `*` for locations, `lwt`, `waypoint`…).
 * Only `_type: "location"` payloads are points; the others are skipped without a word, as the live OwnTracks
 * endpoints accept and ignore them. A location is checked and mapped as the live OwnTracks one: `tst` (epoch
 * seconds, UTC) is the time, not the line's own time (the Recorder's receive time when `tst` was missing).
 */

/** A line longer than this is a record error, and is not kept in memory (a location line is well under 1 KiB). */
export const MAX_REC_LINE_CHARS = 1024 * 1024;

// The Recorder writes `strftime("%Y-%m-%dT%H:%M:%SZ")`; fractions are allowed for files written by other tools.
const REC_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

const NOT_A_REC_LINE = 'is not TIME<TAB>TAG<TAB>JSON';
const NOT_JSON = 'has a JSON payload that is not valid JSON';
const NOT_AN_OBJECT = 'has a JSON payload that is not an object';
const TOO_LONG = `is longer than ${MAX_REC_LINE_CHARS} characters`;

/** A record error about the line as a whole. */
function lineError(message: string, line: number): ImportRecord {
  return { ok: false, errors: [{ field: 'line', message }], at: { line } };
}

/**
 * The user of a Recorder file from its path, `…/rec/USER/DEVICE/NAME.rec` (or `.rec.gz`); a relative path counts
 * from the working directory. Null when the path does not have that shape: then only --user can say.
 */
export function userFromRecPath(file: string, mode: OwnTracksUserIdMode = 'user'): string | null {
  const parts = path.resolve(file).split(path.sep);
  const [rec, user, device, name] = parts.slice(-4);
  if (rec !== 'rec' || !user || !device || !name || !/\.rec(?:\.gz)?$/.test(name)) return null;
  return mode === 'user' ? user : `${user}/${device}`;
}

/** A payload as the live OwnTracks doors map it (src/ingest/apps/owntracks.ts); null for one Locus ignores. */
function locationRecord(message: unknown, userId: string, line: number): ImportRecord | null {
  const fix = ownTracksMessageToFix(message, { ok: true, value: userId });
  if (!fix.ok) return { ok: false, errors: fix.errors, at: { line } };
  return fix.value === null ? null : { ok: true, fix: fix.value, at: { line } };
}

/** One line as a record; null for a blank line or a message that is not a location. */
function lineRecord(text: string, userId: string, line: number): ImportRecord | null {
  const tab = text.indexOf('\t');
  const json = tab === -1 ? -1 : text.indexOf('\t', tab + 1);
  if (json === -1 || !REC_TIME.test(text.slice(0, tab))) {
    return text.trim() === '' ? null : lineError(NOT_A_REC_LINE, line);
  }
  let message: unknown;
  try {
    message = JSON.parse(text.slice(json + 1));
  } catch {
    return lineError(NOT_JSON, line);
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return lineError(NOT_AN_OBJECT, line);
  return locationRecord(message, userId, line);
}

/**
 * A reader of Recorder `.rec` files whose user ids are the OwnTracks user, or `user/device` (as
 * OWNTRACKS_USER_ID); --user overrides both. Without --user, the path must be `…/rec/USER/DEVICE/NAME.rec`: the
 * reader throws UnreadableFileError before reading anything otherwise, since every record would lack a user.
 */
export function ownTracksRecReader(mode: OwnTracksUserIdMode = 'user'): FormatReader {
  return (input, context) => readRec(input, context, mode);
}

/** `.rec` files with user ids from the path's USER (the OWNTRACKS_USER_ID default). */
export const readOwnTracksRec: FormatReader = ownTracksRecReader('user');

async function* readRec(
  input: Readable,
  context: ReadContext,
  mode: OwnTracksUserIdMode,
): AsyncGenerator<ImportRecord[]> {
  const userId = context.user ?? userFromRecPath(context.path, mode);
  if (userId === null)
    throw new UnreadableFileError(
      `${context.path}: whose points? The path is not …/rec/USER/DEVICE/YYYY-MM.rec, as the OwnTracks Recorder stores them; give --user`,
    );
  const decoder = new StringDecoder('utf8');
  let batch: ImportRecord[] = [];
  const lines = new LineSplitter(
    (text, line) => {
      const record = lineRecord(text, userId, line);
      if (record !== null) batch.push(record);
    },
    { maxChars: MAX_REC_LINE_CHARS, onLongLine: (line) => batch.push(lineError(TOO_LONG, line)) },
  );
  for await (const chunk of input as AsyncIterable<Buffer>) {
    lines.push(decoder.write(chunk));
    if (batch.length > 0) yield batch;
    batch = [];
  }
  lines.push(decoder.end());
  lines.end();
  if (batch.length > 0) yield batch;
}
