import type { RawFix } from '../../../ingest/point.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COORD_UNITS_PER_DEGREE } from '../../../store/minutes.js';
import { UnreadableFileError, type ImportRecord } from '../../types.js';
import { readTakeout, takeoutRecord } from './takeout-reader.js';
import { epochMsText, Utf8Chunks } from '../record-parser.js';
import { fixture, offsetsThatDiffer, readChunks, splitAt } from '../../../../test/support/reader-testing.js';

function fix(item: number, fields: Omit<RawFix, 'user_id'>): ImportRecord {
  return { ok: true, fix: { user_id: 'me', ...fields }, at: { item } };
}

function broken(item: number, errors: { field: string; message: string }[]): ImportRecord {
  return { ok: false, errors, at: { item } };
}

const SAMPLE: ImportRecord[] = [
  fix(0, { timestamp: '2017-01-01T18:05:12.000Z', lat: 40.701, long: -73.916, accuracy: 11, speed: 1 }),
  // timestampMs as a string of epoch milliseconds; no accuracy or velocity
  fix(1, {
    timestamp: '2017-01-01T18:07:12.500Z',
    lat: 40.7012345,
    long: -73.9155555,
    accuracy: null,
    speed: null,
  }),
  // a latitude written as unsigned 32 bits: 2^32 − 338,600,000
  fix(2, { timestamp: '2017-01-02T09:00:00Z', lat: -33.86, long: 151.21, accuracy: 20, speed: 0 }),
  broken(3, [{ field: 'longitudeE7', message: 'is required' }]),
  broken(4, [
    { field: 'latitudeE7', message: 'must be an integer (degrees × 10^7), not the string "407016000"' },
    { field: 'longitudeE7', message: 'is outside the E7 integer range (−2^31…2^31−1): 5000000000' },
  ]),
  broken(5, [{ field: 'timestampMs', message: 'must be epoch milliseconds, not the string "yesterday"' }]),
  fix(6, { timestamp: '2017-01-01T13:10:00-05:00', lat: 40.702, long: -73.9148, accuracy: 3000, speed: 1.5 }),
];

describe('readTakeout', () => {
  it('reads every location of a Records.json, and why a location cannot be a fix', async () => {
    const outcome = await readChunks(readTakeout, [fixture('takeout-records.json')], 'me');
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, SAMPLE);
  });

  it('loses nothing of an E7 coordinate in the store’s 1e-8° fixed point', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_800_000_000, max: 1_800_000_000 }), (e7) => {
        const record = takeoutRecord({ latitudeE7: 0, longitudeE7: e7, timestamp: 'x' }, 0, 'me');
        assert.ok(record.ok);
        assert.equal(Math.round(record.fix.long * COORD_UNITS_PER_DEGREE), e7 * 10);
      }),
    );
  });

  it('corrects wrapped coordinates only where wrapping can have produced them', () => {
    const longitude = (longitudeE7: number) => {
      const record = takeoutRecord({ latitudeE7: 0, longitudeE7, timestamp: 'x' }, 0, 'me');
      return record.ok ? record.fix.long : record.errors;
    };
    assert.equal(longitude(2 ** 32 - 1_800_000_000), -180);
    assert.equal(longitude(2 ** 32 - 1), -1e-7);
    assert.equal(longitude(2 ** 31 - 1), 214.7483647); // out of range: the engine rejects it
    assert.deepEqual(longitude(2 ** 32 - 1_800_000_001), [
      { field: 'longitudeE7', message: 'is outside the E7 integer range (−2^31…2^31−1): 2494967295' },
    ]);
    assert.deepEqual(longitude(2 ** 32), [
      { field: 'longitudeE7', message: 'is outside the E7 integer range (−2^31…2^31−1): 4294967296' },
    ]);
    assert.deepEqual(longitude(407010000.5), [
      { field: 'longitudeE7', message: 'must be an integer (degrees × 10^7), not a number' },
    ]);
  });

  it('reads timestampMs given as a number, and says when there is no time at all', () => {
    assert.deepEqual(takeoutRecord({ latitudeE7: 1, longitudeE7: 2, timestampMs: 1483228800000 }, 3, 'me'), {
      ok: true,
      fix: {
        user_id: 'me',
        timestamp: '2017-01-01T00:00:00.000Z',
        lat: 1e-7,
        long: 2e-7,
        accuracy: null,
        speed: null,
      },
      at: { item: 3 },
    });
    assert.deepEqual(takeoutRecord({ latitudeE7: 1, longitudeE7: 2 }, 4, 'me'), {
      ok: false,
      errors: [{ field: 'timestamp', message: 'is required (or timestampMs)' }],
      at: { item: 4 },
    });
    assert.deepEqual(takeoutRecord('x', 5, 'me'), {
      ok: false,
      errors: [{ field: 'location', message: 'must be an object, not the string "x"' }],
      at: { item: 5 },
    });
  });

  it('reads timestampMs text as Number() reads `-?` and 1 to 16 digits, and refuses any other text', () => {
    const time = (timestampMs: string) => {
      const record = takeoutRecord({ latitudeE7: 1, longitudeE7: 2, timestampMs }, 0, 'me');
      return record.ok ? record.fix.timestamp : null;
    };
    const expected = (text: string) => {
      const ms = /^-?\d{1,16}$/.test(text) ? Number(text) : NaN;
      return Number.isInteger(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
    };
    for (const text of [
      '0',
      '-0',
      '-',
      '',
      '+1',
      '1.0',
      ' 1',
      '8640000000000000',
      '8640000000000001',
      '9999999999999999',
    ])
      assert.equal(time(text), expected(text), text);
    fc.assert(
      fc.property(fc.stringMatching(/^-?[0-9]{0,17}[a ]?$/), (text) =>
        assert.equal(time(text), expected(text), text),
      ),
      { numRuns: 10000 },
    );
  });

  it('gives the same records wherever the bytes are cut, UTF-8 characters and escapes included', async () => {
    assert.deepEqual(await offsetsThatDiffer(readTakeout, fixture('takeout-records.json'), SAMPLE, 'me'), []);
  });

  it('gives the same records for any cutting into many chunks', async () => {
    const bytes = fixture('takeout-records.json');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 60 }),
        async (cuts) => {
          const outcome = await readChunks(readTakeout, splitAt(bytes, cuts), 'me');
          assert.equal(outcome.error, undefined);
          assert.deepEqual(outcome.records, SAMPLE);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses what is not a Records.json', async () => {
    const cases: [string | Buffer, string][] = [
      [fixture('overland.json'), 'holds GeoJSON features (an Overland batch?), not Takeout records'],
      [fixture('sample.geojson'), 'no "locations" array: not a Takeout Records.json'],
      ['{"locations":{}}', '"locations" is an object, not an array'],
      ['locations', 'not a JSON object: it starts with "locations"'],
    ];
    for (const [text, message] of cases) {
      const outcome = await readChunks(readTakeout, [text], 'me');
      assert.ok(outcome.error instanceof UnreadableFileError, message);
      assert.equal(outcome.error.message, message);
    }
  });

  it('keeps the locations before broken JSON, then stops with its line and column', async () => {
    const text = fixture('takeout-records.json')
      .toString('utf8')
      .replace('"accuracy": 20,', '"accuracy": 20,,');
    const outcome = await readChunks(readTakeout, [text], 'me');
    assert.deepEqual(outcome.records, SAMPLE.slice(0, 2));
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.match(outcome.error.message, /^not valid JSON at line 31, column \d+: /);
  });

  it('keeps the locations of a truncated file, then stops', async () => {
    const bytes = fixture('takeout-records.json');
    const outcome = await readChunks(readTakeout, [bytes.subarray(0, bytes.indexOf('yesterday'))], 'me');
    assert.deepEqual(outcome.records, SAMPLE.slice(0, 5));
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.match(outcome.error.message, /: the file ends before its JSON does$/);
  });

  it('stops before reading anything when there is no --user', async () => {
    const outcome = await readChunks(readTakeout, [fixture('takeout-records.json')], undefined);
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.equal(outcome.error.message, 'Takeout files carry no user: pass --user');
    assert.deepEqual(outcome.records, []);
  });
});

