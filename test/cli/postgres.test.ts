import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres/postgres-store.js';
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/sqlite-store.js';
import { createTestDatabase, findTestServer, type TestDatabase } from '../store/postgres-database.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const CLOSED_PORT_URL = 'postgres://postgres:hunter2@127.0.0.1:1/locus';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function locus(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('locus migrate', () => {
  it('migrates a SQLite file and says which version it is at', async () => {
    const url = `sqlite:${path.join(dir, 'locus.db')}`;
    const { code, stdout } = await locus(['migrate', '--database-url', url]);
    assert.equal(code, 0);
    assert.equal(stdout, `locus: ${url}: schema at version ${SQLITE_SCHEMA_VERSION}\n`);
  });

  it('stops with one line and exit code 1 when PostgreSQL cannot be reached, never showing the password', async () => {
    const { code, stderr } = await locus(['migrate'], { DATABASE_URL: CLOSED_PORT_URL });
    assert.equal(code, 1);
    assert.match(stderr, /^locus: PostgreSQL database unavailable \(ECONNREFUSED\): .+\n$/);
    assert.doesNotMatch(stderr, /hunter2/);
  });

  it('stops with exit code 2 naming the flag when --database-url is not a database URL', async () => {
    const { code, stderr } = await locus(['migrate', '--database-url', 'mysql://x']);
    assert.equal(code, 2);
    assert.match(stderr, /^locus: --database-url: .+\n$/);
  });
});

describe('locus serve', () => {
  it('stops with one line and exit code 1 when PostgreSQL cannot be reached at start-up', async () => {
    const { code, stderr } = await locus(['serve'], {
      DATABASE_URL: CLOSED_PORT_URL,
      HOST: '127.0.0.1',
      PORT: '0',
    });
    assert.equal(code, 1);
    assert.match(stderr, /^locus: PostgreSQL database unavailable \(ECONNREFUSED\): .+\n$/);
  });
});

const server = await findTestServer();

describe('locus migrate on PostgreSQL', { skip: server.skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase(server.url);
  });
  after(() => db?.drop());

  it('applies the migrations of DATABASE_URL once, then finds nothing to do', async () => {
    const first = await locus(['migrate'], { DATABASE_URL: db.url });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      first.stdout,
      `locus: ${db.url}: schema migrated from version 0 to ${POSTGRES_SCHEMA_VERSION}\n`,
    );
    const second = await locus(['migrate', '--database-url', db.url]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, `locus: ${db.url}: schema already at version ${POSTGRES_SCHEMA_VERSION}\n`);
  });
});
