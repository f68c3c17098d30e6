import type { ImportFormat } from './types.js';

/*
 * Format detection from the first bytes of a file's (decompressed) content. The head may end anywhere, in the
 * middle of a JSON string or an XML comment, so nothing here parses it whole: each check reads as far as it needs
 * and answers "don't know" when the head ends first.
 */

/** The CSV columns a file needs to be read as challenge CSV (user_id may come from --user instead). */
export const CSV_REQUIRED_COLUMNS = ['timestamp', 'lat', 'long'] as const;

// OwnTracks Recorder: `2017-01-01T18:05:12Z<TAB>*                 <TAB>{"_type":…}` (the tag is padded to 18).
const REC_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\t[^\t\r\n]*\t[ ]*\{/;

/**
 * The format of a file from its first bytes, or null when it is none that `locus import` reads. The content
 * decides, never the name: a `.json` may hold GeoJSON or Takeout, and `--format` (the caller's job) overrides.
 */
export function detectFormat(head: Buffer, _path: string): ImportFormat | null {
  let text = head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const start = skipWhitespace(text, 0);
  const first = text[start];
  if (first === '<') return isGpx(text, start) ? 'gpx' : null;
  if (first === '{') return detectJson(text, start);
  const line = firstLine(text, start);
  if (REC_LINE.test(line)) return 'owntracks-rec';
  if (isChallengeCsvHeader(line)) return 'csv';
  return null;
}

function skipWhitespace(text: string, at: number): number {
  let i = at;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

function firstLine(text: string, at: number): string {
  const end = text.indexOf('\n', at);
  return (end === -1 ? text.slice(at) : text.slice(at, end)).replace(/\r$/, '');
}

// ---- GPX ----

/** Whether the first element, after the XML declaration, comments, processing instructions and DOCTYPE, is <gpx>. */
function isGpx(text: string, from: number): boolean {
  let i = from;
  for (;;) {
    i = skipWhitespace(text, i);
    if (text.startsWith('<?', i)) i = afterToken(text, i, '?>');
    else if (text.startsWith('<!--', i)) i = afterToken(text, i + 4, '-->');
    else if (text.startsWith('<!DOCTYPE', i)) i = afterToken(text, i, '>');
    else break;
    if (i === -1) return false;
  }
  // A namespace prefix (`<gpx:gpx`) is legal XML, if rare.
  return /^<(?:[A-Za-z_][\w.-]*:)?gpx[\s/>]/.test(text.slice(i, i + 64));
}

function afterToken(text: string, from: number, token: string): number {
  const end = text.indexOf(token, from);
  return end === -1 ? -1 : end + token.length;
}

// ---- CSV ----

/** Whether a line is a CSV header with the challenge columns, in any order, quoted or not, with spaces. */
function isChallengeCsvHeader(line: string): boolean {
  if (!line.includes(',')) return false;
  const names = new Set(
    line.split(',').map((cell) =>
      cell
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim(),
    ),
  );
  return CSV_REQUIRED_COLUMNS.every((name) => names.has(name));
}

// ---- JSON ----

/** The head ended before the answer: detection gives up rather than guesses. */
class HeadEnded extends Error {}

/** Not the JSON shape of any import format. */
class NoMatch extends Error {}

/**
 * A forward-only reader of a JSON prefix: just what detection needs (strings, and skipping any value).
 * It trusts the input to be JSON and stops at the first thing that is not.
 */
class JsonScanner {
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

  /** Calls `member` with each key of the object that starts here, stopping when it returns a verdict. */
  members<T>(member: (key: string) => T | undefined): T | undefined {
    this.expect('{');
    if (this.accept('}')) return undefined;
    do {
      const key = this.string();
      this.expect(':');
      const verdict = member(key);
      if (verdict !== undefined) return verdict;
    } while (this.accept(','));
    this.expect('}');
    return undefined;
  }
}

/**
 * GeoJSON: a top-level `"type": "FeatureCollection"` or `"Feature"`, or a `features` array of Features (for when
 * `type` comes last). Overland: `locations` of Features. Takeout: `locations` of objects with `latitudeE7`.
 */
function detectJson(text: string, at: number): ImportFormat | null {
  const json = new JsonScanner(text, at);
  try {
    return (
      json.members<ImportFormat>((key) => {
        if (key === 'type' && json.peek() === '"') {
          const type = json.string();
          return type === 'FeatureCollection' || type === 'Feature' ? 'geojson' : undefined;
        }
        if (key === 'locations') return firstItemFormat(json, ['geojson', 'takeout']);
        if (key === 'features') return firstItemFormat(json, ['geojson']);
        json.skipValue();
        return undefined;
      }) ?? null
    );
  } catch (error) {
    if (error instanceof HeadEnded || error instanceof NoMatch) return null;
    throw error;
  }
}

/** What the first item of the array here says: a Feature (GeoJSON) or a Takeout record. Skips the array if neither. */
function firstItemFormat(json: JsonScanner, allowed: readonly ImportFormat[]): ImportFormat | undefined {
  const start = json.i;
  const verdict = json.peek() === '[' ? firstItemVerdict(json) : undefined;
  if (verdict !== undefined && allowed.includes(verdict)) return verdict;
  // Neither: skip the whole value, and let the object's other keys speak.
  json.i = start;
  json.skipValue();
  return undefined;
}

function firstItemVerdict(json: JsonScanner): ImportFormat | undefined {
  json.expect('[');
  if (json.peek() !== '{') return undefined;
  return json.members<ImportFormat>((key) => {
    if (key === 'latitudeE7' || key === 'longitudeE7') return 'takeout';
    if (key === 'type' && json.peek() === '"') return json.string() === 'Feature' ? 'geojson' : undefined;
    json.skipValue();
    return undefined;
  });
}

/** A JSON string's content with its escapes decoded; NoMatch when they are not JSON escapes. */
function decodeJsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    throw new NoMatch();
  }
}
