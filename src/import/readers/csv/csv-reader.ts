import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { FieldError } from '../../../ingest/point.js';
import { LineSplitter } from '../line-splitter.js';
import { CSV_COLUMNS, CSV_REQUIRED_COLUMNS } from './csv-columns.js';
import { UnreadableFileError, type ImportRecord, type ReadContext } from '../../types.js';

/*
 * Challenge-format CSV (`timestamp,lat,long,accuracy,speed,user_id`, columns in any order, others ignored), read
 * as csv-parse reads it for `locus simulate` (trimmed cells, RFC 4180 quotes). `timestamp` is the device's local
 * wall time, passed on as text: the engine finds the zone from the coordinates, as PUT /location does. accuracy
 * and speed may be empty, or their columns absent; user_id may be absent with --user.
 */

/**
 * A record or line longer than this stops the file: a challenge CSV line is under 200 characters, and an unclosed
 * quote would otherwise swallow the rest of the file into memory.
 */
export const MAX_CSV_RECORD_CHARS = 64 * 1024;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Where each column is in a record; -1 for one the file does not have. */
type Columns = Record<(typeof CSV_COLUMNS)[number], number>;

function headerColumns(header: readonly string[], context: ReadContext): Columns {
  const needed: readonly string[] =
    context.user === undefined ? [...CSV_REQUIRED_COLUMNS, 'user_id'] : CSV_REQUIRED_COLUMNS;
  const missing = needed.filter((name) => !header.includes(name));
  if (missing.length > 0) {
    const found = header.join(',');
    const shown = found.length > 200 ? `${found.slice(0, 200)}…` : found;
    const hint = missing.includes('user_id') ? ' (or give --user)' : '';
    throw new UnreadableFileError(
      `${context.path}: not a challenge CSV: the header line has no ${missing.join(', ')} column${missing.length > 1 ? 's' : ''}${hint}; it is "${shown}"`,
    );
  }
  const twice = CSV_COLUMNS.find((name) => header.indexOf(name) !== header.lastIndexOf(name));
  if (twice !== undefined)
    throw new UnreadableFileError(`${context.path}: the header line has the column ${twice} twice`);
  return Object.fromEntries(CSV_COLUMNS.map((name) => [name, header.indexOf(name)])) as Columns;
}

function cellAt(cells: readonly string[], index: number): string {
  return index === -1 ? '' : (cells[index] ?? '');
}

/** A number cell; an empty one is null, for the caller to accept (optional) or report (required). */
function numberCell(text: string, field: string, errors: FieldError[]): number | null {
  if (text === '') return null;
  if (NUMBER.test(text)) return Number(text);
  errors.push({ field, message: `must be a number, got ${JSON.stringify(text)}` });
  return null;
}

function requiredNumber(text: string, field: string, errors: FieldError[]): number {
  if (text === '') errors.push({ field, message: 'is required' });
  return numberCell(text, field, errors) ?? Number.NaN;
}

/** One data row as a record; `line` is where it starts in the file. */
function toRecord(
  cells: readonly string[],
  columns: Columns,
  line: number,
  user: string | undefined,
): ImportRecord {
  const errors: FieldError[] = [];
  const timestamp = cellAt(cells, columns.timestamp);
  if (timestamp === '') errors.push({ field: 'timestamp', message: 'is required' });
  const lat = requiredNumber(cellAt(cells, columns.lat), 'lat', errors);
  const long = requiredNumber(cellAt(cells, columns.long), 'long', errors);
  const accuracy = numberCell(cellAt(cells, columns.accuracy), 'accuracy', errors);
  const speed = numberCell(cellAt(cells, columns.speed), 'speed', errors);
  const userId = user ?? cellAt(cells, columns.user_id);
  if (userId === '') errors.push({ field: 'user_id', message: 'is required' });
  const at = { line };
  if (errors.length > 0) return { ok: false, errors, at };
  return { ok: true, fix: { user_id: userId, timestamp, lat, long, accuracy, speed }, at };
}

// ---- CSV syntax ----

const QUOTE = 0x22;
const COMMA = 0x2c;

/** Space, tab, CR, LF, form feed: what csv-parse's `trim` removes around a field. */
function isTrimmable(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a || code === 0x0c;
}

function trimCell(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && isTrimmable(text.charCodeAt(from))) from++;
  while (to > from && isTrimmable(text.charCodeAt(to - 1))) to--;
  return from === 0 && to === text.length ? text : text.slice(from, to);
}

/** The CSV is broken at `line`: the file stops there. */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';

  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * The cells of one record whose text has a quote somewhere; null while a quoted field is still open (the record
 * goes on on the next line). A field that starts with a quote (after spaces) is quoted, `""` inside it is a quote;
 * a quote elsewhere is text, as csv-parse's `relax_quotes` reads it.
 */
