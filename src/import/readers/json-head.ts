/*
 * What the top-level JSON object at the start of a head says, as detectors need it: its keys, its string values,
 * and the keys and string values of the first item of each array member, each with where it ends in the text.
 * The head may end anywhere: reading stops there, or at the first thing that is not JSON, and what was read before
 * stands. Other values (nested objects, the rest of an array) are skipped without being checked.
 */

/** A key, or a string value, of the head's top-level object or of the first item of one of its array members. */
export interface JsonSignal {
  /** The top-level member's key. */
  key: string;
  /** Inside that member's array: the key of its first item's member. */
  itemKey?: string;
  /** The member's string value once read; undefined for the key alone (which is signalled first). */
  value?: string;
  /** Where in the text the signal ends. */
  at: number;
}

/** The signals of the JSON object that starts at `at`, in text order. */
export function jsonSignals(text: string, at: number): JsonSignal[] {
  const signals: JsonSignal[] = [];
  const json = new JsonPrefix(text, at);
  try {
    json.members((key) => {
      signals.push({ key, at: json.i });
      memberSignals(json, key, signals);
    });
  } catch (error) {
    if (!(error instanceof HeadEnded || error instanceof NoMatch)) throw error;
  }
  return signals;
}

function memberSignals(json: JsonPrefix, key: string, signals: JsonSignal[]): void {
  const first = json.peek();
  if (first === '"') signals.push({ key, value: json.string(), at: json.i });
  else if (first === '[') firstItemSignals(json, key, signals);
  else json.skipValue();
}

/** The signals of an array's first item, when it is an object; then the whole array is skipped. */
function firstItemSignals(json: JsonPrefix, key: string, signals: JsonSignal[]): void {
  const start = json.i;
  json.expect('[');
  if (json.peek() === '{') {
    json.members((itemKey) => {
      signals.push({ key, itemKey, at: json.i });
      if (json.peek() === '"') signals.push({ key, itemKey, value: json.string(), at: json.i });
      else json.skipValue();
    });
  }
  json.i = start;
  json.skipValue();
}

export function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/** The head ended before the answer: detection gives up rather than guesses. */
class HeadEnded extends Error {}

/** Not the JSON shape of any import format. */
class NoMatch extends Error {}

/**
 * A forward-only reader of a JSON prefix: just what detection needs (strings, and skipping any value).
 * It trusts the input to be JSON and stops at the first thing that is not.
 */
class JsonPrefix {
  i: number;

  constructor(
    private readonly text: string,
    at: number,
  ) {
    this.i = at;
  }

  /** The next non-space character, not consumed. */
  peek(): string {
    this.i = skipWhitespace(this.text, this.i);
    if (this.i >= this.text.length) throw new HeadEnded();
    return this.text[this.i]!;
  }

  expect(char: string): void {
    if (this.peek() !== char) throw new NoMatch();
    this.i++;
  }

  /** Consumes `char` if it is next. */
  accept(char: string): boolean {
    if (this.peek() !== char) return false;
    this.i++;
    return true;
  }

  string(): string {
    this.expect('"');
    const begin = this.i;
    let escaped = false;
    for (; this.i < this.text.length; this.i++) {
      const c = this.text[this.i];
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') {
        const raw = this.text.slice(begin, this.i);
        this.i++;
        return raw.includes('\\') ? decodeJsonString(raw) : raw;
      }
    }
    throw new HeadEnded();
  }

  /** Skips one value of any kind, nested ones included. */
  skipValue(): void {
    const c = this.peek();
    if (c === '"') {
      this.string();
      return;
    }
    if (c === '{' || c === '[') {
      this.skipContainer();
      return;
    }
    const end = /[\s,\]}]/.exec(this.text.slice(this.i, this.i + 64));
    if (end === null) throw new HeadEnded();
    if (end.index === 0) throw new NoMatch();
    this.i += end.index;
  }

  private skipContainer(): void {
    let depth = 0;
    for (; this.i < this.text.length; this.i++) {
      const c = this.text[this.i];
      if (c === '"') {
        this.string();
        this.i--;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          this.i++;
          return;
        }
      }
    }
    throw new HeadEnded();
  }

  /** Calls `member` with each key of the object that starts here, after its colon: `member` reads the value. */
  members(member: (key: string) => void): void {
    this.expect('{');
    if (this.accept('}')) return;
    do {
      const key = this.string();
      this.expect(':');
      member(key);
    } while (this.accept(','));
    this.expect('}');
  }
}

/** A JSON string's content with its escapes decoded; NoMatch when they are not JSON escapes. */
function decodeJsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    throw new NoMatch();
  }
}
