/*
 * GPX 1.1 and 1.0 import: every `trkpt`, `rtept` and `wpt` is one record, its position the point's index among
 * all of them in file order (0-based). Elements are matched by local name, whatever their namespace prefix.
 *
 * - Time: the point's `<time>` child. GPX times are UTC by definition, so a time without `Z` or an offset gets a
 *   `Z`; with one it goes through as it is. A point without a time is a record error.
 * - Speed, m/s: GPX 1.0's `<speed>` child, else a `speed` element inside `<extensions>` (Garmin's
 *   TrackPointExtension `gpxtpx:speed`, Locus's own export `locus:speed`).
 * - Accuracy, metres: only an `accuracy` element inside `<extensions>` (Locus's own export writes one). `hdop` and
 *   `pdop` are ignored: a dilution of precision is a factor without a unit, and turning it into metres needs the
 *   receiver's own error figure, which no file records; a guessed figure would be averaged in as if measured, while
 *   null lets the engine average accuracy over the points that do carry it.
 * - Elevation, names and everything else are ignored. The files carry no user: --user is required.
 * - Text is read as UTF-8 (GPX files are; an `encoding` in the XML declaration is not honoured).
 * - Bounds: a value the reader keeps (`<time>`, `<speed>`, `accuracy`) longer than 64 KiB, or more than 16 MiB of
 *   input between two tags (text, a comment, CDATA, an attribute value, a DOCTYPE), stops the file. saxes holds the
 *   text of a captured element, a comment, CDATA or an attribute whole until it ends, so a `.gpx.gz` of a few MB
 *   with a gigabyte of text in one element would otherwise fill memory. Checked after each write, so at most one
 *   input chunk (64 KiB in an import) beyond the bound is held; text in elements the reader ignores is not kept by
 *   saxes at all, but it is bounded the same way, which no real GPX file comes near.
 */
import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import type { FieldError } from '../../../ingest/point.js';
import { UnreadableFileError, type FormatReader, type ImportRecord, type ReadContext } from '../../types.js';
import { errorRecord, fixRecord, readRecords, requireUser, RecordParser } from '../record-parser.js';

const POINT_ELEMENTS = new Set(['trkpt', 'rtept', 'wpt']);
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/;
const SAXES_POSITION = /^(\d+):(\d+): ([^]*)$/;

/** The longest value the reader keeps, in characters: a time or a number is under 40. */
export const MAX_GPX_VALUE_CHARS = 64 * 1024;
/** The most input, in characters, between two tags. */
export const MAX_GPX_UNTAGGED_CHARS = 16 * 1024 * 1024;

type Captured = 'time' | 'speed' | 'accuracy';

interface OpenPoint {
  item: number;
  depth: number;
  lat: string | undefined;
  lon: string | undefined;
  /** Depth of the point's `<extensions>` while inside it, else 0. */
  extensionsDepth: number;
  time: string | null;
  speed: string | null;
  accuracy: string | null;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

// 10^0 … 10^15: each a double exactly.
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, n) => 10 ** n);

/**
 * `[-+]digits[.digits]` with at most 15 digits in all, as a number; NaN for any other text. The digits make an
 * integer below 2^53 and 10^n is exact, so the one division is correctly rounded: the same double as Number(text)
 * (Clinger's fast path). Number() and the regular expression cost about 0.2 µs a call, four calls a point.
 */
export function plainDecimal(text: string): number {
  const length = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  const negative = c === 0x2d;
  if (negative || c === 0x2b) i++;
  const digitsStart = i;
  let mantissa = 0;
  let dot = -1;
  for (; i < length; i++) {
    c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) mantissa = mantissa * 10 + (c - 0x30);
    else if (c === 0x2e && dot < 0 && i > digitsStart) dot = i;
    else return NaN;
  }
  const digits = length - digitsStart - (dot < 0 ? 0 : 1);
  if (digits === 0 || digits > 15) return NaN;
  const value = dot < 0 ? mantissa : mantissa / POWERS_OF_TEN[length - dot - 1]!;
  return negative ? -value : value;
}

function decimal(text: string | null | undefined, field: string, errors: FieldError[]): number | null {
  if (text === null || text === undefined) return null;
  const fast = plainDecimal(text);
  if (!Number.isNaN(fast)) return fast;
  if (DECIMAL.test(text)) return Number(text);
  errors.push({ field, message: `must be a decimal number, not ${JSON.stringify(text.slice(0, 40))}` });
  return null;
}

function required(text: string | undefined, field: string, errors: FieldError[]): number | null {
  if (text === undefined) errors.push({ field, message: 'is required' });
  return decimal(text, field, errors);
}

function pointRecord(point: OpenPoint, user: string): ImportRecord {
  const errors: FieldError[] = [];
  const lat = required(point.lat, 'lat', errors);
  const long = required(point.lon, 'lon', errors);
  const time = point.time?.trim() ?? '';
  if (time === '') errors.push({ field: 'time', message: 'is required' });
  const speed = decimal(point.speed, 'speed', errors);
  const accuracy = decimal(point.accuracy, 'accuracy', errors);
  if (errors.length > 0 || lat === null || long === null) return errorRecord(point.item, errors);
  // A time ending in `Z` cannot match WITHOUT_ZONE: most GPX times, and no regular expression run for them.
  const timestamp = time.endsWith('Z') || !WITHOUT_ZONE.test(time) ? time : `${time}Z`;
  return fixRecord(point.item, { user_id: user, timestamp, lat, long, accuracy, speed });
}

