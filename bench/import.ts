/*
 * `locus import` on SQLite: a generated multi-million-point file per format, imported into a fresh SQLite file,
 * against the raw parse speed of the same file measured in the same run (the reader alone, no checks, no storage),
 * and the checks without storage in between, which shows where the time goes.
 *
 *   node --import tsx bench/import.ts [--points 2000000] [--formats csv,gpx,geojson,takeout,owntracks-rec]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { composePoint } from '../src/ingest/compose.js';
import { importFiles } from '../src/import/engine.js';
import { IMPORT_DEPS } from '../src/import/deps.js';
import { storeDestination } from '../src/import/destinations.js';
import { IMPORT_FORMATS, type ImportFormat } from '../src/import/readers/index.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { machine, ratio, round, table } from './lib/report.js';
import { TRACE_FILES, TRACE_USER, writeTraceFile } from './lib/trace-files.js';

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
    const writer = TRACE_FILES[format];
    const file = path.join(dir, writer.file);
    const user = writer.users === 1 && format !== 'owntracks-rec' ? TRACE_USER : undefined;
    // A small file first, so that the JIT has compiled the reader and the checks before anything is timed.
    await writeTraceFile(file, writer, Math.ceil(POINTS / 20));
    await readOnly(file, format, true, user);
    await importOnce(file, format, path.join(dir, `${format}-warm-up.db`), user);
    const points = await writeTraceFile(file, writer, POINTS);
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
