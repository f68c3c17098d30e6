/*
 * The files under a running SQLite store (#14, items 3 and 4): deleted or moved while Locus runs, every commit
 * went on into files nobody could open again and was answered 200; an -shm made immutable ended the process with
 * SIGBUS. Now both answer StoreUnavailableError (503 with Retry-After) and fail /readyz, and heal when the cause
 * is gone (the file put back, the flag cleared).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { buildApp } from '../../src/http/app.js';
import type { Point } from '../../src/ingest/point.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { VALID_POINT } from '../support/points.js';
import { allUsers } from '../support/users.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NOON = Date.UTC(2024, 2, 10, 12);
let files = 0;

function point(second: number): Point {
  return { userId: 'ana', tsMs: NOON + second * 1000, lat: 52.52, long: 13.405, accuracy: 4.5, speed: 1.25 };
}

function freshFile(): string {
  return path.join(dir, `db-${++files}`, 'locus.db');
}

function open(t: TestContext, file: string, writerThread = true): SqliteStore {
  const store = openSqliteStore({ path: file, writerThread });
  t.after(() => store.close());
  return store;
}

function unavailable(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

const SUFFIXES = ['', '-wal', '-shm'];

describe('a SQLite file deleted or moved while the store has it open', () => {
  for (const writerThread of [true, false]) {
    const how = writerThread ? 'on the writer thread' : 'in process (locus migrate)';
    it(`deleted (rm locus.db*): ingest and health reject, a resend is not answered duplicate (${how})`, async (t) => {
      const file = freshFile();
      const store = open(t, file, writerThread);
      assert.deepEqual(await store.ingest([point(1)]), ['stored']);
      for (const suffix of SUFFIXES) rmSync(`${file}${suffix}`, { force: true });

      await assert.rejects(store.ingest([point(2)]), unavailable(/moved or deleted/));
      // The quick resend check reads on the main connection: it must not answer from the lost file either.
      await assert.rejects(store.ingest([point(1)]), unavailable(/moved or deleted/));
      await assert.rejects(store.health(), unavailable(/moved or deleted/));
      await assert.rejects(store.pruneDedupeKeys(NOON), unavailable(/moved or deleted/));
    });
  }

  it('deleted before the first read: the reader thread refuses, and creates no new database at the path', async (t) => {
    const file = freshFile();
    const store = open(t, file);
    assert.deepEqual(await store.ingest([point(1)]), ['stored']);
    for (const suffix of SUFFIXES) rmSync(`${file}${suffix}`, { force: true });
    await assert.rejects(store.users({ limit: 10 }), unavailable(/moved or deleted/));
    await assert.rejects(store.minutes('ana', {}, { limit: 10 }), unavailable(/moved or deleted/));
    assert.equal(existsSync(file), false, 'no empty database was made in its place');
  });

  it('moved (mv), then put back: rejects while it is elsewhere, and works again once it is back', async (t) => {
    const file = freshFile();
    const store = open(t, file);
    assert.deepEqual(await store.ingest([point(1)]), ['stored']);
    for (const suffix of SUFFIXES) renameSync(`${file}${suffix}`, `${file}.moved${suffix}`);
    await assert.rejects(store.ingest([point(2)]), unavailable(/moved or deleted/));
    await assert.rejects(store.health(), unavailable(/moved or deleted/));

    for (const suffix of SUFFIXES) renameSync(`${file}.moved${suffix}`, `${file}${suffix}`);
    await store.health();
    // Refused above, so the client resends it; whether it got in before the check or not, it is there once.
    assert.equal((await store.ingest([point(2)]))[0] !== undefined, true);
    assert.deepEqual(await store.ingest([point(3)]), ['stored']);
    const page = await store.minutes('ana', {}, { limit: 10 });
    assert.equal(page?.rows[0]?.sums.samples, 3);
  });

  it('replaced by another file at the same path: rejected too (a different inode)', async (t) => {
    const file = freshFile();
    const store = open(t, file);
    assert.deepEqual(await store.ingest([point(1)]), ['stored']);
    rmSync(`${file}-wal`);
    writeFileSync(`${file}-wal`, '');
    await assert.rejects(store.ingest([point(2)]), unavailable(/replaced/));
  });

  it('answers PUT /location with 503 store-unavailable and Retry-After, and fails /readyz', async (t) => {
    const file = freshFile();
    const store = open(t, file);
    const app = await buildApp({ store, logger: false });
    t.after(() => app.close());
    const put = (second: number) =>
      app.inject({
        method: 'PUT',
        url: '/location',
        payload: { ...VALID_POINT, timestamp: `2017-01-01 13:05:${String(second).padStart(2, '0')}` },
      });
    assert.equal((await put(1)).statusCode, 200);
    for (const suffix of SUFFIXES) rmSync(`${file}${suffix}`, { force: true });

    for (const response of [await put(2), await put(1), await app.inject('/readyz')]) {
      assert.equal(response.statusCode, 503, response.body);
      assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After');
      assert.equal(response.json<{ type: string }>().type, '/problems/store-unavailable');
    }
    assert.equal(existsSync(file), false, 'no new, empty database was made at the path meanwhile');
  });
});

/** Whether chattr +i works here (root or CAP_LINUX_IMMUTABLE, on a file system with the flag); why not. */
function immutableSupport(): string | false {
  const probe = path.join(dir, 'immutable-probe');
  writeFileSync(probe, 'x');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
    execFileSync('chattr', ['-i', probe], { stdio: 'pipe' });
    return false;
  } catch (error) {
    const reason = `chattr +i is not available here (${(error as Error).message.trim()})`;
    const rule = '!'.repeat(100);
    console.warn(`${rule}\n!! SQLite immutable -shm tests SKIPPED: ${reason}\n${rule}`);
    return reason;
  }
}