class GpxParser extends RecordParser {
  readonly #user: string;
  readonly #parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  #depth = 0;
  #items = 0;
  #point: OpenPoint | null = null;
  #capture: Captured | null = null;
  #captureDepth = 0;
  #text = '';
  #started = false;
  /** saxes's position just after the last tag, open or close: the input since is held by saxes or skipped. */
  #lastTag = 0;
  /**
   * Characters written to saxes. Its `position` is right only inside a handler: once `write` returns, it counts the
   * chunk twice (its `chunkPosition` has moved on, and its index into the chunk is not yet reset).
   */
  #written = 0;

  constructor(user: string) {
    super();
    this.#user = user;
    this.#parser.on('opentag', (tag) => this.#open(tag));
    this.#parser.on('closetag', () => this.#close());
    this.#parser.on('cdata', (text) => this.#append(text));
  }

  #open(tag: SaxesTagPlain): void {
    this.#lastTag = this.#parser.position;
    const depth = ++this.#depth;
    const name = localName(tag.name);
    if (depth === 1 && name !== 'gpx')
      throw new UnreadableFileError(`the root element is <${tag.name}>, not <gpx>`);
    const point = this.#point;
    if (point === null) {
      if (POINT_ELEMENTS.has(name)) this.#point = this.#newPoint(tag, depth);
      return;
    }
    if (this.#capture !== null) return;
    if (depth === point.depth + 1) {
      if (name === 'time' || name === 'speed') this.#startCapture(name, depth);
      else if (name === 'extensions') point.extensionsDepth = depth;
    } else if (point.extensionsDepth > 0 && (name === 'speed' || name === 'accuracy')) {
      this.#startCapture(name, depth);
    }
  }

  #newPoint(tag: SaxesTagPlain, depth: number): OpenPoint {
    const { lat, lon } = tag.attributes;
    const item = this.#items++;
    return { item, depth, lat, lon, extensionsDepth: 0, time: null, speed: null, accuracy: null };
  }

  /**
   * Text is listened to only while an element is captured: saxes then skips slicing out and handing over every
   * other text node (the indentation between elements, several a point in a pretty-printed file). It reads the
   * handler when a text node starts, which is after the `>` of the captured element's tag.
   */
  #startCapture(field: Captured, depth: number): void {
    this.#capture = field;
    this.#captureDepth = depth;
    this.#text = '';
    this.#parser.on('text', this.#onText);
  }

  readonly #onText = (text: string): void => {
    this.#append(text);
  };

  #append(text: string): void {
    if (this.#capture === null) return;
    this.#text += text;
    if (this.#text.length > MAX_GPX_VALUE_CHARS) this.#tooLong();
  }

  #close(): void {
    this.#lastTag = this.#parser.position;
    const depth = this.#depth--;
    const point = this.#point;
    if (point === null) return;
    if (this.#capture !== null && depth === this.#captureDepth) {
      // The first of each wins: GPX 1.0's own <speed> comes before any extension.
      point[this.#capture] ??= this.#text;
      this.#capture = null;
      this.#parser.off('text');
    } else if (depth === point.extensionsDepth) {
      point.extensionsDepth = 0;
    } else if (depth === point.depth) {
      this.emit(pointRecord(point, this.#user));
      this.#point = null;
    }
  }

  write(text: string): void {
    if (!this.#started) this.#checkStart(text);
    this.#saxes(() => this.#parser.write(text));
    this.#written += text.length;
    const held = this.#written - this.#lastTag;
    if (held > (this.#capture === null ? MAX_GPX_UNTAGGED_CHARS : MAX_GPX_VALUE_CHARS)) this.#tooLong();
  }

  /** Stops the file at a value or a stretch without tags beyond its bound (see the bounds above). */
  #tooLong(): never {
    const { line, column } = this.#parser;
    const where = `line ${line}, column ${column}`;
    throw new UnreadableFileError(
      this.#capture === null
        ? `more than ${MAX_GPX_UNTAGGED_CHARS / 1024 / 1024} MiB of text, comment or attribute without a tag, at ${where}: not a GPX file`
        : `a <${this.#capture}> longer than ${MAX_GPX_VALUE_CHARS / 1024} KiB, at ${where}: not a GPX value`,
    );
  }

  end(): void {
    this.#saxes(() => this.#parser.close());
  }

  /** Says "not XML" for a file that is not, rather than what saxes finds wrong at its end. */
  #checkStart(text: string): void {
    const start = text.trimStart().replace(/^\uFEFF\s*/, '');
    if (start === '') return;
    this.#started = true;
    if (!start.startsWith('<'))
      throw new UnreadableFileError(`not XML: it starts with ${JSON.stringify(start.slice(0, 10))}`);
  }

  #saxes(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof UnreadableFileError || !(error instanceof Error)) throw error;
      const at = SAXES_POSITION.exec(error.message);
      const where = at ? ` at line ${at[1]}, column ${at[2]}` : '';
      throw new UnreadableFileError(`not well-formed XML${where}: ${at ? at[3] : error.message}`);
    }
  }
}

export const readGpx: FormatReader = (input: Readable, context: ReadContext) =>
  (async function* () {
    yield* readRecords(input, new GpxParser(requireUser(context.user, 'GPX')));
  })();
