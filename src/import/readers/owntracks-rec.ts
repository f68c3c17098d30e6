import path from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { compileCheck, instantTimestamp, kmhToMps } from '../../ingest/apps/fix.js';
import type { OwnTracksUserIdMode } from '../../ingest/apps/owntracks.js';
import { OwnTracksLocationSchema, OwnTracksMessageSchema } from '../../schemas/apps/owntracks.js';
import {
  UnreadableFileError,
  type FormatReader,
  type ImportFix,
  type ImportRecord,
  type ReadContext,
} from '../types.js';

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

const checkMessage = compileCheck(OwnTracksMessageSchema);
const checkLocation = compileCheck(OwnTracksLocationSchema);

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

/** A location payload as the live OwnTracks mapping makes it (src/ingest/apps/owntracks.ts). */
function locationRecord(message: unknown, userId: string, line: number): ImportRecord | null {
  const type = (message as { _type?: unknown })._type;
  if (type !== 'location') {
    const envelope = checkMessage(message);
    return envelope.ok ? null : { ok: false, errors: envelope.errors, at: { line } };
  }
  const location = checkLocation(message);
  if (!location.ok) return { ok: false, errors: location.errors, at: { line } };
  const { tst, lat, lon, acc, vel } = location.value;
  const fix: ImportFix = {
    user_id: userId,
    timestamp: instantTimestamp(tst * 1000),
    lat,
    long: lon,
    accuracy: acc ?? null,
    speed: vel === undefined || vel < 0 ? null : kmhToMps(vel),
  };
  return { ok: true, fix, at: { line } };
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
  let carry = ''; // the current line's text so far, when it started in an earlier chunk
  let tooLong = false; // the current line passed MAX_REC_LINE_CHARS: its text is dropped
  let line = 1;
  let first = true;

  const take = (text: string, batch: ImportRecord[]) => {
    const record = tooLong ? lineError(TOO_LONG, line) : lineRecord(text, userId, line);
    if (record !== null) batch.push(record);
    tooLong = false;
    line++;
  };

  for await (const chunk of input as AsyncIterable<Buffer>) {
    let text = decoder.write(chunk);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const batch: ImportRecord[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      take(carry === '' ? text.slice(start, end) : carry + text.slice(start, end), batch);
      carry = '';
      start = end + 1;
    }
    if (!tooLong) carry += text.slice(start);
    if (carry.length > MAX_REC_LINE_CHARS) {
      tooLong = true;
      carry = '';
    }
    if (batch.length > 0) yield batch;
  }
  const rest = carry + decoder.end();
  const batch: ImportRecord[] = [];
  if (tooLong || rest !== '') take(rest, batch);
  if (batch.length > 0) yield batch;
}
