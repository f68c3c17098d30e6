import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { exportCommand, type ExportIo } from '../../src/cli/export.js';
import { generateSamples, samplePoint } from '../../src/tools/generate/trace.js';
import { buildApp } from '../../src/http/app.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

let dir: string;
let databaseUrl: string;
/** What the API answers for each export URL, to compare the CLI's bytes with. */
let api: (url: string) => Promise<string>;
let closeApi: () => Promise<void>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'locus-export-'));
  const path = join(dir, 'locus.db');
  databaseUrl = `sqlite:${path}`;
  const store = openSqliteStore({ path });
  const points = [...generateSamples({ seed: 3, users: 2, minutes: 30 })].map(samplePoint);
  await store.ingest(points);
  const app = await buildApp({ store });
  api = async (url) => (await app.inject(url)).body;
  closeApi = async () => {
    await app.close();
    await store.close();
  };
});

after(async () => {
  await closeApi();
  await rm(dir, { recursive: true, force: true });
});

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void) {
    this.text += chunk.toString('utf8');
    done();
  }
}

/** Runs `locus export ARGS` in-process against the test database; rejects with the CommanderError on failure. */
async function run(args: string[], io: ExportIo = {}): Promise<{ stdout: string; stderr: string }> {
  const stdout = new Collect();
  let stderr = '';
  const command = exportCommand({ stdout, env: { DATABASE_URL: databaseUrl }, ...io })
    .exitOverride()
    .configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) Object.assign(error, { stderr });
    throw error;
  }
  return { stdout: stdout.text, stderr };
}

async function failure(args: string[], io: ExportIo = {}): Promise<{ exitCode: number; stderr: string }> {
  try {
    await run(args, io);
  } catch (error) {
    if (error instanceof CommanderError) return error as CommanderError & { stderr: string };
    throw error;
  }
  assert.fail(`locus export ${args.join(' ')} succeeded`);
}

describe('locus export', () => {
  for (const format of ['geojson', 'csv', 'gpx'] as const) {
    it(`writes the same ${format} as the API to stdout`, async () => {
      const { stdout } = await run(['--user', 'u1', '--format', format]);
      assert.ok(stdout.length > 1000);
      assert.equal(stdout, await api(`/users/u1/locations.${format}`));
    });
  }

  it('honours --from and --to like the API', async () => {
    const range = 'from=2017-01-01T13:10:00Z&to=2017-01-01T13:20:00Z';
    const { stdout } = await run([
      '--user',
      'u2',
      '--format',
      'csv',
      '--from',
      '2017-01-01T08:10:00-05:00',
      '--to',
      '2017-01-01T13:20:00Z',
    ]);
    assert.equal(stdout, await api(`/users/u2/locations.csv?${range}`));
    assert.equal(stdout.trimEnd().split('\r\n').length, 11);
  });

  it('writes --out FILE, taking the format from its extension, leaving no partial file', async () => {
    const out = join(dir, 'track.gpx');
    const { stdout } = await run(['--user', 'u1', '--out', out]);
    assert.equal(stdout, '');
    assert.equal(await readFile(out, 'utf8'), await api('/users/u1/locations.gpx'));
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('.partial-')),
      [],
    );
  });

  it('takes --database-url over DATABASE_URL', async () => {
    const { stdout } = await run(['--user', 'u1', '--format', 'csv', '--database-url', databaseUrl], {
      env: { DATABASE_URL: 'sqlite:/nonexistent/locus.db' },
    });
    assert.match(stdout, /^minute,lat,long,accuracy,speed,samples\r\n/);
  });

  it('fails for an unknown user, writing no file', async () => {
    const out = join(dir, 'nobody.csv');
    const { exitCode, stderr } = await failure(['--user', 'nobody', '--out', out]);
    assert.equal(exitCode, 1);
    assert.match(stderr, /no data for user "nobody"/);
    assert.equal(existsSync(out), false);
  });

  it('fails without a format it can tell', async () => {
    const { stderr } = await failure(['--user', 'u1', '--out', join(dir, 'track.txt')]);
    assert.match(stderr, /--format is required/);
    assert.match(
      (await failure(['--user', 'u1', '--format', 'kml'])).stderr,
      /Allowed choices are geojson, csv, gpx/,
    );
  });

  it('fails for a bad or empty range', async () => {
    assert.match(
      (await failure(['--user', 'u1', '--format', 'csv', '--from', 'yesterday'])).stderr,
      /ISO 8601/,
    );
    const empty = ['--user', 'u1', '--format', 'csv', '--from', '2017-01-02', '--to', '2017-01-01'];
    assert.match((await failure(empty)).stderr, /--to must be after --from/);
  });

  it('does not create a SQLite database that is not there', async () => {
    const path = join(dir, 'missing', 'locus.db');
    const { stderr } = await failure(['--user', 'u1', '--format', 'csv'], {
      env: { DATABASE_URL: `sqlite:${path}` },
    });
    assert.match(stderr, /no database at/);
    assert.equal(existsSync(join(dir, 'missing')), false);
  });

  it('reports a bad DATABASE_URL as a configuration error', async () => {
    const { ConfigError } = await import('../../src/config.js');
    await assert.rejects(
      run(['--user', 'u1', '--format', 'csv'], { env: { DATABASE_URL: 'mysql://x' } }),
      ConfigError,
    );
  });
});
