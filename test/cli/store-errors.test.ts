/*
 * A database the commands cannot open at start-up (#14, item 6): one line on stderr saying what is wrong and
 * what to do, exit code 1, for `serve`, `migrate` and `token`. Each case was a 40-line stack (a missing
 * PostgreSQL database or role, a SQLite path under a file) or a process spinning at 100 % CPU that ignored
 * SIGTERM (a SQLite path under /proc).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { findTestServer } from '../store/postgres-database.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs locus; a run that has not ended after 20 s is killed and reported with its signal. */
async function locus(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  return { code, signal, stderr };
}

const COMMANDS = [['serve'], ['migrate'], ['token', 'list']];

function assertOneLine(run: Run, pattern: RegExp): void {
  assert.equal(run.signal, null, `ended by ${run.signal}: ${run.stderr}`);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^locus: [^\n]+\n$/, 'one line');
  assert.match(run.stderr, pattern);
}

const dir = mkdtempSync(path.join(tmpdir(), 'locus-store-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a SQLite path that cannot be a database', () => {
  const file = path.join(dir, 'a-file');
  writeFileSync(file, 'not a directory');
  for (const command of COMMANDS) {
    it(`under a file: one line naming it, exit 1 (${command.join(' ')})`, async () => {
      const run = await locus(command, { DATABASE_URL: `sqlite:${file}/sub/locus.db` });
      assertOneLine(run, new RegExp(`${file} is a file, not a directory`));
    });
  }

  for (const command of COMMANDS) {
    it(`under /proc: one line and exit 1 at once, not a spin (${command.join(' ')})`, async () => {
      const run = await locus(command, { DATABASE_URL: 'sqlite:/proc/locus-test/data/locus.db' });
      assertOneLine(run, /cannot create the directory \/proc\/locus-test \(ENOENT\)/);
    });
  }
});

function chattrWorks(): boolean {
  const probe = path.join(dir, 'immutable-probe');
  writeFileSync(probe, 'x');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
    execFileSync('chattr', ['-i', probe], { stdio: 'pipe' });
    return true;
  } catch {
    console.warn(
      `${'!'.repeat(100)}\n!! immutable -shm start-up test SKIPPED: no chattr +i here\n${'!'.repeat(100)}`,
    );
    return false;
  }
}

describe('a SQLite -shm that cannot be written', { skip: chattrWorks() ? false : 'no chattr +i' }, () => {
  it('stops serve at start-up with one line rather than a SIGBUS later', async (t) => {
    const file = path.join(dir, 'shm', 'locus.db');
    await openSqliteStore({ path: file, writerThread: false }).close();
    const holder = new Database(file);
    holder.prepare('SELECT count(*) FROM minutes').get();
    t.after(() => holder.close());
    execFileSync('chattr', ['+i', `${file}-shm`]);
    t.after(() => execFileSync('chattr', ['-i', `${file}-shm`]));
    const run = await locus(['serve'], { DATABASE_URL: `sqlite:${file}` });
    assertOneLine(run, /SQLITE_READONLY_CANTINIT.*-shm cannot be written/);
  });
});

const server = await findTestServer();

describe('a PostgreSQL database or role that does not exist', { skip: server.skip }, () => {
  const missingDatabase = new URL(server.url);
  missingDatabase.pathname = `/locus_missing_${process.pid}`;
  const missingRole = new URL(server.url);
  missingRole.username = `locus_nobody_${process.pid}`;

  for (const command of COMMANDS) {
    it(`no database: one line saying to createdb it, exit 1 (${command.join(' ')})`, async () => {
      const run = await locus(command, { DATABASE_URL: missingDatabase.toString() });
      assertOneLine(run, new RegExp(`\\(3D000\\).*createdb locus_missing_${process.pid}`));
    });

    it(`no role: one line saying to createuser it, exit 1 (${command.join(' ')})`, async () => {
      const run = await locus(command, { DATABASE_URL: missingRole.toString() });
      assertOneLine(run, new RegExp(`\\(28000\\).*createuser locus_nobody_${process.pid}`));
    });
  }
});