function setImmutable(file: string, on: boolean): void {
  execFileSync('chattr', [on ? '+i' : '-i', file]);
}

describe('an -shm file that cannot be written', { skip: immutableSupport() }, () => {
  it('is refused before SQLite touches its mapping (it was a SIGBUS), and works again once writable', async (t) => {
    const file = freshFile();
    const store = open(t, file);
    assert.deepEqual(await store.ingest([point(1)]), ['stored']);
    const shm = `${file}-shm`;
    setImmutable(shm, true);
    let set = true;
    t.after(() => {
      if (set) setImmutable(shm, false);
    });

    for (const call of [
      () => store.ingest([point(2)]),
      () => store.ingest([point(1)]),
      () => store.health(),
      () => allUsers(store),
      () => store.minutes('ana', {}, { limit: 10 }),
      () => store.tokens.list(),
    ]) {
      await assert.rejects(call(), unavailable(/SQLITE_READONLY_CANTINIT.*-shm cannot be written/));
    }

    setImmutable(shm, false);
    set = false;
    assert.deepEqual(await store.ingest([point(2)]), ['stored']);
    await store.health();
  });

  it('is refused at open with one line, before SQLite maps it', (t) => {
    const file = freshFile();
    // Another connection keeps the -shm in place, as a crashed Locus or a sqlite3 shell would leave it.
    openSqliteStore({ path: file, writerThread: false });
    const holder = new Database(file);
    holder.pragma('journal_mode = WAL');
    holder.prepare('SELECT count(*) FROM minutes').get();
    t.after(() => holder.close());
    setImmutable(`${file}-shm`, true);
    t.after(() => setImmutable(`${file}-shm`, false));
    assert.throws(
      () => openSqliteStore({ path: file }),
      unavailable(
        /^SQLite database unavailable \(SQLITE_READONLY_CANTINIT\): .*-shm cannot be written[^\n]*$/,
      ),
    );
  });
});
