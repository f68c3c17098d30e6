import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { generateTrace, type TraceRow } from '../../src/tools/generate/trace.js';
import { buildApp } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import type { FileSummary } from '../../src/import/summary.js';
import { newSecret } from '../../src/auth/tokens.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { build, minutesOf, put } from '../support/app.js';
import { freePort } from '../support/ports.js';
import { longTextGpx, nestedGeoJson } from '../support/hostile-files.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'locus-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS = ['timestamp', 'lat', 'long', 'accuracy', 'speed', 'user_id'];
const MAIN = path.join(ROOT, 'src/cli/main.ts');

/**
 * The command line to run: `locus import` through main.ts once it is wired there; until then a two-line entry that
 * runs importCommand() as main.ts will (exit code from process.exitCode).
 */
function commandLine(): string[] {
  if (readFileSync(MAIN, 'utf8').includes('importCommand')) return [MAIN, 'import'];
  const entry = path.join(dir, 'import-entry.mjs');
  const command = pathToFileURL(path.join(ROOT, 'src/cli/import.ts')).href;
  writeFileSync(
    entry,
    `const { importCommand } = await import(${JSON.stringify(command)});\n` +
      "await importCommand().parseAsync(process.argv.slice(2), { from: 'user' });\n",
  );
  return [entry];
}
const COMMAND = commandLine();

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `locus import ARGS` as a child process: node itself with tsx's loader, so that signals reach it. */
function start(args: string[], env: NodeJS.ProcessEnv = {}, nodeOptions: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeOptions, '--import', 'tsx', ...COMMAND, ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: undefined, DEDUPE_RETENTION: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}, nodeOptions: string[] = []) =>
  finished(start(args, env, nodeOptions));

interface JsonReport {
  outcome: string;
  exit_code: number;
  files: FileSummary[];
  max_rss_bytes: number;
}

