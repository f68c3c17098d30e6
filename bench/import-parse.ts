/*
 * Raw parse speed of the GPX, GeoJSON and Takeout import readers: a generated file per format (the same points in
 * each), read from disk through the reader alone, no checks and no storage. This is the ceiling `locus import`
 * works under, and the baseline BENCHMARKS.md compares the end-to-end import to. The files go to a temporary
 * directory, removed at the end.
 *
 *   node --import tsx bench/import-parse.ts [points]      (default 2,000,000)
 *
 * Baselines on the same files: saxes alone (no handlers but a counter) for GPX, and stream-json's tokenizer alone
 * (packed tokens, no objects assembled) for the JSON formats: why the JSON readers use their own item scanner.
 */
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  rmSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { SaxesParser } from 'saxes';
import { jsonParser } from 'stream-json/parser.js';
import { generateSamples, type TraceSample } from '../src/tools/generate/trace.js';
import { readGeoJson } from '../src/import/readers/geojson/geojson-reader.js';
import { readGpx } from '../src/import/readers/gpx/gpx-reader.js';
import { readTakeout } from '../src/import/readers/takeout/takeout-reader.js';
import type { FormatReader } from '../src/import/types.js';
import { machine, table } from './lib/report.js';

const POINTS = Number(process.argv[2] ?? 2_000_000);
const RUNS = 3;

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const FORMATS = {
  gpx: {
    head:
      '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1"' +
      ' xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">\n<trk><name>bench</name><trkseg>\n',
    item: ({ row, utcMs }: TraceSample, first: boolean) =>
      `${first ? '' : '\n'}<trkpt lat="${row.lat}" lon="${row.long}"><ele>12.4</ele><time>${isoSeconds(utcMs)}</time>` +
      `<hdop>${(row.accuracy / 5).toFixed(1)}</hdop><extensions><gpxtpx:TrackPointExtension>` +
      `<gpxtpx:speed>${row.speed}</gpxtpx:speed></gpxtpx:TrackPointExtension></extensions></trkpt>`,
    tail: '\n</trkseg></trk>\n</gpx>\n',
  },
  geojson: {
    head: '{"type":"FeatureCollection","features":[\n',
    item: ({ row, utcMs }: TraceSample, first: boolean) =>
      `${first ? '' : ',\n'}{"type":"Feature","geometry":{"type":"Point","coordinates":[${row.long},${row.lat}]},` +
      `"properties":{"timestamp":"${isoSeconds(utcMs)}","accuracy":${row.accuracy},"speed":${row.speed}}}`,
    tail: '\n]}\n',
  },
  // Laid out as Google writes Records.json.
  takeout: {
    head: '{\n  "locations" : [ ',
    item: ({ row, utcMs }: TraceSample, first: boolean) =>
      `${first ? '' : ', '}{\n    "timestamp" : "${new Date(utcMs).toISOString()}",\n` +
      `    "latitudeE7" : ${Math.round(row.lat * 1e7)},\n    "longitudeE7" : ${Math.round(row.long * 1e7)},\n` +
      `    "accuracy" : ${Math.round(row.accuracy)},\n    "velocity" : ${Math.round(row.speed)},\n` +
      `    "source" : "WIFI",\n    "deviceTag" : 1234567\n  }`,
    tail: ' ]\n}\n',
  },
} as const;

type Format = keyof typeof FORMATS;
const NAMES = Object.keys(FORMATS) as Format[];

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function generate(dir: string): Promise<Record<Format, string>> {
  const files = Object.fromEntries(NAMES.map((name) => [name, path.join(dir, `bench.${name}`)])) as Record<
    Format,
    string
  >;
  const outs = NAMES.map((name) => createWriteStream(files[name]));
  await Promise.all(NAMES.map((name, i) => write(outs[i]!, FORMATS[name].head)));
  const samples = generateSamples({ seed: 7, users: 20, minutes: 525_600, start: '2017-01-01 00:00:00' });
  let buffers: string[][] = NAMES.map(() => []);
  let count = 0;
  for (const sample of samples) {
    NAMES.forEach((name, i) => buffers[i]!.push(FORMATS[name].item(sample, count === 0)));
    if (++count === POINTS) break;
    if (count % 20_000 === 0) {
      await Promise.all(NAMES.map((_, i) => write(outs[i]!, buffers[i]!.join(''))));
      buffers = NAMES.map(() => []);
    }
  }
  await Promise.all(NAMES.map((name, i) => write(outs[i]!, buffers[i]!.join('') + FORMATS[name].tail)));
  await Promise.all(outs.map((out) => new Promise((resolve) => out.end(resolve))));
  return files;
}

