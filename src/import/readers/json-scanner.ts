/*
 * A push parser for the one JSON shape the import formats share: a top-level object whose big member is an array
 * (`locations`, `features`). Each item of such an array is handed over on its own as soon as its text is complete;
 * every other member is handed over whole. Memory holds one item at a time, whatever the file's size.
 *
 * Why not stream-json's token parser: on a Takeout file it tokenizes at about half the speed this reaches with
 * tokens alone, before any object is assembled (bench/import-parse.ts measures both). Here the scanner only finds
 * where an item ends (brackets and strings) and JSON.parse, which is native, reads and checks the item: all JSON
 * syntax inside an item is JSON.parse's, and the few tokens around items are checked below.
 *
 * Speed (bench/import-parse.ts): the items complete in one write are parsed by a single JSON.parse of their text
 * as an array, which costs a quarter less than one call per item; only when that fails are they parsed one by one,
 * which finds the bad item and its position exactly as before. Item ends are found by a char-code loop (a regular
 * expression's exec allocated a match per structural character, eight or more per Takeout item), and most of the
 * time not at all: once a write, the text up to the last plausible item end is parsed as it is (#takeRun), which
 * only succeeds where the scan would have found the same items. On a Google-style Records.json the scan was a
 * third of the reading.
 */
import { UnreadableFileError } from '../types.js';

export interface ScannerHandlers {
  /** An array member named in `arrayKeys` begins (its items follow, if any). */
  array(key: string): void;
  /** An item of an array member named in `arrayKeys`; `index` counts from 0 within that array. */
  item(key: string, index: number, value: unknown): void;
  /** Any other member of the top-level object, whole. */
  member(key: string, value: unknown): void;
}

/*
 * Bounds on one item or member, beyond which the file stops (UnreadableFileError) rather than fill memory. A
 * location record (a Takeout location, a GeoJSON Point feature) is well under 1 KiB, a few levels deep, with a
 * handful of arrays and objects. The scan checks them as it goes, so a hostile value stops at the first write that
 * passes one, before its text is kept whole or parsed: a 61 KB .gz of `[[[[…` 30 million deep was kept (its text
 * re-copied at every write) and would then have been built by JSON.parse, gigabytes. What JSON.parse builds of
 * 16 MiB of text is at most about 150 MB (a flat array of numbers) once arrays and objects are bounded too (`{},`
 * is 3 characters of text and about 90 bytes of heap). Items that complete within one write may be parsed by
 * #takeRun without a scan, so these bounds do not apply to them: their text is bounded by the write (a 64 KiB
 * chunk in an import), and so is what JSON.parse builds of them.
 */
/** One item or member longer than this many characters. */
export const MAX_VALUE_CHARS = 16 * 1024 * 1024;
/** Nesting deeper than this, counted from the top-level object (a Takeout item's activities are at level 5). */
export const MAX_DEPTH = 64;
/** More arrays and objects than this in one item or member. */
export const MAX_CONTAINERS = 1_000_000;

