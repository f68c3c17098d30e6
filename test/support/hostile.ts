/*
 * Shared by the bad-input tests (test/http/fuzz-*.test.ts, injection.test.ts): what every answer must look like,
 * how much the store holds, hostile bodies, and a raw HTTP client for requests no well-behaved client sends.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { generateTrace, type TraceRow } from '../../src/tools/generate/trace.js';
import type { Store } from '../../src/store/store.js';
import { assertProblem, type Answer } from './problem.js';
import { allUsers } from './users.js';

/** Format and bidi characters (Unicode category Cf), which no user id may hold: invisible, or reordering text. */
export const FORMAT_CHARACTERS = [
  '\u00ad',
  '\u061c',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202a',
  '\u202e',
  '\u2060',
  '\u2066',
  '\u2069',
  '\ufeff',
  '\u{e0041}',
];

/** 200, or a 4xx whose body is an RFC 9457 problem with the same status; never a 5xx. */
export function assertAnswered(answer: Answer, what: string): void {
  const { statusCode } = answer;
  assert.ok(
    statusCode === 200 || (statusCode >= 400 && statusCode < 500),
    `${statusCode} for ${what}: ${answer.body.slice(0, 500)}`,
  );
  if (statusCode === 200) return;
  try {
    assertProblem(answer, statusCode);
  } catch (error) {
    // The generated input is what tells one failing case from another.
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** Every sample the store counts, over all users: what ingest can change. */
export async function totalSamples(store: Store): Promise<number> {
  return (await allUsers(store)).reduce((sum, user) => sum + user.samples, 0);
}

/** Real points from the project's generator, one per (user, wall time), for bodies that should be stored. */
export function tracePoints(count: number, seed = 7): TraceRow[] {
  const seen = new Set<string>();
  const rows: TraceRow[] = [];
  for (const row of generateTrace({ seed, users: 4, minutes: 30 })) {
    const key = `${row.user_id}|${row.timestamp}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(row);
    if (rows.length === count) break;
  }
  return rows;
}

const DEPTH = 10_000;

/** JSON texts built to break parsers and validators, whatever the route expects. */
export const HOSTILE_JSON: ReadonlyArray<readonly [name: string, text: string]> = [
  ['10,000 nested arrays', '['.repeat(DEPTH) + ']'.repeat(DEPTH)],
  ['10,000 nested objects', '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH)],
  ['10,000 unclosed arrays', '['.repeat(DEPTH)],
  ['a number beyond double', '1e309'],
  ['negative zero', '-0'],
  ['2^53 + 1', '9007199254740993'],
  ['a 400-digit integer', '9'.repeat(400)],
  ['__proto__ key', '{"__proto__":{"user_id":"mallory","lat":1}}'],
  ['constructor.prototype keys', '{"constructor":{"prototype":{"user_id":"mallory"}}}'],
  ['nested __proto__', '{"locations":[{"__proto__":{"type":"Feature"}}],"a":{"__proto__":null}}'],
  ['prototype key', '{"prototype":{"user_id":"mallory"}}'],
  ['duplicate keys', '{"user_id":"a","user_id":"b","lat":"x","lat":1}'],
  ['lone high surrogate', '{"user_id":"\\ud800","_type":"\\ud800"}'],
  ['lone low surrogate', '"\\udc00"'],
  ['NUL escape', '{"user_id":"\\u0000"}'],
  ['bad escape', '{"user_id":"\\x41"}'],
  ['empty', ''],
  ['whitespace only', ' \r\n\t '],
  ['null', 'null'],
  ['true', 'true'],
  ['a string', '"location"'],
  ['an empty array', '[]'],
  ['an array of junk', '[null,1,"a",[],{},true]'],
  ['an empty object', '{}'],
  ['NaN', 'NaN'],
  ['Infinity', '{"lat":Infinity}'],
  ['a trailing comma', '{"lat":1,}'],
  ['single quotes', "{'lat':1}"],
  ['a comment', '{"lat":1/*x*/}'],
  ['two documents', '{}{}'],
  ['a byte-order mark', '\ufeff{}'],
  ['hex number', '{"lat":0x10}'],
];

/** Bytes that are not UTF-8: a stray continuation, a cut sequence, an overlong form, a UTF-16 surrogate, > U+10FFFF. */
export const INVALID_UTF8: ReadonlyArray<readonly number[]> = [
  [0xff],
  [0x80],
  [0xc3],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
];

/** `text` with `bytes` put just before the first `before` in it (by default, inside its first string value). */
export function withBytes(text: string, bytes: readonly number[], before?: string): Buffer {
  const found = before === undefined ? text.indexOf('":"') + 3 : text.indexOf(before);
  const at = found < (before === undefined ? 3 : 0) ? 0 : Buffer.byteLength(text.slice(0, found));
  const whole = Buffer.from(text);
  return Buffer.concat([whole.subarray(0, at), Buffer.from(bytes), whole.subarray(at)]);
}

/** A string of `bytes` ASCII characters, for bodies around and beyond the limits. */
export function bigString(bytes: number): string {
  return 'x'.repeat(bytes);
}

export interface RawExchange {
  /** What the server sent back, as text (empty when it closed without a word). */
  received: string;
}

/**
 * Sends `head` and `body` on a raw socket and then, instead of finishing the request, ends the socket (`end`: the
 * client says it will send nothing more) or destroys it (`destroy`: it vanishes). Resolves when the server has
 * closed the connection; a server that keeps it open forever fails the test by its timeout.
 */
export async function abandonedRequest(
  port: number,
  head: string,
  body: string | Buffer,
  how: 'end' | 'destroy',
): Promise<RawExchange> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
  socket.on('error', () => {
    // A reset after the client gave up is one of the allowed outcomes.
  });
  const closed = once(socket, 'close');
  socket.write(head);
  socket.write(body);
  // TCP keeps order: the server reads the partial request before it sees the end or the reset.
  await new Promise<void>((resolve) => socket.write('', () => resolve()));
  if (how === 'end') socket.end();
  else socket.destroy();
  await closed;
  return { received };
}

/** A chunk of HTTP/1.1 chunked transfer coding. */
export function chunk(data: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}
