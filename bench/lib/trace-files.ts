/*
 * Generated traces written as files of each import format, for the import benchmarks (bench/import.ts and the
 * A/B of bench/ab.ts): one layout per format, so that both measure the same bytes.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateSamples, type TraceSample } from '../../src/tools/generate/trace.js';
import type { ImportFormat } from '../../src/import/readers/index.js';

/** The user of the formats whose files carry none (pass it as --user). */
export const TRACE_USER = 'u1';

/** Rows per generated user-minute, measured on the generator's defaults (fixes every 15–25 s, 1–5 copies). */
const ROWS_PER_USER_MINUTE = 7;

export interface TraceFile {
  /** The file's name (a path under rec/USER/DEVICE for .rec files, which take their user from it). */
  file: string;
  /** Users in the trace: CSV and .rec carry theirs; the others one, TRACE_USER. */
  users: number;
  head: string;
  row: (sample: TraceSample, first: boolean) => string;
  tail: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const TRACE_FILES: Readonly<Record<ImportFormat, TraceFile>> = {
  csv: {
    file: 'trace.csv',
    users: 100,
    head: 'timestamp,lat,long,accuracy,speed,user_id\n',
    row: ({ row }) => `${row.timestamp},${row.lat},${row.long},${row.accuracy},${row.speed},${row.user_id}\n`,
    tail: '',
  },
  gpx: {
    file: 'trace.gpx',
    users: 1,
    head: '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="locus bench" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n',
    row: ({ row, utcMs }) =>
      `<trkpt lat="${row.lat}" lon="${row.long}"><time>${iso(utcMs)}</time>` +
      `<extensions><speed>${row.speed}</speed><accuracy>${row.accuracy}</accuracy></extensions></trkpt>\n`,
    tail: '</trkseg></trk></gpx>\n',
  },
  geojson: {
    file: 'trace.geojson',
    users: 1,
    head: '{"type":"FeatureCollection","features":[\n',
    row: ({ row, utcMs }, first) =>
      `${first ? '' : ','}{"type":"Feature","geometry":{"type":"Point","coordinates":[${row.long},${row.lat}]},` +
      `"properties":{"timestamp":"${iso(utcMs)}","accuracy":${row.accuracy},"speed":${row.speed}}}\n`,
    tail: ']}\n',
  },
  takeout: {
    file: 'Records.json',
    users: 1,
    head: '{"locations":[\n',
    row: ({ row, utcMs }, first) =>
      `${first ? '' : ','}{"latitudeE7":${Math.round(row.lat * 1e7)},"longitudeE7":${Math.round(row.long * 1e7)},` +
      `"accuracy":${Math.round(row.accuracy)},"velocity":${Math.round(row.speed)},"timestampMs":"${utcMs}"}\n`,
    tail: ']}\n',
  },
  'owntracks-rec': {
    file: path.join('rec', TRACE_USER, 'phone', '2017-01.rec'),
    users: 1,
    head: '',
    row: ({ row, utcMs }) =>
      `${iso(utcMs).replace(/\.\d+Z$/, 'Z')}\t*                 \t{"_type":"location","tst":${utcMs / 1000},` +
      `"lat":${row.lat},"lon":${row.long},"acc":${Math.round(row.accuracy)},"vel":${Math.round(row.speed * 3.6)}}\n`,
    tail: '',
  },
};

/** Writes about `points` generated rows (resends included, as apps send them); resolves with the row count. */
export async function writeTraceFile(file: string, layout: TraceFile, points: number): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const minutes = Math.min(525_600, Math.ceil(points / layout.users / ROWS_PER_USER_MINUTE));
  let rows = 0;
  let text = layout.head;
  for (const sample of generateSamples({ seed: 7, users: layout.users, minutes, scenario: 'city' })) {
    text += layout.row(sample, rows === 0);
    rows++;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text + layout.tail);
  await once(out, 'finish');
  return rows;
}
