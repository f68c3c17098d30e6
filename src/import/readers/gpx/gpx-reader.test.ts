import type { RawFix } from '../../../ingest/point.js';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UnreadableFileError, type ImportRecord } from '../../types.js';
import { MAX_GPX_UNTAGGED_CHARS, MAX_GPX_VALUE_CHARS, plainDecimal, readGpx } from './gpx-reader.js';
import { fixture, offsetsThatDiffer, readChunks, splitAt } from '../../../../test/support/reader-testing.js';

function fix(item: number, fields: Omit<RawFix, 'user_id'>): ImportRecord {
  return { ok: true, fix: { user_id: 'me', ...fields }, at: { item } };
}

function broken(item: number, errors: { field: string; message: string }[]): ImportRecord {
  return { ok: false, errors, at: { item } };
}

const SAMPLE: ImportRecord[] = [
  // wpt: hdop is not metres, so no accuracy
  fix(0, { timestamp: '2017-01-01T18:05:12Z', lat: 40.701, long: -73.916, accuracy: null, speed: null }),
  // fractional seconds; Garmin TrackPointExtension speed
  fix(1, {
    timestamp: '2017-01-01T18:05:42.250Z',
    lat: 40.70125,
    long: -73.91575,
    accuracy: null,
    speed: 1.5,
  }),
  // an offset; Locus's own accuracy and speed extensions
  fix(2, {
    timestamp: '2017-01-01T13:06:10-05:00',
    lat: 40.7016,
    long: -73.9154,
    accuracy: 11.3,
    speed: 2.25,
  }),
  broken(3, [{ field: 'time', message: 'is required' }]),
  // no zone: GPX times are UTC
  fix(4, { timestamp: '2017-01-01T18:07:00Z', lat: 40.702, long: -73.9148, accuracy: null, speed: null }),
  broken(5, [
    { field: 'lat', message: 'must be a decimal number, not "north"' },
    { field: 'lon', message: 'is required' },
  ]),
  broken(6, [{ field: 'time', message: 'is required' }]),
  broken(7, [{ field: 'speed', message: 'must be a decimal number, not "fast"' }]),
  // rtept; +HHMM offset; spaces around the time
  fix(8, { timestamp: '2017-01-01T23:53:00+0545', lat: 27.7172, long: 85.324, accuracy: 4, speed: null }),
];

