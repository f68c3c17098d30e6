import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HEAD_BYTES, openImportSource } from './source.js';
import { UnreadableFileError } from './types.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-import-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: Buffer | string): string {
  const target = path.join(dir, name);
  writeFileSync(target, content);
  return target;
}

/** Content that differs at every position, so that a lost or repeated chunk shows. */
function content(bytes: number): Buffer {
  const text = Array.from({ length: Math.ceil(bytes / 8) }, (_, i) => `${String(i).padStart(7, '0')}\n`).join(
    '',
  );
  return Buffer.from(text.slice(0, bytes));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a failure');
}

describe('openImportSource', () => {
  it('peeks the head of a plain file without taking it from the stream', async () => {
    const bytes = content(5 * HEAD_BYTES + 123);
    const source = await openImportSource(file('plain.csv', bytes));
    assert.equal(source.gzip, false);
    assert.equal(source.size, bytes.length);
    assert.deepEqual(source.head, bytes.subarray(0, HEAD_BYTES));
    assert.deepEqual(await readAll(source.stream), bytes);
    assert.equal(source.bytesRead(), bytes.length);
  });

  it('gives a whole short file as its head', async () => {
    const source = await openImportSource(file('short.csv', 'timestamp,lat\n'));
    assert.equal(source.head.toString(), 'timestamp,lat\n');
    assert.equal((await readAll(source.stream)).toString(), 'timestamp,lat\n');
  });

  it('decompresses gzip, told by its magic bytes whatever the name, and counts compressed bytes read', async () => {
    const bytes = content(3 * HEAD_BYTES);
    const compressed = gzipSync(bytes);
    const source = await openImportSource(file('named-plain.csv', compressed));
    assert.equal(source.gzip, true);
    assert.equal(source.size, compressed.length);
    assert.deepEqual(source.head, bytes.subarray(0, HEAD_BYTES));
    assert.deepEqual(await readAll(source.stream), bytes);
    assert.equal(source.bytesRead(), compressed.length);
  });

  it('reads a plain file named .gz as it is, and concatenated gzip members as one content', async () => {
    const plain = await openImportSource(file('not-really.gz', 'hello'));
    assert.equal(plain.gzip, false);
    assert.equal((await readAll(plain.stream)).toString(), 'hello');
    const members = Buffer.concat([gzipSync('one,'), gzipSync('two')]);
    const joined = await openImportSource(file('members.gz', members));
    assert.equal((await readAll(joined.stream)).toString(), 'one,two');
  });

  it('reads a named pipe, gzip too, as /dev/stdin or <(…) give one', async (t) => {
    const fifo = path.join(dir, 'pipe');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return t.skip('needs mkfifo');
    }
    const bytes = content(3 * HEAD_BYTES);
    const writer = createWriteStream(fifo);
    writer.end(gzipSync(bytes));
    const source = await openImportSource(fifo);
    assert.equal(source.gzip, true);
    assert.equal(source.size, 0);
    assert.deepEqual(source.head, bytes.subarray(0, HEAD_BYTES));
    assert.deepEqual(await readAll(source.stream), bytes);
  });

  it('opens an empty file with an empty head and an empty stream', async () => {
    const source = await openImportSource(file('empty', ''));
    assert.equal(source.head.length, 0);
    assert.equal(source.size, 0);
    assert.equal((await readAll(source.stream)).length, 0);
  });

  it('rejects with one line naming the path when the file cannot be opened', async () => {
    const missing = path.join(dir, 'nope.gpx');
    const cases: Array<[string, string]> = [
      [missing, `${missing}: no such file`],
      [dir, `${dir}: is a directory, not a file`],
    ];
    if (process.getuid?.() !== 0) {
      const locked = file('locked.csv', 'x');
      chmodSync(locked, 0o000);
      cases.push([locked, `${locked}: permission denied`]);
    }
    for (const [target, message] of cases) {
      const error = await failure(openImportSource(target));
      assert.ok(error instanceof UnreadableFileError, target);
      assert.equal(error.message, message);
    }
  });

  it('ends the stream with an error naming the path when gzip data is cut short, after what it could read', async () => {
    const bytes = content(4 * HEAD_BYTES);
    const compressed = gzipSync(bytes);
    const target = file('cut.csv.gz', compressed.subarray(0, compressed.length - 100));
    const source = await openImportSource(target);
    const read: Buffer[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of source.stream) read.push(chunk as Buffer);
      })(),
    );
    assert.ok(error instanceof UnreadableFileError);
    assert.match(error.message, new RegExp(`^${target}: the gzip data is damaged or cut short \\(`));
    const got = Buffer.concat(read);
    assert.ok(got.length >= HEAD_BYTES);
    assert.deepEqual(got, bytes.subarray(0, got.length));
  });

  it('fails the same way when the damage is within the head', async () => {
    const target = file('garbage.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const source = await openImportSource(target);
    assert.equal(source.gzip, true);
    const error = await failure(readAll(source.stream));
    assert.ok(error instanceof UnreadableFileError);
    assert.match(error.message, /the gzip data is damaged or cut short/);
  });

  it('releases the file on close(), on a partial read, on a full read and on an error', async (t) => {
    if (!existsSync('/proc/self/fd')) return t.skip('needs /proc/self/fd to count open files');
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const plain = file('release.csv', content(10 * HEAD_BYTES));
    const gzip = file('release.csv.gz', gzipSync(content(10 * HEAD_BYTES)));
    const cut = file('release-cut.gz', gzipSync(content(10 * HEAD_BYTES)).subarray(0, 5000));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    await settle(); // files of the tests before this one close asynchronously
    const before = openFiles();
    for (const target of [plain, gzip]) {
      (await openImportSource(target)).close();
      const partly = await openImportSource(target);
      for await (const chunk of partly.stream) {
        assert.ok((chunk as Buffer).length > 0);
        break;
      }
      await readAll((await openImportSource(target)).stream);
    }
    await failure(readAll((await openImportSource(cut)).stream));
    await settle();
    assert.equal(openFiles(), before);
  });
});
