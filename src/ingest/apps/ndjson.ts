import { parse as parseJsonSecurely } from 'secure-json-parse';
import { jsonShapeProblem } from '../json-shape.js';
import type { Result } from '../point.js';

/** A body or batch beyond what the endpoint accepts; answered 413 with this message, or naming `maxBytes`. */
export class BatchTooLargeError extends Error {
  override name = 'BatchTooLargeError';

  constructor(
    message: string,
    /** The byte limit passed, when that is what was passed (the HTTP answer names it and the route). */
    readonly maxBytes?: number,
  ) {
    super(message);
  }
}

export interface NdjsonLimits {
  /** The whole body, in bytes. */
  maxBytes: number;
  /** One line, in bytes; a longer line is a rejected record, and is not kept in memory. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One NDJSON line as a value, or why it is not one (field `body`, like a whole PUT /location body). */
function parseLine(bytes: Buffer): Result<unknown> | null {
  // Nesting and size bounded before the parser builds anything, as for a whole JSON body.
  const shape = jsonShapeProblem(bytes);
  if (shape !== null) return { ok: false, errors: [{ field: 'body', message: shape }] };
  let text: string;
  try {
    text = utf8.decode(bytes).trim();
  } catch {
    return { ok: false, errors: [{ field: 'body', message: 'is not valid UTF-8' }] };
  }
  if (text === '') return null;
  try {
    // The same prototype-poisoning rules as the JSON bodies Fastify parses: a `__proto__` key is an error.
    const value: unknown = parseJsonSecurely(text, null, {
      protoAction: 'error',
      constructorAction: 'error',
    });
    return { ok: true, value };
  } catch (error) {
    return {
      ok: false,
      errors: [{ field: 'body', message: `is not valid JSON: ${(error as Error).message}` }],
    };
  }
}

/** Collects the bytes of the current line, forgetting them once the line is too long to be a record. */
class LineBuffer {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #tooLong = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#tooLong) return;
    if (this.#bytes > this.maxBytes) {
      this.#tooLong = true;
      this.#chunks = [];
    } else this.#chunks.push(chunk);
  }

  /** The finished line as a record; null for a blank line, which is not one. */
  take(): Result<unknown> | null {
    const record: Result<unknown> | null = this.#tooLong
      ? { ok: false, errors: [{ field: 'body', message: `is longer than ${this.maxBytes} bytes` }] }
      : parseLine(Buffer.concat(this.#chunks, this.#bytes));
    this.#chunks = [];
    this.#bytes = 0;
    this.#tooLong = false;
    return record;
  }
}

/**
 * The records of an NDJSON body, one per non-blank line, read as the bytes arrive: memory holds one line at a
 * time, whatever the size of the body. A line that is not JSON is a failed record, not a failed body.
 * Throws BatchTooLargeError once the body passes maxBytes.
 */
export async function* ndjsonRecords(
  source: AsyncIterable<Uint8Array | string>,
  limits: NdjsonLimits,
): AsyncGenerator<Result<unknown>> {
  const line = new LineBuffer(limits.maxLineBytes);
  let total = 0;
  for await (const piece of source) {
    let chunk =
      typeof piece === 'string'
        ? Buffer.from(piece)
        : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    total += chunk.length;
    if (total > limits.maxBytes)
      throw new BatchTooLargeError(`The body is larger than ${limits.maxBytes} bytes.`, limits.maxBytes);
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE)) {
      line.push(chunk.subarray(0, end));
      const record = line.take();
      if (record) yield record;
      chunk = chunk.subarray(end + 1);
    }
    line.push(chunk);
  }
  const last = line.take();
  if (last) yield last;
}