describe('readGpx', () => {
  it('reads every point of a GPX 1.1 file, and why a point cannot be one', async () => {
    const outcome = await readChunks(readGpx, [fixture('sample.gpx')], 'me');
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, SAMPLE);
  });

  it("reads GPX 1.0's <speed>, which wins over an extension's", async () => {
    const outcome = await readChunks(readGpx, [fixture('sample-1.0.gpx')], 'me');
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, [
      fix(0, {
        timestamp: '2017-06-01T00:00:05Z',
        lat: -43.9535,
        long: -176.5597,
        accuracy: null,
        speed: 4.5,
      }),
      fix(1, { timestamp: '2017-06-01T00:00:25Z', lat: -43.9536, long: -176.559, accuracy: null, speed: 0 }),
    ]);
  });

  it('matches elements by local name, whatever the prefix', async () => {
    const gpx =
      '<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1" xmlns:x="urn:x"><g:trk><g:trkseg>' +
      '<g:trkpt lat="1.5" lon="2.5"><g:time>2017-01-01T00:00:00Z</g:time>' +
      '<g:extensions><x:accuracy>7</x:accuracy></g:extensions></g:trkpt></g:trkseg></g:trk></g:gpx>';
    const outcome = await readChunks(readGpx, [gpx], 'me');
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, [
      fix(0, { timestamp: '2017-01-01T00:00:00Z', lat: 1.5, long: 2.5, accuracy: 7, speed: null }),
    ]);
  });

  it('ignores a speed or accuracy outside <extensions>, and a time outside the point itself', async () => {
    const gpx =
      '<gpx><wpt lat="1" lon="2"><time>2017-01-01T00:00:00Z</time><accuracy>3</accuracy>' +
      '<extensions><time>1999-01-01T00:00:00Z</time></extensions></wpt></gpx>';
    const outcome = await readChunks(readGpx, [gpx], 'me');
    assert.deepEqual(outcome.records, [
      fix(0, { timestamp: '2017-01-01T00:00:00Z', lat: 1, long: 2, accuracy: null, speed: null }),
    ]);
  });

  it('gives the same records wherever the bytes are cut, UTF-8 characters included', async () => {
    const bytes = fixture('sample.gpx');
    assert.deepEqual(await offsetsThatDiffer(readGpx, bytes, SAMPLE, 'me'), []);
  });

  it('gives the same records for any cutting into many chunks', async () => {
    const bytes = fixture('sample.gpx');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }),
        async (cuts) => {
          const outcome = await readChunks(readGpx, splitAt(bytes, cuts), 'me');
          assert.equal(outcome.error, undefined);
          assert.deepEqual(outcome.records, SAMPLE);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('hands over the records of a chunk before the next chunk is read', async () => {
    const bytes = fixture('sample.gpx');
    const input = new PassThrough();
    const records = readGpx(input, { path: 'x.gpx', user: 'me' })[Symbol.asyncIterator]();
    const cut = bytes.indexOf('<rte>');
    input.write(bytes.subarray(0, cut));
    const first = await records.next();
    assert.deepEqual(first.value, SAMPLE.slice(0, 8));
    input.end(bytes.subarray(cut));
    assert.deepEqual((await records.next()).value, SAMPLE.slice(8));
    assert.equal((await records.next()).done, true);
  });

  it('refuses a file of another format, naming what it found', async () => {
    const kml = await readChunks(readGpx, ['<?xml version="1.0"?><kml><Document/></kml>'], 'me');
    assert.ok(kml.error instanceof UnreadableFileError);
    assert.equal(kml.error.message, 'the root element is <kml>, not <gpx>');
    const json = await readChunks(readGpx, [fixture('sample.geojson')], 'me');
    assert.ok(json.error instanceof UnreadableFileError);
    assert.equal(json.error.message, 'not XML: it starts with "{\\n  \\"type\\""');
    const empty = await readChunks(readGpx, [''], 'me');
    assert.ok(empty.error instanceof UnreadableFileError);
    assert.deepEqual([json.records, empty.records], [[], []]);
  });

  it('keeps the points before malformed XML, then stops with its line and column', async () => {
    const text = fixture('sample.gpx').toString('utf8').replace('</trkseg>', '</trksegment>');
    const outcome = await readChunks(readGpx, [text], 'me');
    assert.deepEqual(outcome.records, SAMPLE.slice(0, 8));
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.equal(outcome.error.message, 'not well-formed XML at line 24, column 17: unexpected close tag.');
  });

  it('keeps the points of a truncated file, then stops', async () => {
    const bytes = fixture('sample.gpx');
    const cut = bytes.indexOf('<trkpt lat="40.7020"');
    const outcome = await readChunks(readGpx, [bytes.subarray(0, cut + 30)], 'me');
    assert.deepEqual(outcome.records, SAMPLE.slice(0, 4));
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.match(outcome.error.message, /^not well-formed XML at line \d+, column \d+: /);
  });

  it('stops before reading anything when there is no --user', async () => {
    const outcome = await readChunks(readGpx, [fixture('sample.gpx')], undefined);
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.equal(outcome.error.message, 'GPX files carry no user: pass --user');
    assert.deepEqual(outcome.records, []);
  });
});

describe('plainDecimal', () => {
  it('gives exactly what Number() gives, or NaN for text it leaves to the regular expression', () => {
    const same = (text: string) => {
      const fast = plainDecimal(text);
      if (Number.isNaN(fast)) return;
      assert.ok(/^[+-]?\d+(?:\.\d*)?$/.test(text), text);
      assert.ok(Object.is(fast, Number(text)), text);
    };
    for (const text of [
      '0',
      '-0',
      '+0',
      '1.',
      '.5',
      '-',
      '',
      '1e3',
      ' 1',
      '007.50',
      '123456789012345',
      '1.23456789012345',
    ])
      same(text);
    assert.ok(Object.is(plainDecimal('-0'), -0));
    assert.equal(plainDecimal('40.682779'), 40.682779);
    fc.assert(fc.property(fc.stringMatching(/^[-+]?[0-9.]{0,18}$/), same), { numRuns: 20000 });
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.-+e ') }), same), {
      numRuns: 5000,
    });
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 12 }),
        (x, places) => {
          const text = x.toFixed(places);
          same(text);
          if (text.replace(/[-.]/g, '').length <= 15) assert.ok(!Number.isNaN(plainDecimal(text)), text);
        },
      ),
      { numRuns: 20000 },
    );
  });
});

