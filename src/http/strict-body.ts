import { errorCodes } from 'fastify';
import { parse as parseJsonSecurely } from 'secure-json-parse';
import { jsonShapeProblem } from '../ingest/json-shape.js';

/*
 * Bodies are bytes; Node's default decoding replaces bytes that are not UTF-8 with U+FFFD, which would store
 * `a\xff` and `a\xfe` as the same user id `a\uFFFD`. Locus decodes strictly instead and refuses such a body with
 * 400, as the NDJSON reader already does for each line.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body that cannot be read; answered 400 `malformed-body` with the message (see errors.ts). */
export class MalformedBodyError extends Error {
  override name = 'MalformedBodyError';
  readonly statusCode = 400;

  /** The problem's detail, when it says more than that the body cannot be read (a limit passed). */
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new MalformedBodyError('is not valid UTF-8');
  }
}

/**
 * A JSON body, with prototype-poisoning keys (`__proto__`, `constructor.prototype`) refused, and bodies nested
 * too deep or holding too many values refused before they are parsed (json-shape.ts).
 */
export function parseJsonBody(body: Buffer): unknown {
  const shape = jsonShapeProblem(body);
  if (shape !== null) throw new MalformedBodyError(shape, `The body ${shape}; Locus does not parse it.`);
  const text = decodeUtf8(body);
  // Fastify's own error, so that an empty body is answered as it always was.
  if (text.trim() === '') throw new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
  try {
    return parseJsonSecurely(text, null, { protoAction: 'error', constructorAction: 'error' }) as unknown;
  } catch (error) {
    throw new MalformedBodyError(`is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * `application/x-www-form-urlencoded` or a query string, strictly: `+` is a space, and a percent-escape that is
 * not UTF-8 (`%ff`, a lone surrogate `%ED%A0%80`) is refused rather than turned into U+FFFD.
 */
export function parseFormStrictly(text: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    const value = equals === -1 ? '' : pair.slice(equals + 1);
    params.append(decodeComponent(name), decodeComponent(value));
  }
  return params;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new MalformedBodyError(
      `has a parameter that is not valid percent-encoded UTF-8: ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
}

/** A Fastify buffer body parser from a function that parses a whole body or throws (answered as a bad body). */
export function bufferParser(parse: (body: Buffer) => unknown) {
  return (_request: unknown, body: Buffer, done: (error: Error | null, value?: unknown) => void): void => {
    let value: unknown;
    try {
      value = parse(body);
    } catch (error) {
      done(error as Error);
      return;
    }
    // Outside the try: whatever Fastify does next must not be taken for a bad body, nor call done twice.
    done(null, value);
  };
}
