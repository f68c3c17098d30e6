import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newSecret } from '../../src/auth/tokens.js';
import { build } from '../support/app.js';

/*
 * The real `locus` process, as a user meets it (#14, items 13 and 14): exit 2 for a bad option or argument of any
 * command, a bad setting named as it was given, --version, a line saying what export and generate wrote, and
 * import's answers to a refused token and to a file of which nothing could be stored.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(path.join(tmpdir(), 'locus-usage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function locus(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: `sqlite:${path.join(dir, 'locus.db')}`,
        DEDUPE_RETENTION: undefined,
        LOCUS_TOKEN: undefined,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function listening(t: TestContext, auth = false): Promise<{ url: string; token: string }> {
  const { app, store } = await build(t, auth ? { auth: { required: true } } : {});
  const secret = newSecret();
  await store.tokens.create({
    id: secret.id,
    hash: secret.hash,
    userId: null,
    scope: 'admin',
    label: null,
    createdMs: 0,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, token: secret.token };
}

const CSV = 'timestamp,lat,long,accuracy,speed,user_id\n2017-01-01 13:05:12,40.701,-73.916,11.3,1.4,a1\n';

describe('locus: bad options and arguments exit 2, for every command', () => {
  const trace = path.join(dir, 'trace.csv');
  writeFileSync(trace, CSV);
  const cases: [string, string[], RegExp][] = [
    ['an unknown option', ['generate', '--format', 'xml'], /unknown option '--format'/],
    ['a choice that is not one', ['export', '--user', 'a1', '--format', 'xml'], /Allowed choices/],
    ['a batch size of 0', ['import', '--batch-size', '0', trace], /expected a positive integer/],
    ['a missing argument', ['simulate'], /missing required argument/],
    ['a missing required option', ['export'], /--user <id>' not specified/],
    ['an impossible start', ['generate', '--start', '2017-02-30 08:00:00'], /^error: /],
    ['an export without a format', ['export', '--user', 'a1', '--out', 'x.txt'], /--format is required/],
    ['a token without a user', ['token', 'create'], /give --user/],
    ['an unknown command', ['frobnicate'], /unknown command/],
    ['no command', [], /Usage: locus/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const result = await locus(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    });
  }

  it('--version prints the version of package.json, --help exits 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await locus(['--version']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${version}\n`);
    assert.equal((await locus(['export', '--help'])).code, 0);
  });
});

describe('locus: a bad setting is named as it was given', () => {
  it('names the flag when the flag gave it, the variable when the environment did', async () => {
    const flag = await locus(['serve', '--dedupe-retention', '5x']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^locus: --dedupe-retention: must be off, or a duration/);
    const variable = await locus(['serve'], { DEDUPE_RETENTION: '5x' });
    assert.equal(variable.code, 2);
    assert.match(variable.stderr, /^locus: DEDUPE_RETENTION: must be off, or a duration/);
    const database = await locus(['migrate', '--database-url', 'mysql://x']);
    assert.equal(database.code, 2);
    assert.match(database.stderr, /^locus: --database-url: /);
    const imported = await locus(['import', '--database-url', 'mysql://x', 'x.csv']);
    assert.equal(imported.code, 2);
    assert.match(imported.stderr, /^locus import: --database-url: /);
  });
});

describe('locus generate and export say what they wrote, on stderr', () => {
  it('generate --out, then export --out, each one line; stdout stays empty', async () => {
    const out = path.join(dir, 'generated.csv');
    const generated = await locus(['generate', '--users', '2', '--minutes', '3', '--out', out]);
    assert.equal(generated.code, 0, generated.stderr);
    assert.equal(generated.stdout, '');
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').length - 1;
    assert.equal(
      generated.stderr,
      `locus generate: wrote ${rows} rows (2 users, 3 minutes each, city) to ${out}\n`,
    );

    const db = `sqlite:${path.join(dir, 'export.db')}`;
    const imported = await locus(['import', '--database-url', db, out]);
    assert.equal(imported.code, 0, imported.stderr);
    const exported = path.join(dir, 'u1.gpx');
    const result = await locus(['export', '--database-url', db, '--user', 'u1', '--out', exported]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    const minutes = (readFileSync(exported, 'utf8').match(/<trkpt /g) ?? []).length;
    assert.ok(minutes >= 3, `${minutes} minutes`);
    assert.equal(result.stderr, `locus export: wrote ${minutes} minutes of "u1" to ${exported}\n`);

    const stdout = await locus(['export', '--database-url', db, '--user', 'u1', '--format', 'csv']);
    assert.match(stdout.stdout, /^minute,lat,long/);
    assert.equal(stdout.stderr, `locus export: wrote ${minutes} minutes of "u1" to stdout\n`);
    // A half-open range from X to X is valid and empty, as in the API.
    const empty = await locus(
      ['export', '--database-url', db, '--user', 'u1', '--format', 'csv'].concat([
        '--from',
        '2017-01-01',
        '--to',
        '2017-01-01',
      ]),
    );
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, 'minute,lat,long,accuracy,speed,samples\r\n');
  });
});

describe('locus import --api: the token and files of which nothing could be stored', () => {
  it('says a refused token is not valid (401), and a non-ASCII one without sending it', async (t) => {
    const { url } = await listening(t, true);
    const file = path.join(dir, 'token.csv');
    writeFileSync(file, CSV);
    const refused = await locus(['import', '--api', url, '--token', 'locus_not-a-token', file]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /answered 401.*the token is not valid/);
    assert.doesNotMatch(refused.stderr, /cannot reach/);
    const accented = await locus(['import', '--api', url, file], { LOCUS_TOKEN: 'locus_äöü' });
    assert.equal(accented.code, 2);
    assert.match(accented.stderr, /^locus import: LOCUS_TOKEN is not a valid token/);
    const euro = await locus(['import', '--api', url, '--token', 'locus_€', file]);
    assert.equal(euro.code, 2);
    assert.match(euro.stderr, /^locus import: --token is not a valid token/);
    assert.doesNotMatch(euro.stderr, /cannot reach/);
  });

  it('exits 1 with the reason when every point of a file is rejected (GeoJSON without a user)', async (t) => {
    const { url, token } = await listening(t);
    const gpx = path.join(dir, 'no-user.geojson');
    const feature = (minute: string) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [-73.9, 40.7] },
      properties: { timestamp: `2017-01-01T18:${minute}:12Z` },
    });
    writeFileSync(
      gpx,
      JSON.stringify({ type: 'FeatureCollection', features: [feature('05'), feature('06')] }),
    );
    const result = await locus(['import', '--api', url, '--token', token, '--json', gpx]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /no-user\.geojson: nothing stored: all 2 points were rejected \(2 × user_id: .*give --user/,
    );
    assert.equal((JSON.parse(result.stdout) as { exit_code: number }).exit_code, 1);
    // With --user the same file stores its points, and importing it again (all duplicates) is not a failure.
    const withUser = ['import', '--api', url, '--token', token, '--user', 'g1', gpx];
    assert.equal((await locus(withUser)).code, 0);
    assert.equal((await locus(withUser)).code, 0);
  });
});
