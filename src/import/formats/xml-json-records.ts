/*
 * What the GPX, GeoJSON and Takeout readers share: the loop that feeds a file's text to a push parser and hands
 * the engine one array of records per input chunk, and the value conversions common to the three formats.
 */
import type { Readable } from 'node:stream';
import type { FieldError } from '../../pipeline/types.js';
import { UnreadableFileError, type ImportFix, type ImportRecord } from '../types.js';

/** A push parser that turns text into records, kept until taken. */
export abstract class RecordSink {
  #records: ImportRecord[] = [];

  abstract write(text: string): void;
  /** The input is over: a file cut short throws UnreadableFileError here. */
  abstract end(): void;

  protected emit(record: ImportRecord): void {
    this.#records.push(record);
  }

  /** The records made since the last call. */
  take(): ImportRecord[] {
    const records = this.#records;
    this.#records = [];
    return records;
  }
}

/**
 * Runs a file through a sink, one records array per input chunk. The `for await` over the input is the
 * backpressure: the next chunk is read only once the engine asks for more records. A parse error still hands over
 * the records read before it, then throws.
 */
export async function* readRecords(input: Readable, sink: RecordSink): AsyncGenerator<ImportRecord[]> {
  // TextDecoder drops a leading byte-order mark and keeps a character split across chunks for the next one.
  const decoder = new TextDecoder('utf-8');
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      sink.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      const records = sink.take();
      if (records.length > 0) yield records;
    }
    sink.write(decoder.decode());
    sink.end();
  } catch (error) {
    const records = sink.take();
    if (records.length > 0) yield records;
    throw error;
  }
  const records = sink.take();
  if (records.length > 0) yield records;
}

/** The files of these formats carry no user, so without --user nothing in them could be stored. */
export function requireUser(user: string | undefined, format: string): string {
  if (user === undefined) throw new UnreadableFileError(`${format} files carry no user: pass --user`);
  return user;
}

export function fixRecord(item: number, fix: ImportFix): ImportRecord {
  return { ok: true, fix, at: { item } };
}

export function errorRecord(item: number, errors: FieldError[]): ImportRecord {
  return { ok: false, errors, at: { item } };
}

// Date's range: ±100,000,000 days around 1970.
const MAX_DATE_MS = 8.64e15;

/**
 * Epoch milliseconds as PUT /location timestamp text (UTC, `Z`); null when no Date can hold it. Years outside
 * 1900–9999 still come out as text, which the engine rejects with the usual message.
 */
export function epochMsText(ms: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return null;
  return new Date(Math.trunc(ms)).toISOString();
}

/** A JSON number, or an error naming the field; absent and null mean the file does not say. */
export function optionalNumber(value: unknown, field: string, errors: FieldError[]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return value;
  errors.push({ field, message: `must be a number, not ${describe(value)}` });
  return null;
}

/** How a JSON value is named in an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `a ${typeof value}`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
