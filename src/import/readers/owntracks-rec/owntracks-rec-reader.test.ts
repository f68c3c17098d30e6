import type { RawFix } from '../../../ingest/point.js';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ownTracksToPoint } from '../../../ingest/apps/owntracks.js';
import { composePoint } from '../../../ingest/compose.js';
import { openImportSource } from '../../source.js';
import { UnreadableFileError, type FormatReader, type ImportRecord } from '../../types.js';
import {
  MAX_REC_LINE_CHARS,
  ownTracksRecReader,
  readOwnTracksRec,
  userFromRecPath,
} from './owntracks-rec-reader.js';

const FIXTURE = new URL('../../../../test/fixtures/import/rec/jane/phone/2017-01.rec', import.meta.url)
  .pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'locus-import-rec-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TAG = '*'.padEnd(18);
const line = (time: string, payload: string) => `${time}\t${TAG}\t${payload}\n`;

interface Outcome {
  batches: ImportRecord[][];
  records: ImportRecord[];
  error: unknown;
}

async function read(
  chunks: Array<string | Buffer>,
  options: { user?: string; file?: string; reader?: FormatReader } = {},
): Promise<Outcome> {
  const { user, file = FIXTURE, reader = readOwnTracksRec } = options;
  const input = Readable.from(chunks.map((chunk) => Buffer.from(chunk)));
  const batches: ImportRecord[][] = [];
  let error: unknown;
  try {
    for await (const batch of reader(input, { path: file, user })) batches.push(batch);
  } catch (caught) {
    error = caught;
  }
  return { batches, records: batches.flat(), error };
}

const fix = (at: number, fields: Omit<RawFix, 'user_id'>, user_id = 'jane'): ImportRecord => ({
  ok: true,
  fix: { user_id, ...fields },
  at: { line: at },
});
const bad = (at: number, field: string, message: string): ImportRecord => ({
  ok: false,
  errors: [{ field, message }],
  at: { line: at },
});

const EXPECTED: ImportRecord[] = [
  // vel 18 km/h is 5 m/s
  fix(1, { timestamp: '2017-01-01T18:05:12.000Z', lat: 40.701, long: -73.916, accuracy: 11, speed: 5 }),
  fix(2, {
    timestamp: '2017-01-01T18:05:40.000Z',
    lat: 40.7012,
    long: -73.9161,
    accuracy: null,
    speed: null,
  }),
  // vel -1: the iOS app's "unknown"
  fix(3, { timestamp: '2017-01-01T18:05:50.000Z', lat: 40.7013, long: -73.9162, accuracy: 5, speed: null }),
  // lines 4 and 5 are an lwt and a transition: not points, not errors
  bad(6, 'lat', 'must be a number, not a string'),
  bad(7, 'line', 'has a JSON payload that is not valid JSON'),
  bad(8, 'line', 'is not TIME<TAB>TAG<TAB>JSON'),
  // line 9 is blank; line 10 has its keys in another order, a fractional tst, and is in Kathmandu: still UTC
  fix(10, { timestamp: '2017-01-01T18:06:30.500Z', lat: 27.7172, long: 85.324, accuracy: 3.5, speed: 10 }),
  bad(11, '_type', 'is required'),
  bad(12, 'line', 'has a JSON payload that is not an object'),
  // 360,000 km/h: exactly the 100,000 m/s bound
  fix(13, { timestamp: '2017-01-01T18:07:00.000Z', lat: 40.7, long: -73.9, accuracy: 4, speed: 100_000 }),
];

describe('readOwnTracksRec: the hand-written fixture', () => {
  it('reads locations, skips other messages, and gives every broken line an error with its line', async () => {
    const outcome = await read([readFileSync(FIXTURE)]);
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.records, EXPECTED);
  });

  it('maps each location exactly as the live OwnTracks endpoints do', async () => {
    const lines = readFileSync(FIXTURE, 'utf8').split('\n');
    const outcome = await read([readFileSync(FIXTURE)]);
    for (const record of outcome.records) {
      if (!record.ok || !('line' in record.at)) continue;
      const payload: unknown = JSON.parse(lines[record.at.line - 1]!.split('\t')[2]!);
      const live = ownTracksToPoint(
        payload,
        { user: 'jane', device: 'phone', userField: 'u', deviceField: 'd' },
        'user',
      );
      assert.deepEqual(composePoint(record.fix), { ok: true, value: live.ok && live.value });
    }
  });

  it('gives the same records whatever the chunking, splits inside UTF-8 characters included', async () => {
    const bytes = readFileSync(FIXTURE);
    for (let at = 0; at <= bytes.length; at++) {
      const outcome = await read([bytes.subarray(0, at), bytes.subarray(at)]);
      assert.deepEqual(outcome.records, EXPECTED, `split at byte ${at}`);
    }
    const single = await read([...bytes].map((byte) => Buffer.from([byte])));
    assert.deepEqual(single.records, EXPECTED);
    assert.ok(single.batches.every((batch) => batch.length > 0));
  });

  it('reads the same records from a gzip copy opened with openImportSource', async () => {
    const folder = path.join(dir, 'rec', 'jane', 'phone');
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, '2017-01.rec.gz');
    writeFileSync(file, gzipSync(readFileSync(FIXTURE)));
    const source = await openImportSource(file);
    assert.equal(source.gzip, true);
    const got: ImportRecord[] = [];
    for await (const batch of readOwnTracksRec(source.stream, { path: file, user: undefined }))
      got.push(...batch);
    assert.deepEqual(got, EXPECTED);
  });
});

