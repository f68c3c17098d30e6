/*
 * SQLite faults, made real rather than mocked: a database locked by another connection beyond the busy timeout, a
 * full file system, a database file that cannot be written. For each: PUT and POST answer 503 with Retry-After and
 * a problem, nothing unanswered is stored, one warning line names the cause, the process keeps running, and once
 * the fault is gone ingest works again with no restart; the points refused meanwhile are new when resent.
 *
 * Root ignores file modes, so "cannot be written" is the immutable attribute (chattr +i), which binds root too; a
 * full disk is a small tmpfs filled to the last byte. Both need privileges or file systems CI may not offer, so
 * those two skip with a banner when they are missing. The lock needs nothing and always runs.
 *
 * PostgreSQL connection loss is covered by test/store/postgres.test.ts ("the database going away and coming back").
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { buildApp } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { VALID_POINT } from '../support/points.js';
import { totalSamples } from '../support/hostile.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-faults-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  err?: { message?: string };
}

interface Harness {
  app: LocusApp;
  store: Store;
  logs: LogLine[];
}

/** An app on a SQLite file (writer thread and all), its log lines captured. */
async function harness(t: TestContext, file: string): Promise<Harness> {
  const store = openSqliteStore({ path: file, busyTimeoutMs: 100 });
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const app = await buildApp({ store, logger: { level: 'info', stream } });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  return { app, store, logs };
}

function point(second: number) {
  return { ...VALID_POINT, timestamp: `2017-01-01 13:05:${String(second).padStart(2, '0')}` };
}

let requests = 0;

/** Each request has its own id, so that its log lines can be told from the others'. */
function withId(): Record<string, string> {
  return { 'x-request-id': `fault-${++requests}` };
}

function lastRequestId(): string {
  return `fault-${requests}`;
}

function putPoint(app: LocusApp, second: number) {
  return app.inject({ method: 'PUT', url: '/location', headers: withId(), payload: point(second) });
}

function postPoints(app: LocusApp, seconds: number[]) {
  return app.inject({ method: 'POST', url: '/locations', headers: withId(), payload: seconds.map(point) });
}

/** A 503 problem with Retry-After, and exactly one warning line for its request naming `cause`. */
function assertUnavailable(
  response: Awaited<ReturnType<typeof putPoint>>,
  logs: LogLine[],
  cause: RegExp,
): void {
  assert.equal(response.statusCode, 503, response.body);
  assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After');
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal(response.json<{ type: string }>().type, '/problems/store-unavailable');
  // Called right after the request it checks.
  const requestId = lastRequestId();
  const mine = logs.filter((l) => l.level >= 40 && l.reqId === requestId);
  assert.equal(mine.length, 1, JSON.stringify(logs.filter((l) => l.reqId === requestId)));
  assert.equal(mine[0]?.level, 40, 'a warning, not an error: nothing is wrong with Locus');
  assert.match(mine[0]?.err?.message ?? '', cause);
}

interface Fault {
  /** Makes the database unusable for writes. */
  start: (file: string) => void | Promise<void>;
  /** Takes the fault away. */
  clear: (file: string) => void | Promise<void>;
  /** What the warning line must name. */
  cause: RegExp;
}

/** The whole story of one fault, against a database file at `file`. */
async function faultStory(t: TestContext, file: string, fault: Fault): Promise<void> {
  const { app, store, logs } = await harness(t, file);
  assert.equal((await putPoint(app, 1)).json<{ status: string }>().status, 'stored');

  await fault.start(file);
  try {
    assertUnavailable(await putPoint(app, 2), logs, fault.cause);
    assertUnavailable(await postPoints(app, [3, 4, 5]), logs, fault.cause);
    // Reads go on where the database can still be read.
    assert.equal((await app.inject('/users')).statusCode, 200);
    assert.equal(await totalSamples(store), 1, 'nothing answered 503 was stored');
  } finally {
    await fault.clear(file);
  }

  // No restart: the same app and store. The points refused are new, so they were never committed.
  const retried = await putPoint(app, 2);
  assert.equal(retried.statusCode, 200, retried.body);
  assert.equal(retried.json<{ status: string }>().status, 'stored');
  assert.deepEqual((await postPoints(app, [3, 4, 5])).json<{ stored: number; duplicates: number }>(), {
    stored: 3,
    duplicates: 0,
    rejected: 0,
    errors: [],
  });
  assert.equal((await putPoint(app, 1)).json<{ status: string }>().status, 'duplicate');
  assert.equal(await totalSamples(store), 5);
  assert.equal(logs.filter((l) => l.level >= 50).length, 0, 'no error-level lines: the fault is not a bug');
}

