import { jsonSignals, skipWhitespace, type JsonSignal } from './json-head.js';

/*
 * The first bytes of a file's (decompressed) content, as the formats' detectors read them. The head may end
 * anywhere, in the middle of a line, a JSON string or an XML comment, so nothing here parses it whole: each view
 * reads as far as it needs, and a detector answers "not mine" when the head ends before it knows.
 */

export class FileHead {
  /** The head as text, without a byte-order mark. */
  readonly text: string;
  /** Where the content starts: after any leading whitespace. */
  readonly start: number;
  #json: readonly JsonSignal[] | undefined;

  constructor(bytes: Buffer) {
    const text = bytes.toString('utf8');
    this.text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    this.start = skipWhitespace(this.text, 0);
  }

  /** The first index from `at` on that is not whitespace. */
  skipWhitespace(at: number): number {
    return skipWhitespace(this.text, at);
  }

  /** The first character of the content; '' for a blank head. */
  get first(): string {
    return this.text[this.start] ?? '';
  }

  /** The first line of the content, without its line break, and where it ends (its `\n`, or the head's end). */
  firstLine(): { text: string; end: number } {
    const newline = this.text.indexOf('\n', this.start);
    const end = newline === -1 ? this.text.length : newline;
    return { text: this.text.slice(this.start, end).replace(/\r$/, ''), end };
  }

  /**
   * Where the first signal of the head's top-level JSON object that `mine` accepts ends, or null: none does, or
   * the content is not a JSON object. The signals are read once, whichever formats ask.
   */
  jsonEvidence(mine: (signal: JsonSignal) => boolean): number | null {
    this.#json ??= this.first === '{' ? jsonSignals(this.text, this.start) : [];
    return this.#json.find(mine)?.at ?? null;
  }
}