describe('readOwnTracksRec: whose points', () => {
  it('takes USER from rec/USER/DEVICE/…, or USER/DEVICE with the user/device reader', async () => {
    const got = await read([readFileSync(FIXTURE)], { reader: ownTracksRecReader('user/device') });
    assert.deepEqual(
      new Set(got.records.flatMap((r) => (r.ok ? [r.fix.user_id] : []))),
      new Set(['jane/phone']),
    );
  });

  it('lets --user override the path', async () => {
    const got = await read([readFileSync(FIXTURE)], {
      user: 'me',
      reader: ownTracksRecReader('user/device'),
    });
    assert.deepEqual(new Set(got.records.flatMap((r) => (r.ok ? [r.fix.user_id] : []))), new Set(['me']));
  });

  it('stops before reading when neither the path nor --user says whose points they are', async () => {
    const outcome = await read([readFileSync(FIXTURE)], { file: 'downloads/2017-01.rec' });
    assert.ok(outcome.error instanceof UnreadableFileError);
    assert.equal(
      outcome.error.message,
      'downloads/2017-01.rec: whose points? The path is not …/rec/USER/DEVICE/YYYY-MM.rec, as the OwnTracks Recorder stores them; give --user',
    );
    assert.deepEqual(outcome.batches, []);
  });

  it('reads users from paths of the Recorder layout only', () => {
    assert.equal(userFromRecPath('/srv/recorder/store/rec/jane/phone/2017-01.rec'), 'jane');
    assert.equal(userFromRecPath('/srv/rec/jane/phone/2017-01.rec.gz', 'user/device'), 'jane/phone');
    const relative = path.relative(process.cwd(), path.join(dir, 'rec', 'bob', 'tab', '2018-12.rec'));
    assert.equal(userFromRecPath(relative), 'bob');
    for (const file of [
      '/srv/jane/phone/2017-01.rec',
      '/srv/rec/jane/2017-01.rec',
      '/srv/rec/jane/phone/2017-01.json',
      '2017-01.rec',
      'rec/jane/phone/',
    ])
      assert.equal(userFromRecPath(file), null, file);
  });
});

describe('readOwnTracksRec: lines', () => {
  it('reads CRLF lines, a BOM, blank lines and a last line without a newline', async () => {
    const payload = '{"_type":"location","lat":1,"lon":2,"tst":1483228800}';
    const text = `\ufeff${line('2017-01-01T00:00:00Z', payload).replace('\n', '\r\n')}\r\n  \n${line('2017-01-01T00:00:00Z', payload).trimEnd()}`;
    const got = await read([text]);
    const expected = { timestamp: '2017-01-01T00:00:00.000Z', lat: 1, long: 2, accuracy: null, speed: null };
    assert.deepEqual(got.records, [fix(1, expected), fix(4, expected)]);
  });

  it('refuses a line whose time is not the Recorder ISO UTC time, or with too few tabs', async () => {
    const payload = '{"_type":"location","lat":1,"lon":2,"tst":1483228800}';
    const got = await read([
      line('2017-01-01 00:00:00', payload),
      line('2017-01-01T00:00:00+01:00', payload),
      `2017-01-01T00:00:00Z\t${payload}\n`,
      line('2017-01-01T00:00:00.250Z', payload),
    ]);
    assert.deepEqual(
      got.records.map((r) => (r.ok ? 'ok' : r.errors[0]?.message)),
      ['is not TIME<TAB>TAG<TAB>JSON', 'is not TIME<TAB>TAG<TAB>JSON', 'is not TIME<TAB>TAG<TAB>JSON', 'ok'],
    );
  });

  it('reports a location the live mapping refuses (tst out of range, lat out of range) as an error, not a crash', async () => {
    const got = await read([
      line('2017-01-01T00:00:00Z', '{"_type":"location","lat":1,"lon":2,"tst":1e15}'),
      line('2017-01-01T00:00:00Z', '{"_type":"location","lat":91,"lon":2,"tst":1483228800}'),
      line('2017-01-01T00:00:00Z', '{"_type":"location","lon":2}'),
    ]);
    assert.deepEqual(
      got.records.map((r) => (r.ok ? 'ok' : r.errors.map((e) => e.field).join(','))),
      ['tst', 'lat', 'tst,lat'],
    );
  });

  it('reports a line longer than MAX_REC_LINE_CHARS once, without keeping it, and reads on', async () => {
    const payload = '{"_type":"location","lat":1,"lon":2,"tst":1483228800}';
    const long = 'x'.repeat(MAX_REC_LINE_CHARS / 4);
    const got = await read([
      line('2017-01-01T00:00:00Z', payload),
      long,
      long,
      long,
      long,
      long,
      `${long}\n`,
      line('2017-01-01T00:00:00Z', payload),
      long.repeat(5),
    ]);
    assert.deepEqual(
      got.records.map((r) => [r.at, r.ok ? 'ok' : r.errors[0]?.message]),
      [
        [{ line: 1 }, 'ok'],
        [{ line: 2 }, `is longer than ${MAX_REC_LINE_CHARS} characters`],
        [{ line: 3 }, 'ok'],
        [{ line: 4 }, `is longer than ${MAX_REC_LINE_CHARS} characters`],
      ],
    );
  });
});