function splitQuotedRecord(text: string, line: number): string[] | null {
  const cells: string[] = [];
  const end = text.length;
  let i = 0;
  for (;;) {
    while (i < end && isTrimmable(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== QUOTE) {
      const comma = text.indexOf(',', i);
      cells.push(trimCell(text.slice(i, comma === -1 ? end : comma)));
      if (comma === -1) return cells;
      i = comma + 1;
      continue;
    }
    let value = '';
    for (let from = i + 1; ;) {
      const quote = text.indexOf('"', from);
      if (quote === -1) return null;
      if (text.charCodeAt(quote + 1) === QUOTE) {
        value += text.slice(from, quote + 1);
        from = quote + 2;
        continue;
      }
      value += text.slice(from, quote);
      i = quote + 1;
      break;
    }
    cells.push(value);
    while (i < end && isTrimmable(text.charCodeAt(i))) i++;
    if (i === end) return cells;
    if (text.charCodeAt(i) !== COMMA)
      throw new CsvSyntaxError(line, 'text after the closing quote of a quoted field');
    i++;
  }
}

/**
 * Splits CSV text, fed a piece at a time, into records: lists of trimmed cells, each with the 1-based line it
 * starts on. Blank lines are skipped. RFC 4180 quoting (fields over several lines, `""`), with csv-parse's
 * `trim` and `relax_quotes` readings; the test suite checks it against csv-parse itself.
 *
 * TRICKY: this is not csv-parse because csv-parse does some 130,000 records/s of CPU with the line numbers this
 * needs, below the 200,000 points/s the whole import must reach; lines without a quote, nearly all of them, are
 * split with String#split here.
 */
export class CsvSplitter {
  readonly #lines = new LineSplitter((text, line) => this.#takeLine(text, line));
  #open: { text: string; line: number } | null = null; // a record whose quoted field is not closed yet

  constructor(private readonly onRecord: (cells: string[], line: number) => void) {}

  /** Splits a piece of text. Throws CsvSyntaxError; the records before the error have been handed on. */
  push(text: string): void {
    this.#lines.push(text);
    const unfinished = this.#lines.pendingChars + (this.#open?.text.length ?? 0);
    if (unfinished > MAX_CSV_RECORD_CHARS) this.#tooLong();
  }

  /** The last line, when the text does not end with a newline; throws when a quoted field is left open. */
  end(): void {
    this.#lines.end();
    if (this.#open !== null)
      throw new CsvSyntaxError(this.#open.line, 'a quoted field starts here and is never closed');
  }

  #takeLine(text: string, line: number): void {
    const open = this.#open;
    if (open !== null) {
      open.text += `\n${text}`;
      if (open.text.length > MAX_CSV_RECORD_CHARS) this.#tooLong();
      // Only a quote can close the open field.
      if (!text.includes('"')) return;
      const cells = splitQuotedRecord(open.text, open.line);
      if (cells === null) return;
      this.#open = null;
      this.#emit(cells, open.line);
      return;
    }
    if (!text.includes('"')) {
      this.#emit(text.split(',').map(trimCell), line);
      return;
    }
    const cells = splitQuotedRecord(text, line);
    if (cells === null) this.#open = { text, line };
    else this.#emit(cells, line);
  }

  #emit(cells: string[], line: number): void {
    if (cells.some((cell) => cell !== '')) this.onRecord(cells, line);
  }

  #tooLong(): never {
    if (this.#open !== null)
      throw new CsvSyntaxError(
        this.#open.line,
        `a quoted field starts here and is not closed within ${MAX_CSV_RECORD_CHARS} characters`,
      );
    throw new CsvSyntaxError(this.#lines.line, `the line is longer than ${MAX_CSV_RECORD_CHARS} characters`);
  }
}

/**
 * The records of a challenge CSV, one array per input chunk. Positions are the 1-based line where each record
 * starts (a quoted field may span lines). Throws UnreadableFileError, naming the path and the line, when the header
 * lacks a needed column or the CSV syntax breaks (an unclosed quote): the records before that stand.
 */
export async function* readCsv(input: Readable, context: ReadContext): AsyncGenerator<ImportRecord[]> {
  let batch: ImportRecord[] = [];
  let columns: Columns | undefined;
  const splitter = new CsvSplitter((cells, line) => {
    if (columns === undefined) columns = headerColumns(cells, context);
    else batch.push(toRecord(cells, columns, line, context.user));
  });
  const decoder = new StringDecoder('utf8');
  // The records split before an error still go out, in the batch of their chunk, before the error does.
  const feed = (text: string, last: boolean): Error | undefined => {
    try {
      splitter.push(text);
      if (last) splitter.end();
      return undefined;
    } catch (error) {
      if (error instanceof CsvSyntaxError)
        return new UnreadableFileError(`${context.path}: ${error.message}`);
      return error instanceof Error ? error : new Error(String(error));
    }
  };

  for await (const chunk of input as AsyncIterable<Buffer>) {
    const failure = feed(decoder.write(chunk), false);
    if (batch.length > 0) yield batch;
    batch = [];
    if (failure) throw failure;
  }
  const failure = feed(decoder.end(), true);
  if (batch.length > 0) yield batch;
  if (failure) throw failure;
  if (columns === undefined) throw new UnreadableFileError(`${context.path}: empty: no CSV header line`);
}