describe('readGpx bounds', () => {
  const HEAD = '<gpx><trk><trkseg><trkpt lat="1" lon="2"><time>2017-01-01T18:05:12Z</time></trkpt>\n';
  const POINT0 = fix(0, { timestamp: '2017-01-01T18:05:12Z', lat: 1, long: 2, accuracy: null, speed: null });

  it(`stops at a kept value longer than ${MAX_GPX_VALUE_CHARS} characters, text or CDATA, without holding it`, async () => {
    const piece = 'x'.repeat(8192);
    for (const [open, body] of [
      ['<trkpt lat="3" lon="4"><time>', piece],
      ['<trkpt lat="3" lon="4"><time><![CDATA[', piece],
      ['<trkpt lat="3" lon="4"><extensions><speed>', piece],
      ['<trkpt lat="3" lon="4"><time>', `${piece}<b/>`],
    ] as const) {
      // 200 pieces of 8 KiB: 1.6 MB, stopped after the first 64 KiB.
      const outcome = await readChunks(
        readGpx,
        [HEAD, open, ...Array.from({ length: 200 }, () => body)],
        'me',
      );
      assert.deepEqual(outcome.records, [POINT0], open);
      assert.ok(outcome.error instanceof UnreadableFileError, open);
      const field = open.includes('speed') ? 'speed' : 'time';
      assert.match(
        outcome.error.message,
        new RegExp(`^a <${field}> longer than 64 KiB, at line 2, column \\d+: not a GPX value$`),
        open,
      );
    }
  });

  it(`stops after ${MAX_GPX_UNTAGGED_CHARS / 1024 / 1024} MiB without a tag: a comment, an attribute, text`, async () => {
    const mib = 'y'.repeat(1024 * 1024);
    const count = MAX_GPX_UNTAGGED_CHARS / mib.length + 1;
    for (const open of ['<!--', '<trkpt lat="3" lon="4" note="', '<desc>']) {
      const outcome = await readChunks(
        readGpx,
        [HEAD, open, ...Array.from({ length: count }, () => mib)],
        'me',
      );
      assert.deepEqual(outcome.records, [POINT0], open);
      assert.ok(outcome.error instanceof UnreadableFileError, open);
      assert.match(
        outcome.error.message,
        /^more than 16 MiB of text, comment or attribute without a tag, at line 2, column \d+: not a GPX file$/,
        open,
      );
    }
  });

  it('reads a file of many points in 64 KiB pieces, values cut anywhere, with no bound reached', async () => {
    const points = Array.from(
      { length: 8000 },
      (_, i) =>
        `<trkpt lat="1.${i}" lon="2"><time>2017-01-01T18:05:12Z</time>` +
        `<extensions><x:speed>${i}</x:speed></extensions></trkpt>\n`,
    );
    const text = `<gpx><trk><trkseg>\n${points.join('')}</trkseg></trk></gpx>`;
    for (const size of [65_536, 65_537, 100_003]) {
      const chunks = Array.from({ length: Math.ceil(text.length / size) }, (_, i) =>
        text.slice(i * size, (i + 1) * size),
      );
      const outcome = await readChunks(readGpx, chunks, 'me');
      assert.equal(outcome.error, undefined, `${size}: ${String(outcome.error)}`);
      assert.equal(outcome.records.length, points.length);
    }
  });

  it('reads long text it does not keep, and long comments, below the bounds', async () => {
    const long = 'z'.repeat(MAX_GPX_VALUE_CHARS * 4);
    const file = [
      HEAD,
      `<wpt lat="5" lon="6"><name>${long}</name><!--${long}--><desc><![CDATA[${long}]]></desc>`,
      `<time>${'1'.repeat(MAX_GPX_VALUE_CHARS - 30)}</time></wpt></trkseg></trk></gpx>`,
    ];
    const outcome = await readChunks(readGpx, file, 'me');
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.records.length, 2);
  });
});