function json(result: Run): JsonReport {
  try {
    return JSON.parse(result.stdout) as JsonReport;
  } catch {
    assert.fail(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

function csvFile(name: string, rows: readonly TraceRow[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify(rows as TraceRow[], { header: true, columns: COLUMNS }));
  return file;
}

/** A generated trace written as CSV by streaming, for files too large to build in memory. */
async function largeCsvFile(
  name: string,
  users: number,
  minutes: number,
): Promise<{ file: string; rows: number }> {
  const file = path.join(dir, name);
  const out = createWriteStream(file);
  let rows = 0;
  let text = `${COLUMNS.join(',')}\n`;
  for (const row of generateTrace({ seed: 11, users, minutes, scenario: 'city' })) {
    text += `${row.timestamp},${row.lat},${row.long},${row.accuracy},${row.speed},${row.user_id}\n`;
    rows++;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
  return { file, rows };
}

/** An app reading the SQLite file the import wrote. */
async function appOn(t: TestContext, file: string): Promise<LocusApp> {
  const store = openSqliteStore({ path: file });
  const app = await buildApp({ store });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  return app;
}

async function allMinutes(app: LocusApp, users: readonly string[]) {
  return Promise.all(users.map(async (user) => [user, await minutesOf(app, user)] as const));
}

/** Every minute row and every dedupe key of a SQLite file, in key order: the exact state, bit for bit. */
function tables(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return {
      minutes: db.prepare('SELECT * FROM minutes ORDER BY user_id, minute_ms').all(),
      keys: db.prepare('SELECT count(*) AS n, sum(ts_ms) AS sum FROM dedupe_keys').get(),
    };
  } finally {
    db.close();
  }
}

/** Points committed so far in a SQLite file another process is writing; 0 before its schema exists. */
function committed(file: string): number {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM dedupe_keys').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function whenCommitted(file: string, child: ChildProcess, atLeast: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) assert.fail('the import finished before it could be interrupted');
    const n = committed(file);
    if (n >= atLeast) return n;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const USERS = ['u1', 'u2', 'u3'];
const ROWS = [...generateTrace({ seed: 5, users: 3, minutes: 30, scenario: 'zones' })];
// Two broken rows, which PUT /location refuses too: at CSV lines 12 and 30 (line 1 is the header).
const WITH_BROKEN = ROWS.flatMap((row, i) =>
  i === 10 ? [{ ...row, lat: 91 }] : i === 28 ? [{ ...row, timestamp: '2017-02-30 10:00:00' }] : [row],
);

/** What sending the same rows one by one to PUT /location gives. */
async function putOneByOne(t: TestContext, rows: readonly TraceRow[]) {
  const { app } = await build(t);
  let stored = 0;
  for (const row of rows) {
    const response = await put(app, row);
    if (response.statusCode === 200 && response.json<{ status: string }>().status === 'stored') stored++;
  }
  return { minutes: await allMinutes(app, USERS), stored };
}

describe('locus import', () => {
  it('imports a CSV to exactly the minutes PUT /location gives; a second import is all duplicates', async (t) => {
    const file = csvFile('trace.csv', WITH_BROKEN);
    const db = path.join(dir, 'trace.db');
    const first = await run(['--database-url', `sqlite:${db}`, '--batch-size', '50', '--json', file]);
    assert.equal(first.code, 0, first.stderr);
    const report = json(first);
    const [summary] = report.files;
    assert.equal(report.outcome, 'done');
    assert.equal(summary?.read, WITH_BROKEN.length);
    assert.equal(summary?.rejected, 2);
    assert.deepEqual(
      summary?.rejected_by_reason.map((r) => [r.field, r.reason, r.count, r.first_at]),
      [
        ['lat', 'must be ≤ 90', 1, `${file}:12`],
        ['timestamp', 'is not a real time', 1, `${file}:30`],
      ],
    );
    const expected = await putOneByOne(t, WITH_BROKEN);
    assert.equal(summary?.stored, expected.stored);
    assert.equal(summary?.duplicates, WITH_BROKEN.length - 2 - expected.stored);
    assert.deepEqual(await allMinutes(await appOn(t, db), USERS), expected.minutes);

    const second = json(await run(['--database-url', `sqlite:${db}`, '--json', file]));
    assert.deepEqual(
      [second.files[0]?.stored, second.files[0]?.duplicates, second.files[0]?.rejected],
      [0, WITH_BROKEN.length - 2, 2],
    );
  });

  it('prints a summary per file for people, and takes DATABASE_URL', async () => {
    const file = csvFile('summary.csv', WITH_BROKEN.slice(0, 20));
    const result = await run([file], { DATABASE_URL: `sqlite:${path.join(dir, 'summary.db')}` });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${file} \\(csv\\): done$`, 'm'));
    assert.match(result.stdout, /^ {2}read {8}20$/m);
    assert.match(result.stdout, /^ {4}1 × lat: must be ≤ 90 \(first at .*summary\.csv:12\)$/m);
    assert.match(result.stdout, /^ {2}points\/s {4}[\d,]+$/m);
  });

  it('through --api, POST /locations gives the same minutes as PUT /location', async (t) => {
    const { app } = await build(t);
    const port = await freePort();
    await app.listen({ port, host: '127.0.0.1' });
    const file = csvFile('api.csv', WITH_BROKEN);
    const args = [
      '--api',
      `http://127.0.0.1:${port}`,
      '--token',
      'secret',
      '--batch-size',
      '40',
      '--json',
      file,
    ];
    const result = await run(args);
    assert.equal(result.code, 0, result.stderr);
    const summary = json(result).files[0];
    const expected = await putOneByOne(t, WITH_BROKEN);
    assert.equal(summary?.stored, expected.stored);
    assert.equal(summary?.rejected, 2);
    assert.deepEqual(await allMinutes(app, USERS), expected.minutes);
  });

  it('through --api, takes the token from LOCUS_TOKEN, and stops on a refused one', async (t) => {
    const { app, store } = await build(t, { auth: { required: true } });
    const secret = newSecret();
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: null,
      scope: 'admin',
      label: null,
      createdMs: 0,
    });
    const port = await freePort();
    await app.listen({ port, host: '127.0.0.1' });
    const file = csvFile('api-env-token.csv', ROWS.slice(0, 10));
    const args = ['--api', `http://127.0.0.1:${port}`, '--json', file];
    const accepted = await run(args, { LOCUS_TOKEN: secret.token });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(json(accepted).files[0]?.read, 10);
    const refused = await run(args, { LOCUS_TOKEN: 'locus_not-a-token' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /answered 401/);
  });

  it('stops with one line naming a file of no known format, and exit code 1', async () => {
    const file = path.join(dir, 'notes.txt');
    writeFileSync(file, 'shopping list\neggs\n');
    const result = await run(['--database-url', `sqlite:${path.join(dir, 'unknown.db')}`, file]);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      `locus import: ${file}: not in a format locus import reads (use --format to force one)`,
    ]);
  });

  it('goes on after a missing file, imports the rest, and exits 1', async () => {
    const good = csvFile('after-missing.csv', ROWS.slice(0, 10));
    const missing = path.join(dir, 'missing.csv');
    const result = await run([
      '--database-url',
      `sqlite:${path.join(dir, 'missing.db')}`,
      '--json',
      missing,
      good,
    ]);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stderr.trim().split('\n'), [`locus import: ${missing}: no such file`]);
    const report = json(result);
    assert.deepEqual(
      report.files.map((f) => [f.status, f.read]),
      [
        ['unreadable', 0],
        ['done', 10],
      ],
    );
  });

  it('stops a deeply nested .geojson.gz and a .gpx.gz with a huge element with one line each, memory flat', async () => {
    // 60 MB of `[…]` and 200 MB of text in one <time>, a few hundred KB gzipped; a heap of 64 MB could hold neither.
    const nested = path.join(dir, 'nested.geojson.gz');
    const long = path.join(dir, 'long-time.gpx.gz');
    await nestedGeoJson(nested, 30);
    await longTextGpx(long, 200, 'time');
    const good = csvFile('after-hostile.csv', ROWS.slice(0, 10));
    const database = `sqlite:${path.join(dir, 'hostile.db')}`;
    const args = ['--database-url', database, '--user', 'me', '--json', nested, long, good];
    const result = await run(args, {}, ['--max-old-space-size=64']);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 2, result.stderr);
    assert.equal(
      lines[0],
      `locus import: ${nested}: JSON nested deeper than 64 levels at line 1, column 103: not a location file`,
    );
    assert.match(
      lines[1]!,
      /^locus import: .*long-time\.gpx\.gz: a <time> longer than 64 KiB, at line 2, column \d+: not a GPX value$/,
    );
    const report = json(result);
    assert.equal(report.outcome, 'unreadable');
    assert.deepEqual(
      report.files.map((f) => [f.status, f.read]),
      [
        ['unreadable', 0],
        ['unreadable', 0],
        ['done', 10],
      ],
    );
    assert.ok(report.max_rss_bytes < 300 * 2 ** 20, `peak RSS ${report.max_rss_bytes} bytes`);
  });

  it('refuses --token without --api, and a --user PUT /location would refuse, with exit code 2', async () => {
    const file = csvFile('usage.csv', ROWS.slice(0, 1));
    const token = await run(['--token', 't', file]);
    assert.equal(token.code, 2);
    assert.equal(token.stderr, 'locus import: --token needs --api\n');
    const user = await run(['--user', 'a\u0007b', file]);
    assert.equal(user.code, 2);
    assert.match(user.stderr, /^locus import: --user must not contain control characters/);
  });
});

