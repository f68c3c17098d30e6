import type { ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UnreadableFileError } from './types.js';

/** How much decompressed content `head` holds at most: enough for every format's first record. */
export const HEAD_BYTES = 64 * 1024;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * A file opened for import. Whoever opens one must either read `stream` to its end or call `close()`; both
 * release the file.
 */
export interface ImportSource {
  /**
   * The file's content, decompressed when it is gzip (told by its first bytes, not by its name), from its first
   * byte: the bytes in `head` are still in it. Streams: memory holds a chunk at a time, whatever the file size.
   * A file or gzip error surfaces here as an UnreadableFileError that names the path.
   */
  stream: Readable;
  /** The first HEAD_BYTES of the decompressed content (less when the content is shorter), for detectFormat. */
  head: Buffer;
  /** Bytes of the file on disk (compressed, for a .gz): the total of a progress bar. 0 for a pipe. */
  size: number;
  /** Bytes read from disk so far (compressed, for a .gz): the position of a progress bar, against `size`. */
  bytesRead(): number;
  /** Whether the file is gzip. */
  gzip: boolean;
  /** Releases the file without reading the rest (when detection fails, or on Ctrl-C). Safe to call twice. */
  close(): void;
}

function openFailure(path: string, error: unknown): UnreadableFileError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot be read (${code ?? (error as Error).message})`;
  return new UnreadableFileError(`${path}: ${reason}`);
}

function readFailure(path: string, error: unknown, gzip: boolean): Error {
  if (error instanceof UnreadableFileError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR…) mean the compressed data itself is bad or cut short.
  if (gzip && typeof code === 'string' && code.startsWith('Z_'))
    return new UnreadableFileError(
      `${path}: the gzip data is damaged or cut short (${(error as Error).message})`,
    );
  return openFailure(path, error);
}

function isGzip(chunk: Buffer | undefined): boolean {
  return chunk !== undefined && chunk[0] === GZIP_MAGIC[0] && chunk[1] === GZIP_MAGIC[1];
}

/** `first`, then the rest of `chunks`. */
async function* prepend(first: Buffer | undefined, chunks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    if (first === undefined) return;
    yield first;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  } finally {
    await chunks.return?.();
  }
}

/**
 * Reads chunks until `bytes` are in hand (or the content ends). An error while doing so is kept, not thrown: the
 * chunks before it are still content, and the error comes out of the stream after them, as it would have.
 */
async function peek(
  chunks: AsyncIterator<Buffer>,
  bytes: number,
): Promise<{ taken: Buffer[]; ended: boolean; failure: unknown }> {
  const taken: Buffer[] = [];
  let length = 0;
  try {
    while (length < bytes) {
      const next = await chunks.next();
      if (next.done) return { taken, ended: true, failure: undefined };
      taken.push(next.value);
      length += next.value.length;
    }
  } catch (error) {
    return { taken, ended: true, failure: error ?? new Error('unknown read error') };
  }
  return { taken, ended: false, failure: undefined };
}

/** The peeked chunks, then the rest of the content; errors named after the file. */
async function* replay(
  peeked: { taken: Buffer[]; ended: boolean; failure: unknown },
  chunks: AsyncIterator<Buffer>,
  describe: (error: unknown) => Error,
): AsyncGenerator<Buffer> {
  yield* peeked.taken;
  if (peeked.failure !== undefined) throw describe(peeked.failure);
  if (peeked.ended) return;
  try {
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  } catch (error) {
    throw describe(error);
  }
}

/**
 * Opens a file for import: its decompressed content as a stream, its first bytes for detection, and its size and
 * read position for a progress bar. Rejects with an UnreadableFileError naming the path (`PATH: no such file`,
 * `PATH: permission denied`, `PATH: is a directory, not a file`) when it cannot be opened; its message is the line
 * to show, without a stack.
 */
export async function openImportSource(path: string, headBytes = HEAD_BYTES): Promise<ImportSource> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    size = stat.size;
  } catch (error) {
    await handle.close();
    throw openFailure(path, error);
  }

  // No `start`: reads from the current position work on pipes too (`/dev/stdin`, `<(zcat …)`); positional ones don't.
  const file: ReadStream = handle.createReadStream();
  const raw = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: Buffer | undefined;
  try {
    const next = await raw.next();
    first = next.done ? undefined : next.value;
  } catch (error) {
    file.destroy();
    throw openFailure(path, error);
  }
  // A 64 KiB first read holds the two magic bytes, unless the file is shorter.
  const gzip = isGzip(first);
  const bytes = prepend(first, raw);
  let chunks: AsyncIterator<Buffer> = bytes;
  let content: Readable | undefined;
  if (gzip) {
    // pipeline() destroys every stream when one fails or is destroyed, so the file is always released.
    content = pipeline(Readable.from(bytes), createGunzip({ chunkSize: 64 * 1024 }), () => {});
    chunks = content[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  const peeked = await peek(chunks, headBytes);
  const head = Buffer.concat(peeked.taken).subarray(0, headBytes);
  const stream = Readable.from(
    replay(peeked, chunks, (error) => readFailure(path, error, gzip)),
    { objectMode: false },
  );
  // Readable.from does not end a generator that never started; this releases the file whenever `stream` goes.
  stream.once('close', () => {
    content?.destroy();
    file.destroy();
  });
  return {
    stream,
    head,
    size,
    gzip,
    bytesRead: () => file.bytesRead,
    close: () => {
      stream.destroy();
    },
  };
}
