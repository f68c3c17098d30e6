/**
 * Splits text, fed a piece at a time, into lines, for the line formats (CSV, OwnTracks .rec): `onLine` gets each
 * line without its `\n` or `\r\n`, with its 1-based number. A leading byte-order mark is dropped.
 *
 * With a `longLines` limit, a line longer than it is not kept in memory: its text is dropped as soon as it passes
 * the limit, and `onLongLine` gets its number when it ends. Without one, `pendingChars` lets the caller set a limit
 * of its own (CSV's counts a record, which may span lines).
 */
export class LineSplitter {
  #carry = ''; // the current line so far, when it started in an earlier piece
  #dropped = false; // the current line passed longLines.maxChars: its text is not kept
  #line = 1;
  #started = false;

  constructor(
    private readonly onLine: (text: string, line: number) => void,
    private readonly longLines?: { maxChars: number; onLongLine: (line: number) => void },
  ) {}

  /** The 1-based number of the line not yet ended. */
  get line(): number {
    return this.#line;
  }

  /** How much of the line not yet ended is held. */
  get pendingChars(): number {
    return this.#carry.length;
  }

  /** Splits a piece of text; what `onLine` throws goes through, after the lines before it. */
  push(text: string): void {
    let piece = text;
    if (!this.#started && piece.length > 0) {
      this.#started = true;
      if (piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
    }
    let start = 0;
    for (let newline = piece.indexOf('\n'); newline !== -1; newline = piece.indexOf('\n', start)) {
      this.#end(this.#carry === '' ? piece.slice(start, newline) : this.#carry + piece.slice(start, newline));
      start = newline + 1;
    }
    if (!this.#dropped) this.#carry += piece.slice(start);
    if (this.longLines !== undefined && this.#carry.length > this.longLines.maxChars) {
      this.#dropped = true;
      this.#carry = '';
    }
  }

  /** The input is over: the last line, when the text does not end with a newline. */
  end(): void {
    if (this.#dropped || this.#carry !== '') this.#end(this.#carry);
  }

  #end(raw: string): void {
    const text = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw;
    const dropped = this.#dropped;
    this.#carry = '';
    this.#dropped = false;
    if (dropped) this.longLines?.onLongLine(this.#line++);
    else this.onLine(text, this.#line++);
  }
}