describe('the shared conversions', () => {
  it('writes epoch milliseconds exactly as Date#toISOString does, over all of its range', () => {
    const check = (ms: number) =>
      assert.equal(epochMsText(ms), new Date(Math.trunc(ms)).toISOString(), `${ms}`);
    for (const ms of [0, -0, -1, 0.5, -0.5, 8.64e15, -8.64e15, 253402300800000, -62167219200001]) check(ms);
    // One run of increasing times (the day's text is reused) and one of scattered ones.
    for (let ms = 1483228799000; ms < 1483228801000; ms += 7) check(ms);
    fc.assert(fc.property(fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }), check), { numRuns: 5000 });
    fc.assert(fc.property(fc.integer({ min: -2e12, max: 4e12 }), check), { numRuns: 5000 });
    assert.equal(epochMsText(8.64e15 + 1), null);
    assert.equal(epochMsText(Number.NaN), null);
  });

  it('decodes UTF-8 chunks as a streaming TextDecoder does, bad bytes and a byte-order mark included', () => {
    const bytes = fc.array(
      fc.oneof(
        fc.constantFrom(
          [0xef, 0xbb, 0xbf],
          [0x41],
          [0xc3, 0xa9],
          [0xe2, 0x98, 0x83],
          [0xf0, 0x9f, 0x98, 0x80],
        ),
        fc.constantFrom([0x80], [0xc3], [0xe2, 0x98], [0xf0, 0x9f], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf]),
        fc.integer({ min: 0, max: 255 }).map((b) => [b]),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 4 }), (parts, cuts) => {
        const buffer = Buffer.from(parts.flat());
        const pieces = splitAt(
          buffer,
          cuts.map((cut) => cut % (buffer.length + 1)),
        );
        const expected = new TextDecoder('utf-8');
        const actual = new Utf8Chunks();
        let want = '';
        let got = '';
        for (const piece of pieces) {
          want += expected.decode(piece, { stream: true });
          got += actual.decode(piece);
        }
        assert.equal(got + actual.end(), want + expected.decode());
      }),
      { numRuns: 5000 },
    );
  });
});
