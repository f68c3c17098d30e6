import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { detectFormat, type ImportFormat } from './index.js';

const detect = (text: string | Buffer): ImportFormat | null => detectFormat(Buffer.from(text));
const BOM = '\ufeff';
const fixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/import/${name}`, import.meta.url));

/** Every prefix of `text` from `from` characters on: what a head cut at any point looks like. */
function prefixes(text: string, from: number): string[] {
  return Array.from({ length: text.length - from + 1 }, (_, i) => text.slice(0, from + i));
}

describe('detectFormat: GPX', () => {
  it('finds a <gpx> root after a BOM, the XML declaration, comments, a DOCTYPE and whitespace', () => {
    for (const text of [
      '<gpx version="1.1" creator="x">',
      '<?xml version="1.0" encoding="UTF-8"?>\n<gpx xmlns="http://www.topografix.com/GPX/1/1">',
      `${BOM}<?xml version="1.0"?><!-- exported <gpx> by hand --><gpx>`,
      '\n\n  <?xml version="1.0"?>\r\n<!-- a -->\n<!-- b -->\n<!DOCTYPE gpx>\n<gpx\n version="1.1">',
      '<?xml version="1.0"?><?xml-stylesheet href="a.xsl"?><gpx/>',
      '<gpx:gpx xmlns:gpx="http://www.topografix.com/GPX/1/1">',
    ])
      assert.equal(detect(text), 'gpx', text);
  });

  it('refuses other XML, HTML, and a head that ends before the root', () => {
    for (const text of [
      '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">',
      '<!DOCTYPE html><html><body><gpx>',
      '<gpxfile>',
      '<?xml version="1.0"?><!-- a comment that the head cuts',
      '<?xml version="1.0"?>',
      '<',
    ])
      assert.equal(detect(text), null, text);
  });
});

describe('detectFormat: GeoJSON and Takeout', () => {
  it('finds GeoJSON by its top-level type, wherever it is among the keys', () => {
    for (const text of [
      '{"type":"FeatureCollection","features":[]}',
      `${BOM} \n {\n  "type" : "FeatureCollection",\n  "features": [`,
      '{"name":"trip","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"type":"FeatureCollection"',
      '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}',
      '{"bbox":[1,2,3,4],"meta":{"note":"a \\"quoted\\" {brace"},"type":"FeatureCollection"}',
    ])
      assert.equal(detect(text), 'geojson', text);
  });

  it('finds a FeatureCollection whose type comes after the features by its first Feature', () => {
    assert.equal(
      detect('{"features":[{"geometry":{"type":"Point"},"type":"Feature","properties":{'),
      'geojson',
    );
  });

  it('tells Overland batches and Takeout apart inside "locations", whatever the key order', () => {
    const cases: Array<[string, ImportFormat]> = [
      ['{"locations":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-73.9,40.7]},', 'geojson'],
      ['{"locations":[{"geometry":{"type":"Point","coordinates":[-73.9,40.7]},"type":"Feature"', 'geojson'],
      ['{\n  "locations" : [ {\n    "latitudeE7" : 407010000,\n    "longitudeE7" : -739160000,', 'takeout'],
      ['{"locations":[{"timestamp":"2017-01-01T18:05:12Z","accuracy":11,"latitudeE7":407010000', 'takeout'],
      ['{"locations":[{"timestampMs":"1483293912000","longitudeE7":-739160000', 'takeout'],
      ['{"current":{"lat":1},"locations":[{"type":"Feature"', 'geojson'],
    ];
    for (const [text, format] of cases) assert.equal(detect(text), format, text);
  });

  it('answers from a head cut anywhere once the deciding key is in it, and null before', () => {
    const takeout =
      '{"locations":[{"timestampMs":"1483293912000","latitudeE7":407010000,"longitudeE7":-739160000}]}';
    const decided = takeout.indexOf('"latitudeE7":') + '"latitudeE7":'.length;
    for (const head of prefixes(takeout, 0))
      assert.equal(detect(head), head.length >= decided ? 'takeout' : null, head);
    const overland = '{"locations":[{"geometry":{"type":"Point","coordinates":[1,2]},"type":"Feature"}]}';
    const known = overland.indexOf('"Feature"') + '"Feature"'.length;
    for (const head of prefixes(overland, 0))
      assert.equal(detect(head), head.length >= known ? 'geojson' : null, head);
  });

  it('skips a "locations" that is neither, and reads on', () => {
    assert.equal(detect('{"locations":[{"name":"home"}],"type":"FeatureCollection"}'), 'geojson');
    assert.equal(detect('{"locations":[1,2,3],"type":"Feature"}'), 'geojson');
    assert.equal(detect('{"locations":"none","type":"FeatureCollection"}'), 'geojson');
    assert.equal(detect('{"features":[{"latitudeE7":1}],"type":"Topology"}'), null);
  });

  it('refuses other JSON', () => {
    for (const text of [
      '{}',
      '[]',
      '[{"type":"Feature"}]',
      '{"type":"Topology","objects":{}}',
      '{"type":"Point","coordinates":[1,2]}',
      '{"semanticSegments":[{"startTime":"2017-01-01"}]}',
      '{"locations":[{"lat":40.7,"lng":-73.9}]}',
      '{"data":{"type":"FeatureCollection"}}',
      '{"type":"FeatureCollection\\u0000"}',
      '{"a" 1}',
      '{"type":}',
      '{"type',
      '{',
      '"type"',
      '42',
    ])
      assert.equal(detect(text), null, text);
  });
});

describe('detectFormat: CSV and OwnTracks .rec', () => {
  it('finds a challenge CSV header, in any order, with spaces, quotes, a BOM or CRLF', () => {
    for (const text of [
      'timestamp,lat,long,accuracy,speed,user_id\n2017-01-01 13:05:12,40.7,-73.9,11,1,a',
      `${BOM}user_id, speed , accuracy,long,lat,timestamp\r\n`,
      '"timestamp","lat","long","accuracy","speed","user_id"\n',
      '\n\ntimestamp,lat,long\n',
      'timestamp,lat,long,user_id,note',
      fixture('challenge.csv'),
    ])
      assert.equal(detect(text), 'csv', String(text));
  });

  it('refuses CSV without the needed columns, and other text', () => {
    for (const text of [
      'time,latitude,longitude\n',
      'timestamp;lat;long\n',
      'timestamp,lat\nlong,x\n',
      'hello, world\n',
      'timestamp lat long\n',
    ])
      assert.equal(detect(text), null, text);
  });

  it('finds Recorder lines: ISO UTC time, TAB, padded tag, TAB, JSON', () => {
    for (const text of [
      '2017-01-01T18:05:12Z\t*                 \t{"_type":"location","lat":40.7}\n',
      `${BOM}2017-01-01T18:05:12Z\tlwt               \t{"_type":"lwt"`,
      '2017-01-01T18:05:12Z\t*\t{',
      fixture('rec/jane/phone/2017-01.rec'),
    ])
      assert.equal(detect(text), 'owntracks-rec', String(text));
  });

  it('refuses lines that only look like it', () => {
    for (const text of [
      '2017-01-01 18:05:12\t*\t{"_type":"location"}\n',
      '2017-01-01T18:05:12+01:00\t*\t{"_type":"location"}\n',
      '2017-01-01T18:05:12Z *  {"_type":"location"}\n',
      '2017-01-01T18:05:12Z\t*\tlocation\n',
    ])
      assert.equal(detect(text), null, text);
  });
});

describe('detectFormat: nothing', () => {
  it('returns null for an empty head, blank text, HTML and binary', () => {
    for (const head of [
      Buffer.alloc(0),
      Buffer.from(' \n\t\r\n'),
      Buffer.from(BOM),
      Buffer.from('<!doctype html><html><head><title>Sign in</title>'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
    ])
      assert.equal(detectFormat(head), null, head.toString('hex'));
  });
});