describe('locus import of a large file', () => {
  let large: Promise<{ file: string; rows: number }> | undefined;
  // 100 users × 720 minutes: a little over 500,000 rows.
  const largeFile = () => (large ??= largeCsvFile('large.csv', 100, 720));
  let reference: Promise<{ db: string; report: JsonReport }> | undefined;
  /**
   * The large file imported in one go: the state an interrupted import must end up in. Its JavaScript heap is
   * capped at 32 MB, far less than the file's points would take as objects (about 100 MB for 500,000 of them),
   * so it fails with "heap out of memory" if the import ever holds more than a few batches.
   */
  const referenceImport = () =>
    (reference ??= (async () => {
      const { file } = await largeFile();
      const db = path.join(dir, 'reference.db');
      const args = ['--database-url', `sqlite:${db}`, '--json', file];
      const result = await run(args, {}, ['--max-old-space-size=32']);
      assert.equal(result.code, 0, result.stderr);
      return { db, report: json(result) };
    })());

  it('imports 500,000 points with bounded memory', async () => {
    const { rows } = await largeFile();
    assert.ok(rows >= 500_000, `${rows} rows`);
    const { report } = await referenceImport();
    assert.equal(report.files[0]?.read, rows);
    // Generous: most of it is Node, tsx (twice: the SQLite writer thread loads it too) and the time-zone data.
    assert.ok(report.max_rss_bytes < 300 * 2 ** 20, `peak RSS ${report.max_rss_bytes} bytes`);
  });

  it('killed half way and run again, ends with exactly the aggregates of one run', async () => {
    const { file, rows } = await largeFile();
    const db = path.join(dir, 'killed.db');
    const child = start(['--database-url', `sqlite:${db}`, '--batch-size', '1000', file]);
    const exited = finished(child);
    await whenCommitted(db, child, 5000);
    child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    const before = committed(db);
    assert.ok(before > 0, 'some batches committed');

    const again = json(await run(['--database-url', `sqlite:${db}`, '--json', file]));
    assert.equal(again.outcome, 'done');
    const { db: referenceDb, report } = await referenceImport();
    assert.ok(before < (report.files[0]?.stored ?? 0), 'the first run was cut short');
    assert.equal(again.files[0]?.read, rows);
    assert.equal(again.files[0]?.stored, (report.files[0]?.stored ?? 0) - before);
    assert.deepEqual(tables(db), tables(referenceDb));
  });

  it('on SIGINT, stops after the batch in hand commits, prints the summary so far and exits 130', async () => {
    const { file } = await largeFile();
    const db = path.join(dir, 'interrupted.db');
    const child = start(['--database-url', `sqlite:${db}`, '--batch-size', '1000', '--json', file]);
    const exited = finished(child);
    await whenCommitted(db, child, 3000);
    child.kill('SIGINT');
    const result = await exited;
    assert.equal(result.code, 130, result.stderr);
    const report = json(result);
    assert.equal(report.outcome, 'interrupted');
    assert.equal(report.files[0]?.status, 'interrupted');
    const summary = report.files[0];
    assert.ok(summary);
    assert.equal(summary.stored + summary.duplicates + summary.rejected, summary.read);
    assert.equal(committed(db), summary.stored, 'the summary counts exactly what was committed');
    assert.match(result.stderr, /interrupted; run the same command again to finish/);
  });
});