function loudSkip(what: string, reason: string): string {
  const rule = '!'.repeat(100);
  console.warn(`${rule}\n!! SQLite ${what} test SKIPPED: ${reason}\n${rule}`);
  return reason;
}

/** Whether chattr +i works here (root or CAP_LINUX_IMMUTABLE, on a file system that has the flag); why not. */
function immutableSupport(): string | false {
  const probe = path.join(dir, 'immutable-probe');
  writeFileSync(probe, 'x');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
  } catch (error) {
    return loudSkip('read-only file', `chattr +i is not available here (${(error as Error).message.trim()})`);
  }
  try {
    writeFileSync(probe, 'y');
    return loudSkip('read-only file', 'an immutable file could still be written');
  } catch {
    return false;
  } finally {
    execFileSync('chattr', ['-i', probe]);
  }
}

/** A small tmpfs of our own, or why there cannot be one (mounting needs CAP_SYS_ADMIN). */
function smallTmpfs(): { mountPoint: string; skip: false } | { mountPoint: string; skip: string } {
  const mountPoint = path.join(dir, 'tmpfs');
  mkdirSync(mountPoint);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'locus-test', mountPoint], { stdio: 'pipe' });
    after(() => execFileSync('umount', ['-l', mountPoint]));
    return { mountPoint, skip: false };
  } catch (error) {
    return {
      mountPoint,
      skip: loudSkip('disk-full', `cannot mount a tmpfs (${(error as Error).message.trim()})`),
    };
  }
}

function setImmutable(file: string, on: boolean): void {
  for (const name of [file, `${file}-wal`]) execFileSync('chattr', [on ? '+i' : '-i', name]);
}

/** Fills the file system holding `file` to the last byte; returns the filler, to delete to free the space. */
function fillUp(file: string): string {
  const filler = path.join(path.dirname(file), 'filler');
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // The last pages: smaller writes until not one more byte fits.
    for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, block.subarray(0, size));
      } catch {
        // this size no longer fits; try a smaller one
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

describe('SQLite faults answer 503, never 200 for what was not committed, and heal without a restart', () => {
  it('a database locked by another connection past the busy timeout', async (t) => {
    const file = path.join(dir, 'locked.db');
    let other: Database.Database | undefined;
    await faultStory(t, file, {
      start: (f) => {
        other = new Database(f);
        other.exec('BEGIN EXCLUSIVE');
      },
      clear: () => {
        other?.exec('COMMIT');
        other?.close();
      },
      cause: /SQLITE_BUSY/,
    });
  });

  const immutable = immutableSupport();
  it(
    'a database file that cannot be written (immutable, which binds root too)',
    { skip: immutable },
    async (t) => {
      const file = path.join(dir, 'readonly.db');
      let set = false;
      t.after(() => {
        if (set) setImmutable(file, false);
      });
      await faultStory(t, file, {
        start: (f) => {
          setImmutable(f, true);
          set = true;
        },
        clear: (f) => {
          setImmutable(f, false);
          set = false;
        },
        cause: /SQLITE_(READONLY|IOERR|CANTOPEN)/,
      });
    },
  );

  const tmpfs = smallTmpfs();
  it('a full disk (a tmpfs filled to the last byte)', { skip: tmpfs.skip }, async (t) => {
    const file = path.join(tmpfs.mountPoint, 'full.db');
    let filler: string | undefined;
    await faultStory(t, file, {
      start: (f) => {
        filler = fillUp(f);
      },
      clear: () => {
        if (filler) rmSync(filler);
      },
      cause: /SQLITE_(FULL|IOERR)/,
    });
  });
});
