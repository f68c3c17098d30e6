/*
 * `locus import` on SQLite: a generated multi-million-point file per format, imported into a fresh SQLite file,
 * against the raw parse speed of the same file measured in the same run (the reader alone, no checks, no storage),
 * and the checks without storage in between, which shows where the time goes.
 *
 *   node --import tsx bench/import.ts [--points 2000000] [--formats csv,gpx,geojson,takeout,owntracks-rec]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { generateSamples, type TraceSample } from '../src/tools/generate/trace.js';
import { composePoint } from '../src/ingest/compose.js';
import { importFiles } from '../src/import/engine.js';
import { IMPORT_DEPS } from '../src/import/deps.js';
import { storeDestination } from '../src/import/destinations.js';
import { IMPORT_FORMATS, type ImportFormat } from '../src/import/readers/index.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { machine, ratio, round, table } from './lib/report.js';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '2000000' },
    formats: { type: 'string', default: IMPORT_FORMATS.join(',') },
    'batch-size': { type: 'string', default: '5000' },
  },
});
const POINTS = Number(values.points);
const BATCH_SIZE = Number(values['batch-size']);
const formats = values.formats.split(',') as ImportFormat[];

/** Rows per generated user-minute, measured on the generator's defaults (fixes every 15–25 s, 1–5 copies). */
const ROWS_PER_USER_MINUTE = 7;
const USER = 'u1';

/** A trace of about `points` rows. CSV and .rec carry several users; the others one (--user). */
function samples(points: number, users: number): Iterable<TraceSample> {
  const minutes = Math.min(525_600, Math.ceil(points / users / ROWS_PER_USER_MINUTE));
  return generateSamples({ seed: 7, users, minutes, scenario: 'city' });
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Writer {
  head: string;
  row: (s: TraceSample, first: boolean) => string;
  tail: string;
  users: number;
  file: string;
}

const WRITERS: Record<ImportFormat, Writer> = {
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
    file: path.join('rec', USER, 'phone', '2017-01.rec'),
    users: 1,
    head: '',
    row: ({ row, utcMs }) =>
      `${iso(utcMs).replace(/\.\d+Z$/, 'Z')}\t*                 \t{"_type":"location","tst":${utcMs / 1000},` +
      `"lat":${row.lat},"lon":${row.long},"acc":${Math.round(row.accuracy)},"vel":${Math.round(row.speed * 3.6)}}\n`,
    tail: '',
  },
};

async function writeFile(file: string, writer: Writer, points: number): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  let rows = 0;
  let text = writer.head;
  for (const sample of samples(points, writer.users)) {
    text += writer.row(sample, rows === 0);
    rows++;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text + writer.tail);
  await once(out, 'finish');
  return rows;
}

/** Records per second of the reader alone, or of the reader and the checks (`check`). */
async function readOnly(file: string, format: ImportFormat, check: boolean, user: string | undefined) {
  const began = performance.now();
  const opened = await IMPORT_DEPS.open(file);
  let records = 0;
  for await (const chunk of IMPORT_DEPS.reader(format)(opened.input, { path: file, user })) {
    records += chunk.length;
    if (check) for (const record of chunk) if (record.ok) composePoint(record.fix);
  }
  return records / ((performance.now() - began) / 1000);
}

async function importOnce(file: string, format: ImportFormat, db: string, user: string | undefined) {
  const store = openSqliteStore({ path: db });
  try {
    const report = await importFiles([file], storeDestination(store, format), IMPORT_DEPS, {
      user,
      format,
      batchSize: BATCH_SIZE,
    });
    const summary = report.files[0]!;
    if (summary.status !== 'done') throw new Error(`${format}: ${summary.status} ${summary.error ?? ''}`);
    return summary;
  } finally {
    await store.close();
  }
}

const dir = await mkdtemp(path.join(tmpdir(), 'locus-bench-import-'));
const rows: Array<Array<string | number>> = [];
try {
  for (const format of formats) {
    const writer = WRITERS[format];
    const file = path.join(dir, writer.file);
    const user = writer.users === 1 && format !== 'owntracks-rec' ? USER : undefined;
    // A small file first, so that the JIT has compiled the reader and the checks before anything is timed.
    await writeFile(file, writer, Math.ceil(POINTS / 20));
    await readOnly(file, format, true, user);
    await importOnce(file, format, path.join(dir, `${format}-warm-up.db`), user);
    const points = await writeFile(file, writer, POINTS);
    const megabytes = (await stat(file)).size / 1e6;
    const parse = await readOnly(file, format, false, user);
    const checked = await readOnly(file, format, true, user);
    const summary = await importOnce(file, format, path.join(dir, `${format}.db`), user);
    rows.push([
      format,
      points,
      megabytes.toFixed(0),
      round(parse),
      round(checked),
      summary.points_per_second,
      ratio(summary.points_per_second, parse),
      summary.stored,
    ]);
    await rm(file);
    console.error(`${format}: done`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

console.log(`### locus import into a fresh SQLite file, batches of ${BATCH_SIZE}\n`);
console.log(`Machine: ${machine()}.\n`);
console.log(
  table(
    [
      'format',
      'points',
      'MB',
      'parse only, points/s',
      'parse + checks, points/s',
      'import, points/s',
      'import / parse',
      'stored',
    ],
    rows,
  ),
);
