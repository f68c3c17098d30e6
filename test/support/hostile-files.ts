/*
 * Hostile import files, written gzipped by streaming: a few hundred KB on disk for tens or hundreds of MB of
 * content, generated a piece at a time so that the test writing them stays small in memory (shared by
 * src/import/hostile-files.test.ts and test/cli/import.test.ts).
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const MIB = 1024 * 1024;

/** Writes `head`, then `piece` `times` times, then `tail`, gzipped, to `file`. */
export async function writeGzipped(file: string, head: string, piece: string, times: number, tail: string) {
  function* pieces(): Generator<string> {
    yield head;
    for (let i = 0; i < times; i++) yield piece;
    yield tail;
  }
  await pipeline(Readable.from(pieces()), createGzip({ level: 1 }), createWriteStream(file));
}

/** A FeatureCollection whose one item is an array nested `mib` Mi levels deep: `mib` × 2 MiB of `[…]`. */
export async function nestedGeoJson(file: string, mib: number): Promise<void> {
  // Openings then closings, as two runs of the same generator.
  const open = '['.repeat(MIB);
  const close = ']'.repeat(MIB);
  function* pieces(): Generator<string> {
    yield '{"type":"FeatureCollection","features":[';
    for (let i = 0; i < mib; i++) yield open;
    for (let i = 0; i < mib; i++) yield close;
    yield ']}';
  }
  await pipeline(Readable.from(pieces()), createGzip({ level: 1 }), createWriteStream(file));
}

/** A Takeout file whose one location holds objects nested `mib` × 200 Ki levels deep (`{"a":` … `}`). */
export async function nestedTakeout(file: string, mib: number): Promise<void> {
  const open = '{"a":'.repeat(MIB / 5);
  const close = '}'.repeat(MIB / 5);
  function* pieces(): Generator<string> {
    yield '{"locations":[{"latitudeE7":1,"longitudeE7":2,"timestampMs":"1","activity":';
    for (let i = 0; i < mib; i++) yield open;
    yield '1';
    for (let i = 0; i < mib; i++) yield close;
    yield '}]}';
  }
  await pipeline(Readable.from(pieces()), createGzip({ level: 1 }), createWriteStream(file));
}

/** A GPX file with `mib` MiB of text in one `<time>`, or (`where: 'comment'`) in one comment. */
export async function longTextGpx(file: string, mib: number, where: 'time' | 'comment'): Promise<void> {
  const [open, close] = where === 'time' ? ['<time>', '</time>'] : ['<!--', '-->'];
  await writeGzipped(
    file,
    `<?xml version="1.0"?>\n<gpx version="1.1" creator="x"><trk><trkseg><trkpt lat="1" lon="2">${open}`,
    'a'.repeat(MIB),
    mib,
    `${close}</trkpt></trkseg></trk></gpx>\n`,
  );
}