interface Task {
  label: string;
  file: string;
  run: () => Promise<number>;
  runs: { ms: number; count: number }[];
}

/** Runs every task RUNS times, round-robin, so that a change in the machine's load hits all of them alike. */
async function measure(tasks: Task[]): Promise<void> {
  for (let round = 0; round < RUNS; round++) {
    for (const task of tasks) {
      const began = performance.now();
      const count = await task.run();
      task.runs.push({ ms: performance.now() - began, count });
    }
  }
}

function median(task: Task): { ms: number; count: number } {
  return [...task.runs].sort((a, b) => a.ms - b.ms)[Math.floor(RUNS / 2)]!;
}

async function readAll(reader: FormatReader, file: string): Promise<number> {
  let records = 0;
  for await (const batch of reader(createReadStream(file), { path: file, user: 'bench' })) {
    records += batch.length;
  }
  return records;
}

async function saxesAlone(file: string): Promise<number> {
  const parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  let points = 0;
  parser.on('opentag', (tag) => {
    if (tag.name === 'trkpt') points++;
  });
  const decoder = new TextDecoder();
  for await (const chunk of createReadStream(file))
    parser.write(decoder.decode(chunk as Buffer, { stream: true }));
  parser.close();
  return points;
}

async function streamJsonTokens(file: string): Promise<number> {
  const tokenize = jsonParser({ streamValues: false });
  let tokens = 0;
  const decoder = new TextDecoder();
  for await (const chunk of createReadStream(file)) {
    const out = tokenize(decoder.decode(chunk as Buffer, { stream: true }));
    if (typeof out === 'object') tokens += out.values.length;
  }
  return tokens;
}

const READERS: Record<Format, FormatReader> = { gpx: readGpx, geojson: readGeoJson, takeout: readTakeout };

const dir = mkdtempSync(path.join(os.tmpdir(), 'locus-import-parse-'));
try {
  const generateBegan = performance.now();
  const files = await generate(dir);
  const generateS = (performance.now() - generateBegan) / 1000;
  const rows: (string | number)[][] = [];
  const row = (label: string, file: string, ms: number, points: number, what = 'points/s') => {
    const mb = statSync(file).size / 1e6;
    rows.push([
      label,
      mb.toFixed(0),
      Math.round((points / ms) * 1000).toLocaleString('en-US') + ` ${what}`,
      ((mb / ms) * 1000).toFixed(1),
    ]);
  };
  const tasks: Task[] = [
    ...NAMES.map((name) => ({
      label: `${name} reader`,
      file: files[name],
      run: () => readAll(READERS[name], files[name]),
      runs: [],
    })),
    {
      label: 'gpx: saxes alone, no records made',
      file: files.gpx,
      run: () => saxesAlone(files.gpx),
      runs: [],
    },
    ...(['geojson', 'takeout'] as const).map((name) => ({
      label: `${name}: stream-json tokenizer alone, no objects`,
      file: files[name],
      run: async () => (await streamJsonTokens(files[name]), POINTS),
      runs: [],
    })),
  ];
  await measure(tasks);
  for (const task of tasks) {
    const { ms, count } = median(task);
    if (count !== POINTS) throw new Error(`${task.label}: read ${count} records, wrote ${POINTS}`);
    row(task.label, task.file, ms, count);
  }
  console.log(`### Import readers, raw parse speed (${POINTS.toLocaleString('en-US')} points per file)\n`);
  console.log(`Machine: ${machine()}.\n`);
  console.log(table(['reader', 'MB', 'speed (median of 3)', 'MB/s'], rows));
  console.log(
    `\nFiles generated by src/tools/generate/trace.ts in ${generateS.toFixed(0)} s; peak RSS of this process ` +
      `${Math.round(process.resourceUsage().maxRSS / 1024)} MiB.`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