const enum State {
  Root,
  FirstKey,
  NextKey,
  Key,
  Colon,
  Value,
  Member,
  FirstItem,
  NextItem,
  Item,
  AfterItem,
  AfterMember,
  Done,
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const BOM = 0xfeff;

// What ends a number or literal.
const PRIMITIVE_END = /[,}\]\s]/g;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class JsonMemberScanner {
  readonly #arrayKeys: ReadonlySet<string>;
  readonly #handlers: ScannerHandlers;
  readonly #maxValueChars: number;
  readonly #maxDepth: number;
  #text = '';
  #pos = 0;
  #state = State.Root;
  #ended = false;
  /** Lines and characters of the text already dropped, for error positions. */
  #droppedLines = 0;
  #droppedLineStart = 0;
  #droppedChars = 0;
  #key = '';
  #index = 0;
  // The value being scanned: where it starts, how far the scan got, bracket depth, inside a string or not.
  #valueStart = 0;
  #scanPos = 0;
  #depth = 0;
  /** How deep the value being scanned may nest: MAX_DEPTH less the levels above it. */
  #depthLeft = 0;
  /** Arrays and objects opened so far in the value being scanned. */
  #opened = 0;
  #inString = false;
  /**
   * Items whose text is complete and not yet parsed: start and end offsets in `#text`, in pairs, and the index of
   * the first. Only commas and whitespace lie between them (the state machine saw to it).
   */
  #pending: number[] = [];
  #pendingIndex = 0;
  /** Whether this write may still try #takeRun, and how its tries went in this file. */
  #mayGuess = true;
  #guessed = 0;
  #missed = 0;

  constructor(
    arrayKeys: Iterable<string>,
    handlers: ScannerHandlers,
    maxValueChars = MAX_VALUE_CHARS,
    maxDepth = MAX_DEPTH,
  ) {
    this.#arrayKeys = new Set(arrayKeys);
    this.#handlers = handlers;
    this.#maxValueChars = maxValueChars;
    this.#maxDepth = maxDepth;
  }

  write(text: string): void {
    this.#text = this.#text.length === this.#pos ? text : this.#text + text;
    // Once a file's guesses miss often (nested arrays of objects in its items), they stop: a miss costs a parse.
    this.#mayGuess = this.#missed <= this.#guessed / 4 + 2;
    this.#run();
    this.#compact();
  }

  end(): void {
    this.#ended = true;
    this.#run();
    if (this.#state !== State.Done) this.#fail(this.#text.length, 'the file ends before its JSON does');
  }

  #run(): void {
    this.#scan();
    this.#flushItems();
  }

  #scan(): void {
    const text = this.#text;
    for (;;) {
      if (this.#state === State.Item) {
        if (this.#mayGuess && this.#scanPos === this.#valueStart && this.#takeRun()) continue;
        const end = this.#scanEnd();
        if (end < 0) return;
        if (this.#pending.length === 0) this.#pendingIndex = this.#index;
        this.#pending.push(this.#valueStart, end);
        this.#index++;
        this.#pos = end;
        this.#state = State.AfterItem;
        continue;
      }
      if (this.#state === State.Member || this.#state === State.Key) {
        const end = this.#scanEnd();
        if (end < 0) return;
        this.#pos = end;
        this.#valueDone(this.#parse(this.#valueStart, end));
        continue;
      }
      let pos = this.#pos;
      let c = text.charCodeAt(pos);
      while (isSpace(c) || (c === BOM && this.#state === State.Root && this.#droppedChars + pos === 0)) {
        c = text.charCodeAt(++pos);
      }
      this.#pos = pos;
      if (pos >= text.length) return;
      if (!this.#step(c)) return;
    }
  }

  /**
   * Once a write, at the start of an object item: guesses that the last `}` followed by `,` or `]` in the text
   * ends an item, and parses the text up to it as the rest of the array. When that parses, the guess was right and
   * the items are handed over with no scan for their ends: in valid JSON brackets balance and strings close, so the
   * array's top-level values are exactly the items the scan would find (a `}` inside a string or a nested object
   * leaves the text unparseable, and a `}` cannot end a number early). When it does not parse, nothing happened:
   * the scan goes on from the same place, finds any fault as before, and the parse was wasted.
   */
  #takeRun(): boolean {
    this.#mayGuess = false;
    const text = this.#text;
    const start = this.#valueStart;
    if (text.charCodeAt(start) !== OPEN_BRACE) return false;
    const cut = lastItemEnd(text, start);
    if (cut < 0) return false;
    let values: unknown[];
    try {
      values = JSON.parse(`[${text.slice(start, cut)}]`) as unknown[];
    } catch {
      this.#missed++;
      return false;
    }
    this.#guessed++;
    this.#flushItems();
    const key = this.#key;
    for (const value of values) this.#handlers.item(key, this.#index++, value);
    this.#pos = cut;
    this.#state = State.AfterItem;
    return true;
  }

  /** Parses the pending items and hands them over in order; the first bad one fails as it would on its own. */
  #flushItems(): void {
    const pending = this.#pending;
    const count = pending.length / 2;
    if (count === 0) return;
    this.#pending = [];
    const first = this.#pendingIndex;
    const key = this.#key;
    let values: unknown[] | undefined;
    if (count > 1) {
      try {
        values = JSON.parse(`[${this.#text.slice(pending[0], pending[pending.length - 1])}]`) as unknown[];
        // Cannot differ (brackets balance in valid JSON, so its top-level commas are the scanner's), but cheap.
        if (values.length !== count) values = undefined;
      } catch {
        // Some item is not valid JSON: parsed one by one below, which reports it and hands over those before it.
      }
    }
    for (let i = 0; i < count; i++) {
      const value = values === undefined ? this.#parse(pending[2 * i]!, pending[2 * i + 1]!) : values[i];
      this.#handlers.item(key, first + i, value);
    }
  }

  /** Acts on the character `c` at the scan position in a state between values; false when the document is over. */
  #step(c: number): boolean {
    const pos = this.#pos;
    switch (this.#state) {
      case State.Root:
        if (c !== OPEN_BRACE) {
          const start = JSON.stringify(this.#text.slice(pos, pos + 10));
          throw new UnreadableFileError(`not a JSON object: it starts with ${start}`);
        }
        return this.#advance(State.FirstKey);
      case State.FirstKey:
        if (c === CLOSE_BRACE) return this.#advance(State.Done);
        return this.#startValue(c === QUOTE, State.Key, 'a member name in double quotes');
      case State.NextKey:
        return this.#startValue(c === QUOTE, State.Key, 'a member name in double quotes');
      case State.Colon:
        if (c !== COLON) this.#fail(pos, "expected ':' after a member name");
        return this.#advance(State.Value);
      case State.Value:
        if (c === OPEN_BRACKET && this.#arrayKeys.has(this.#key)) {
          this.#index = 0;
          this.#handlers.array(this.#key);
          return this.#advance(State.FirstItem);
        }
        return this.#startValue(isValueStart(c), State.Member, 'a value');
      case State.FirstItem:
        if (c === CLOSE_BRACKET) return this.#advance(State.AfterMember);
        return this.#startValue(isValueStart(c), State.Item, 'a value');
      case State.NextItem:
        return this.#startValue(isValueStart(c), State.Item, 'a value');
      case State.AfterItem:
        if (c === COMMA) return this.#advance(State.NextItem);
        if (c === CLOSE_BRACKET) {
          // The array's items go before whatever follows it.
          this.#flushItems();
          return this.#advance(State.AfterMember);
        }
        return this.#fail(pos, "expected ',' or ']' after an array item");
      case State.AfterMember:
        if (c === COMMA) return this.#advance(State.NextKey);
        if (c === CLOSE_BRACE) return this.#advance(State.Done);
        return this.#fail(pos, "expected ',' or '}' after a member");
      default:
        return this.#fail(pos, 'unexpected text after the JSON object');
    }
  }

  #advance(state: State): boolean {
    this.#pos++;
    this.#state = state;
    return true;
  }

  #startValue(valid: boolean, state: State, expected: string): boolean {
    if (!valid) return this.#fail(this.#pos, `expected ${expected}`);
    this.#valueStart = this.#pos;
    this.#scanPos = this.#pos;
    this.#depth = 0;
    // An item sits in the top-level object's array (two levels), a member or a key in the object (one).
    this.#depthLeft = this.#maxDepth - (state === State.Item ? 2 : 1);
    this.#opened = 0;
    this.#inString = false;
    this.#state = state;
    return true;
  }

  /** The end of the value that starts at the value start, or -1 if the text stops before it. */
  #scanEnd(): number {
    const text = this.#text;
    const first = text.charCodeAt(this.#valueStart);
    const end =
      first === OPEN_BRACE || first === OPEN_BRACKET
        ? this.#scanContainer()
        : first === QUOTE
          ? this.#scanString()
          : this.#scanPrimitive();
    if ((end < 0 ? text.length : end) - this.#valueStart > this.#maxValueChars) {
      this.#fail(this.#valueStart, `a JSON value longer than ${this.#maxValueChars} characters`);
    }
    return end;
  }

  /** The value whose text lies between `start` and `end`. */
  #parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.#text.slice(start, end)) as unknown;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const at = /at position (\d+)/.exec(message);
      return this.#fail(start + (at ? Number(at[1]) : 0), message);
    }
  }

  /**
   * The end of an object or array that starts at the value start, or -1 if the text stops before it. Strings are
   * skipped by indexOf for their closing quote: a long one costs no loop turn per character.
   */
  #scanContainer(): number {
    const text = this.#text;
    const length = text.length;
    let i = this.#scanPos;
    if (this.#inString) {
      const close = this.#closingQuote(i);
      if (close < 0) {
        this.#scanPos = length;
        return -1;
      }
      this.#inString = false;
      i = close + 1;
    }
    let depth = this.#depth;
    const depthLeft = this.#depthLeft;
    let opened = this.#opened;
    for (; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const close = this.#closingQuote(i + 1);
        if (close < 0) {
          this.#inString = true;
          i = length;
          break;
        }
        i = close;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > depthLeft || ++opened > MAX_CONTAINERS) this.#tooBig(i, depth > depthLeft);
      } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
        return i + 1;
      }
    }
    this.#depth = depth;
    this.#opened = opened;
    this.#scanPos = length;
    return -1;
  }

  /** Stops at the bracket at `at`, which nests too deep or opens one container too many. */
  #tooBig(at: number, deep: boolean): never {
    this.#fail(
      at,
      deep
        ? `JSON nested deeper than ${this.#maxDepth} levels`
        : `more than ${MAX_CONTAINERS} arrays and objects in one JSON value`,
      true,
    );
  }

  #scanString(): number {
    const close = this.#closingQuote(Math.max(this.#scanPos, this.#valueStart + 1));
    if (close < 0) {
      this.#scanPos = this.#text.length;
      return -1;
    }
    return close + 1;
  }

  #scanPrimitive(): number {
    PRIMITIVE_END.lastIndex = this.#scanPos;
    const m = PRIMITIVE_END.exec(this.#text);
    if (m !== null) return m.index;
    if (this.#ended) return this.#text.length;
    this.#scanPos = this.#text.length;
    return -1;
  }

  /** The index of the quote that closes a string, searching from `from`; -1 when the text stops first. */
  #closingQuote(from: number): number {
    const text = this.#text;
    for (let quote = text.indexOf('"', from); quote >= 0; quote = text.indexOf('"', quote + 1)) {
      let backslashes = 0;
      while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) return quote;
    }
    return -1;
  }

  #valueDone(value: unknown): void {
    switch (this.#state) {
      case State.Key:
        this.#key = value as string;
        this.#state = State.Colon;
        break;
      default:
        this.#state = State.AfterMember;
        this.#handlers.member(this.#key, value);
    }
  }

  /** Drops the text that is read, keeping the value being scanned. */
  #compact(): void {
    const inValue = this.#state === State.Item || this.#state === State.Member || this.#state === State.Key;
    const keep = inValue ? this.#valueStart : this.#pos;
    if (keep === 0) return;
    this.#countLines(keep);
    this.#text = this.#text.slice(keep);
    this.#droppedChars += keep;
    this.#droppedLineStart -= keep;
    this.#pos -= keep;
    this.#valueStart -= keep;
    this.#scanPos -= keep;
  }

  #countLines(upTo: number): void {
    const text = this.#text;
    for (let nl = text.indexOf('\n'); nl >= 0 && nl < upTo; nl = text.indexOf('\n', nl + 1)) {
      this.#droppedLines++;
      this.#droppedLineStart = nl + 1;
    }
  }

  /** Stops the file at `at`: JSON that is not valid, or (`limit`) valid but beyond what a location file holds. */
  #fail(at: number, message: string, limit = false): never {
    // The items before the fault are handed over first (or the first bad one among them fails instead).
    this.#flushItems();
    this.#countLines(at);
    const line = this.#droppedLines + 1;
    const column = at - this.#droppedLineStart + 1;
    throw new UnreadableFileError(
      limit
        ? `${message} at line ${line}, column ${column}: not a location file`
        : `not valid JSON at line ${line}, column ${column}: ${message}`,
    );
  }
}

/** Tries at most this many `}` from the end: a run of them not followed by `,` or `]` is not a list of items. */
const MAX_GUESS_BRACES = 16;

/** Just after the last `}` after `start` followed by `,` or `]` (whitespace between), or -1. */
function lastItemEnd(text: string, start: number): number {
  let brace = text.lastIndexOf('}');
  for (let tries = 0; brace > start && tries < MAX_GUESS_BRACES; tries++) {
    let next = brace + 1;
    while (isSpace(text.charCodeAt(next))) next++;
    const c = text.charCodeAt(next);
    if (c === COMMA || c === CLOSE_BRACKET) return brace + 1;
    brace = text.lastIndexOf('}', brace - 1);
  }
  return -1;
}

function isValueStart(c: number): boolean {
  return c !== COMMA && c !== CLOSE_BRACKET && c !== CLOSE_BRACE && c !== COLON;
}
