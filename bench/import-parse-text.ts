/*
 * Raw parse speed of the text import readers (challenge CSV, OwnTracks Recorder .rec), plain and gzip: the file
 * read through openImportSource and its reader, records counted, nothing validated or stored. The baseline that
 * `locus import` is compared to. Data: BENCH_POINTS (default 1,000,000) generated points in a temporary directory.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { generateSamples, type TraceSample } from '../src/tools/generate/trace.js';
import { readCsv } from '../src/import/readers/csv/csv-reader.js';
import { detectFormat } from '../src/import/readers/index.js';
import { readOwnTracksRec } from '../src/import/readers/owntracks-rec/owntracks-rec-reader.js';
import { openImportSource } from '../src/import/source.js';
import type { FormatReader } from '../src/import/types.js';
import { machine, table } from './lib/report.js';

const TARGET_POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const RUNS = 3;
const REC_TAG = '*'.padEnd(18);

function csvLine({ row }: TraceSample): string {
  return `${row.timestamp},${row.lat},${row.long},${row.accuracy},${row.speed},${row.user_id}\n`;
}

function recLine({ row, utcMs }: TraceSample): string {
  const payload = {
    _type: 'location',
    tid: row.user_id.slice(-2),
    acc: Math.round(row.accuracy),
    batt: 80,
    conn: 'm',
    lat: row.lat,
    lon: row.long,
    t: 'u',
    tst: utcMs / 1000,
    vel: Math.round(row.speed * 3.6),
  };
  return `${new Date(utcMs).toISOString().slice(0, 19)}Z\t${REC_TAG}\t${JSON.stringify(payload)}\n`;
}

async function writeLines(
  file: string,
  header: string,
  line: (sample: TraceSample) => string,
): Promise<void> {
  const out = createWriteStream(file);
  let text = header;
  let count = 0;
  for (const sample of generateSamples({ seed: 7, users: 200, minutes: 720 })) {
    text += line(sample);
    if (++count >= TARGET_POINTS) break;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}

async function gzipFile(file: string): Promise<string> {
  await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz`));
  return `${file}.gz`;
}

interface Run {
  seconds: number;
  /** CPU seconds of this process (user + system): what the run costs on a machine that others share. */
  cpuSeconds: number;
  points: number;
  errors: number;
}

async function parseOnce(file: string, reader: FormatReader): Promise<Run> {
  const began = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const source = await openImportSource(file);
  let points = 0;
  let errors = 0;
  for await (const batch of reader(source.stream, { path: file, user: undefined }))
    for (const record of batch) {
      if (record.ok) points++;
      else errors++;
    }
  const used = process.cpuUsage(cpu);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, points, errors };
}

/** Reading alone: the floor under any reader. */
const readOnly: FormatReader = async function* (input) {
  for await (const chunk of input) if ((chunk as Buffer).length < 0) yield [];
};

async function median(file: string, reader: FormatReader): Promise<Run> {
  await parseOnce(file, reader); // warm-up: JIT and page cache
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await parseOnce(file, reader));
  return runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(RUNS / 2)]!;
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-import-'));
try {
  const csv = path.join(dir, 'trace.csv');
  // The Recorder's layout, so that the user comes from the path as it would.
  const recDir = path.join(dir, 'rec', 'bench', 'phone');
  mkdirSync(recDir, { recursive: true });
  const rec = path.join(recDir, '2017-01.rec');
  await writeLines(csv, 'timestamp,lat,long,accuracy,speed,user_id\n', csvLine);
  await writeLines(rec, '', recLine);
  const files: Array<[string, string, FormatReader]> = [
    ['CSV', csv, readCsv],
    ['CSV, gzip', await gzipFile(csv), readCsv],
    ['OwnTracks .rec', rec, readOwnTracksRec],
    ['OwnTracks .rec, gzip', await gzipFile(rec), readOwnTracksRec],
  ];

  const rows: Array<Array<string | number>> = [];
  for (const [label, file, reader] of files) {
    const source = await openImportSource(file);
    const format = detectFormat(source.head);
    source.close();
    const contentBytes = statSync(file.replace(/\.gz$/, '')).size;
    const read = await median(file, readOnly);
    const run = await median(file, reader);
    rows.push([
      `${label} (detected: ${format})`,
      (statSync(file).size / 2 ** 20).toFixed(1),
      run.points + run.errors,
      Math.round(run.points / run.seconds).toLocaleString('en-US'),
      Math.round(run.points / run.cpuSeconds).toLocaleString('en-US'),
      (contentBytes / 2 ** 20 / run.seconds).toFixed(0),
      (contentBytes / 2 ** 20 / read.seconds).toFixed(0),
    ]);
    if (run.errors > 0) throw new Error(`${label}: ${run.errors} records failed to parse`);
  }

  console.log(
    `### Import: raw parse speed of the text readers, ${TARGET_POINTS.toLocaleString('en-US')} points\n`,
  );
  console.log(`Machine: ${machine()}.\n`);
  console.log(
    table(
      [
        'file',
        'MiB on disk',
        'records',
        'points/s',
        'points per CPU-second',
        'MiB/s (content)',
        'MiB/s reading alone',
      ],
      rows,
    ),
  );
  console.log(
    `\nMedian of ${RUNS} runs after a warm-up: openImportSource + reader, records counted, nothing checked or ` +
      'stored. MiB/s counts decompressed content; a busy machine shows in points/s, less in points per CPU-second.',
  );
  // maxRSS is in KiB. Generation included; it holds 1 MiB of text at a time.
  console.log(`Peak RSS of the bench process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB.`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
