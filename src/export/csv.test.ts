import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { pagesOf, minute, text } from '../../test/support/export-minutes.js';
import { csv } from './csv.js';

describe('csv', () => {
  it('writes the header and one CRLF-terminated record per minute', async () => {
    const body = await text(
      csv(pagesOf([minute(0), minute(1, { long: -73.901, accuracy: null, speed: null })])),
    );
    assert.equal(
      body,
      'minute,lat,long,accuracy,speed,samples\r\n' +
        '2017-01-01T18:05:00.000Z,40.7,-73.9,10,0,1\r\n' +
        '2017-01-01T18:06:00.000Z,40.701,-73.901,,,2\r\n',
    );
  });

  it('writes only the header when there are no minutes', async () => {
    assert.equal(await text(csv(pagesOf([]))), 'minute,lat,long,accuracy,speed,samples\r\n');
  });

  it('round-trips through an RFC 4180 parser, batches included', async () => {
    const minutes = Array.from({ length: 2_500 }, (_, i) => minute(i));
    const records = parse<Record<string, string>>(await text(csv(pagesOf(minutes))), { columns: true });
    assert.equal(records.length, minutes.length);
    records.forEach((record, i) => {
      const m = minutes[i]!;
      assert.equal(record.minute, new Date(m.minuteMs).toISOString());
      assert.equal(Number(record.lat), m.lat);
      assert.equal(Number(record.long), m.long);
      assert.equal(Number(record.accuracy), m.accuracy);
      assert.equal(Number(record.speed), m.speed);
      assert.equal(Number(record.samples), m.samples);
    });
  });
});
