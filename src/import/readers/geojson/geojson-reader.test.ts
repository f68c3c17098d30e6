import type { RawFix } from '../../../ingest/point.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UnreadableFileError, type ImportRecord } from '../../types.js';
import { readGeoJson } from './geojson-reader.js';
import { fixture, offsetsThatDiffer, readChunks, splitAt } from '../../../../test/support/reader-testing.js';

function fix(item: number, fields: Omit<RawFix, 'user_id'>, user = 'me'): ImportRecord {
  return { ok: true, fix: { user_id: user, ...fields }, at: { item } };
}

function broken(item: number, errors: { field: string; message: string }[]): ImportRecord {
  return { ok: false, errors, at: { item } };
}

const NO_TIME = {
  field: 'properties.timestamp',
  message: 'is required (or properties.time, properties.date)',
};

const SAMPLE: ImportRecord[] = [
  fix(0, { timestamp: '2017-01-01T18:05:12Z', lat: 40.701, long: -73.916, accuracy: 11.3, speed: 1.4 }),
  // `time` in epoch seconds; Overland's horizontal_accuracy; a negative speed is unknown
  fix(1, { timestamp: '2017-01-01T18:10:12.000Z', lat: 40.7012, long: -73.9155, accuracy: 5, speed: null }),
  // `date` in epoch milliseconds; an altitude; no accuracy or speed
  fix(2, { timestamp: '2017-01-01T18:11:12.500Z', lat: 40.7014, long: -73.915, accuracy: null, speed: null }),
  broken(3, [{ field: 'geometry.type', message: 'must be "Point", not the string "LineString"' }]),
  broken(4, [NO_TIME]),
  broken(5, [{ field: 'properties.accuracy', message: 'must be a number, not the string "12"' }]),
  // wall time without an offset goes through for the engine to place by the coordinates
  fix(6, { timestamp: '2017-01-01 23:55:00', lat: 27.7172, long: 85.324, accuracy: null, speed: 2.5 }),
  broken(7, [{ field: 'geometry.type', message: 'must be "Point", not null' }, NO_TIME]),
];

describe('readGeoJson', () => {
  it('reads every feature of a FeatureCollection, and why a feature cannot be a fix', async () => {
    const outcome = await readChunks(readGeoJson, [fixture('sample.geojson')], 'me');
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, SAMPLE);
  });

  it("takes an Overland batch's user from device_id, and --user over it", async () => {
    const own = await readChunks(readGeoJson, [fixture('overland.json')], undefined);
    assert.equal(own.error, undefined);
    assert.deepEqual(own.records, [
      fix(
        0,
        { timestamp: '2017-01-01T10:00:00-08:00', lat: 45.512, long: -122.621, accuracy: 10, speed: 3 },
        'phone-1',
      ),
      broken(1, [{ field: 'user_id', message: 'is required: pass --user (the feature has no device_id)' }]),
    ]);
    const given = await readChunks(readGeoJson, [fixture('overland.json')], 'me');
    assert.deepEqual(
      given.records.map((record) => record.ok && record.fix.user_id),
      ['me', 'me'],
    );
  });

  it('reads a lone Feature as one record, whatever the order of its members', async () => {
    const feature =
      '{"properties":{"time":"2017-01-01T00:00:00+01:00","speed":0},' +
      '"geometry":{"coordinates":[2.35,48.85],"type":"Point"},"type":"Feature"}';
    const outcome = await readChunks(readGeoJson, [feature], 'me');
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, [
      fix(0, { timestamp: '2017-01-01T00:00:00+01:00', lat: 48.85, long: 2.35, accuracy: null, speed: 0 }),
    ]);
  });

  it('reads a collection whose type comes after its features, and an empty one', async () => {
    const late = await readChunks(
      readGeoJson,
      [
        '{"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"date":0}}],"type":"FeatureCollection"}',
      ],
      'me',
    );
    assert.deepEqual(late.records, [
      fix(0, { timestamp: '1970-01-01T00:00:00.000Z', lat: 2, long: 1, accuracy: null, speed: null }),
    ]);
    const empty = await readChunks(readGeoJson, ['{"type":"FeatureCollection","features":[]}'], 'me');
    assert.deepEqual([empty.records, empty.error], [[], undefined]);
  });

  it('says what is wrong with a time that is not one', async () => {
    const features = [true, 1e300, { at: 1 }].map(
      (time) =>
        `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"time":${JSON.stringify(time)}}}`,
    );
    const outcome = await readChunks(readGeoJson, [`{"features":[${features.join(',')}]}`], 'me');
    assert.deepEqual(outcome.records, [
      broken(0, [
        {
          field: 'properties.time',
          message: 'must be ISO 8601 text or epoch seconds or milliseconds, not a boolean',
        },
      ]),
      broken(1, [{ field: 'properties.time', message: 'is not a time: 1e+300' }]),
      broken(2, [
        {
          field: 'properties.time',
          message: 'must be ISO 8601 text or epoch seconds or milliseconds, not an object',
        },
      ]),
    ]);
  });

  it('gives the same records wherever the bytes are cut, UTF-8 characters included', async () => {
    assert.deepEqual(await offsetsThatDiffer(readGeoJson, fixture('sample.geojson'), SAMPLE, 'me'), []);
  });

  it('gives the same records for any cutting into many chunks', async () => {
    const bytes = fixture('sample.geojson');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 60 }),
        async (cuts) => {
          const outcome = await readChunks(readGeoJson, splitAt(bytes, cuts), 'me');
          assert.equal(outcome.error, undefined);
          assert.deepEqual(outcome.records, SAMPLE);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses what is not a FeatureCollection, an Overland batch or a Feature', async () => {
    const cases: [string | Buffer, string][] = [
      [fixture('sample.gpx'), 'not a JSON object: it starts with "<?xml vers"'],
      [fixture('takeout-records.json'), 'holds Google Takeout records, not GeoJSON features'],
      [
        '{"type":"Point","coordinates":[1,2]}',
        'GeoJSON of type the string "Point": only a FeatureCollection or a Feature',
      ],
      ['{"features":{"type":"Feature"}}', '"features" is an object, not an array of features'],
      ['{"name":"x"}', 'no "features" or "locations" array: not a GeoJSON FeatureCollection'],
      ['[]', 'not a JSON object: it starts with "[]"'],
    ];
    for (const [text, message] of cases) {
      const outcome = await readChunks(readGeoJson, [text], 'me');
      assert.ok(outcome.error instanceof UnreadableFileError, message);
      assert.equal(outcome.error.message, message);
    }
  });

  it('keeps the features before broken JSON, then stops with its line and column', async () => {
    const text = fixture('sample.geojson')
      .toString('utf8')
      .replace('"date": 1483294272500', '"date": 14832x');
    const outcome = await readChunks(readGeoJson, [text], 'me');
    assert.deepEqual(outcome.records, SAMPLE.slice(0, 2));
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.match(outcome.error.message, /^not valid JSON at line 23, column \d+: /);
  });

  it('keeps the features of a truncated file, then stops', async () => {
    const bytes = fixture('sample.geojson');
    const outcome = await readChunks(readGeoJson, [bytes.subarray(0, bytes.indexOf('LineString'))], 'me');
    assert.deepEqual(outcome.records, SAMPLE.slice(0, 3));
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.match(outcome.error.message, /: the file ends before its JSON does$/);
  });
});
