import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Result } from '../point.js';
import { BatchTooLargeError, ndjsonRecords, type NdjsonLimits } from './ndjson.js';

const LIMITS: NdjsonLimits = { maxBytes: 1024 * 1024, maxLineBytes: 1024 };

function chunks(...parts: (string | Buffer)[]): AsyncIterable<Buffer> {
  return Readable.from(parts.map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part))));
}

async function records(source: AsyncIterable<Buffer>, limits = LIMITS): Promise<Result<unknown>[]> {
  const out: Result<unknown>[] = [];
  for await (const record of ndjsonRecords(source, limits)) out.push(record);
  return out;
}

const ok = (value: unknown) => ({ ok: true, value });

describe('ndjsonRecords', () => {
  it('reads one record per line, with or without a final newline, CRLF included', async () => {
    assert.deepEqual(await records(chunks('{"a":1}\n{"a":2}\r\n[3]')), [ok({ a: 1 }), ok({ a: 2 }), ok([3])]);
    assert.deepEqual(await records(chunks('{"a":1}\n')), [ok({ a: 1 })]);
  });

  it('skips blank lines without counting them', async () => {
    assert.deepEqual(await records(chunks('\n  \n{"a":1}\n\n\r\n{"a":2}\n\n')), [ok({ a: 1 }), ok({ a: 2 })]);
    assert.deepEqual(await records(chunks('')), []);
  });

  it('joins lines split across chunks, multi-byte characters included', async () => {
    const line = Buffer.from('{"user_id":"ü€😀"}\n');
    const parts = [...line].map((byte) => Buffer.from([byte]));
    assert.deepEqual(await records(chunks(...parts)), [ok({ user_id: 'ü€😀' })]);
  });

  it('makes a line that is not JSON a failed record, and goes on', async () => {
    const out = await records(chunks('{"a":1}\n{"a":\n{"a":3}'));
    assert.equal(out.length, 3);
    assert.deepEqual(out[0], ok({ a: 1 }));
    assert.ok(!out[1]?.ok);
    assert.equal(out[1]?.errors[0]?.field, 'body');
    assert.match(out[1]?.errors[0]?.message ?? '', /^is not valid JSON: /);
    assert.deepEqual(out[2], ok({ a: 3 }));
  });

  it('refuses prototype poisoning like the JSON body parser', async () => {
    const out = await records(chunks('{"__proto__":{"x":1}}\n{"constructor":{"prototype":{"x":1}}}'));
    assert.deepEqual(
      out.map((r) => r.ok),
      [false, false],
    );
  });

  it('makes invalid UTF-8 a failed record', async () => {
    const out = await records(chunks(Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), '{"a":1}'));
    assert.deepEqual(out[0], { ok: false, errors: [{ field: 'body', message: 'is not valid UTF-8' }] });
    assert.deepEqual(out[1], ok({ a: 1 }));
  });

  it('makes a line over the line limit a failed record without keeping it', async () => {
    const long = `{"pad":"${'x'.repeat(2000)}"}`;
    const out = await records(chunks(long.slice(0, 700), long.slice(700), '\n{"a":1}'));
    assert.deepEqual(out, [
      { ok: false, errors: [{ field: 'body', message: 'is longer than 1024 bytes' }] },
      ok({ a: 1 }),
    ]);
  });

  it('throws BatchTooLargeError once the body passes the byte limit', async () => {
    const source = chunks('{"a":1}\n', '{"a":2}\n', '{"a":3}\n');
    await assert.rejects(records(source, { maxBytes: 12, maxLineBytes: 100 }), BatchTooLargeError);
  });
});
