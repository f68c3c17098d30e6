import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Point } from '../../src/ingest/point.js';
import { MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js';
import {
  mapSqliteError,
  openSqliteStore,
  SCHEMA_VERSION,
  type SqliteStore,
} from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { storeContract } from './contract/index.js';
import { allUsers } from '../support/users.js';

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'locus-sqlite-'));
  tempDirs.push(dir);
  return dir;
}

function tempDbPath(): string {
  return join(tempDir(), 'locus.db');
}

const point: Point = {
  userId: 'ana',
  tsMs: Date.UTC(2024, 2, 10, 12),
  lat: 1,
  long: 2,
  accuracy: 3,
  speed: 4,
};

function isUnavailableWithCode(prefix: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.ok(error.cause instanceof Database.SqliteError);
    assert.ok(error.cause.code.startsWith(prefix), error.cause.code);
    return true;
  };
}

function isUnmapped(error: unknown): boolean {
  assert.ok(!(error instanceof StoreUnavailableError), `expected an unmapped error, got ${String(error)}`);
  return true;
}

/** A second connection holding the write lock, as another process mid-transaction would. */
function holdWriteLock(path: string): Database.Database {
  const other = new Database(path);
  other.exec('BEGIN EXCLUSIVE');
  return other;
}

describe('SqliteStore', () => {
  after(() => {
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  storeContract('SQLite file', () => {
    const path = tempDbPath();
    return Promise.resolve({
      store: openSqliteStore({ path }),
      reopen: () => Promise.resolve(openSqliteStore({ path })),
    });
  });

  storeContract('SQLite :memory:', () => Promise.resolve({ store: openSqliteStore({ path: ':memory:' }) }));

  describe('openSqliteStore(options)', () => {
    it('runs with WAL, synchronous=FULL and a 5000 ms busy timeout by default', async () => {
      const store = openSqliteStore({ path: tempDbPath() });
      assert.deepEqual(store.settings(), {
        journalMode: 'wal',
        synchronous: 2,
        busyTimeoutMs: 5000,
        schemaVersion: SCHEMA_VERSION,
      });
      await store.close();
    });

    it('uses busyTimeoutMs when given', async () => {
      const store = openSqliteStore({ path: tempDbPath(), busyTimeoutMs: 250 });
      assert.equal(store.settings().busyTimeoutMs, 250);
      await store.close();
    });

    it('opens :memory: (which has no WAL) with synchronous=FULL', async () => {
      const store = openSqliteStore({ path: ':memory:' });
      assert.deepEqual(store.settings(), {
        journalMode: 'memory',
        synchronous: 2,
        busyTimeoutMs: 5000,
        schemaVersion: SCHEMA_VERSION,
      });
      await store.close();
    });

    it('creates missing parent directories of the file path', async () => {
      const path = join(tempDir(), 'a', 'b', 'locus.db');
      const store = openSqliteStore({ path });
      assert.ok(existsSync(path));
      await store.close();
    });

    it('creates WITHOUT ROWID tables, dedupe keys by time, minutes and totals by user, and sets user_version', async () => {
      const path = tempDbPath();
      await openSqliteStore({ path }).close();
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const tables = db
          .prepare<[], { name: string; sql: string }>(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table'",
          )
          .all();
        assert.deepEqual(tables.map((t) => t.name).sort(), [
          'dedupe_keys',
          'minutes',
          'tokens',
          'user_totals',
        ]);
        for (const { sql } of tables) assert.match(sql, /WITHOUT ROWID\s*$/);
        const keyOf = (table: string) =>
          (db.pragma(`table_info(${table})`) as { name: string; pk: number; notnull: number }[])
            .filter((c) => c.pk > 0)
            .sort((a, b) => a.pk - b.pk)
            .map((c) => c.name);
        assert.deepEqual(keyOf('dedupe_keys'), ['ts_ms', 'user_id']);
        assert.deepEqual(keyOf('minutes'), ['user_id', 'minute_ms']);
        assert.deepEqual(keyOf('user_totals'), ['user_id']);
        const nullable = db
          .prepare(
            "SELECT m.name || '.' || c.name FROM sqlite_schema m, pragma_table_info(m.name) c WHERE NOT c.[notnull]",
          )
          .pluck()
          .all();
        // An admin token has no user; a label is optional; a token is not revoked until it is.
        assert.deepEqual(nullable.sort(), ['tokens.label', 'tokens.revoked_ms', 'tokens.user_id']);
      } finally {
        db.close();
      }
    });

    it('keeps every dedupe key when it re-keys them by time (schema version 2 to 3)', async () => {
      const path = tempDbPath();
      const old = new Database(path);
      for (const sql of MIGRATIONS.slice(0, 2)) old.exec(sql);
      old.exec(
        `INSERT INTO dedupe_keys (user_id, ts_ms) VALUES ('${point.userId}', ${point.tsMs}), ('b2', 5)`,
      );
      old.pragma('user_version = 2');
      old.close();
      const store = openSqliteStore({ path });
      assert.equal(store.settings().schemaVersion, SCHEMA_VERSION);
      assert.deepEqual(
        await store.ingest([point, { ...point, userId: 'b2', tsMs: 5 }, { ...point, tsMs: 6 }]),
        ['duplicate', 'duplicate', 'stored'],
      );
      await store.close();
    });

    it('fills the user totals from the minutes of an existing database (schema version 3 to 4)', async () => {
      const path = tempDbPath();
      const old = new Database(path);
      for (const sql of MIGRATIONS.slice(0, 3)) old.exec(sql);
      const insert = old.prepare(`INSERT INTO minutes VALUES (?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)`);
      // Two users, one with a gap and uneven samples: the totals are a recomputation, not the count of rows.
      for (const [userId, minuteMs, samples] of [
        ['ana', 60_000, 2],
        ['ana', 180_000, 5],
        ['ana', 240_000, 1],
        ['bo', 120_000, 3],
      ] as const)
        insert.run(userId, minuteMs, samples);
      old.pragma('user_version = 3');
      old.close();
      const store = openSqliteStore({ path });
      assert.equal(store.settings().schemaVersion, SCHEMA_VERSION);
      assert.deepEqual(await allUsers(store), [
        { userId: 'ana', minutes: 3, samples: 8, firstMinuteMs: 60_000, lastMinuteMs: 240_000 },
        { userId: 'bo', minutes: 1, samples: 3, firstMinuteMs: 120_000, lastMinuteMs: 120_000 },
      ]);
      // And the totals go on from there: a new minute of ana's and another sample in one she has.
      await store.ingest([
        { ...point, userId: 'ana', tsMs: 300_000 },
        { ...point, userId: 'ana', tsMs: 60_500 },
      ]);
      assert.deepEqual(await store.user('ana'), {
        userId: 'ana',
        minutes: 4,
        samples: 10,
        firstMinuteMs: 60_000,
        lastMinuteMs: 300_000,
      });
      await store.close();
    });

    it('reopens a current database without migrating it again', async () => {
      const path = tempDbPath();
      const first = openSqliteStore({ path });
      await first.ingest([point]);
      await first.close();
      const second = openSqliteStore({ path });
      assert.equal(second.settings().schemaVersion, SCHEMA_VERSION);
      assert.equal((await allUsers(second)).length, 1);
      await second.close();
    });

    it('refuses a database whose schema version is newer than it knows, and leaves it alone', () => {
      const path = tempDbPath();
      const db = new Database(path);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(
        () => openSqliteStore({ path }),
        (error: unknown) =>
          isUnmapped(error) &&
          error instanceof Error &&
          error.message.includes(`schema version ${SCHEMA_VERSION + 1} is newer`),
      );
      const after = new Database(path, { readonly: true });
      assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
      after.close();
    });

    it('throws StoreUnavailableError (SQLITE_CANTOPEN) when the path cannot be opened', () => {
      const path = join(tempDir(), 'a directory');
      mkdirSync(path);
      assert.throws(() => openSqliteStore({ path }), isUnavailableWithCode('SQLITE_CANTOPEN'));
    });
  });

  describe('error mapping', () => {
    const open = (): { path: string; store: SqliteStore } => {
      const path = tempDbPath();
      return { path, store: openSqliteStore({ path, busyTimeoutMs: 50 }) };
    };

    it('rejects with StoreUnavailableError (SQLITE_BUSY) while another connection holds the write lock', async () => {
      const { path, store } = open();
      const other = holdWriteLock(path);
      try {
        await assert.rejects(store.ingest([point]), isUnavailableWithCode('SQLITE_BUSY'));
        await assert.rejects(store.pruneDedupeKeys(Date.now()), isUnavailableWithCode('SQLITE_BUSY'));
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      // The failed batch left no dedupe key behind, so the retry stores the point rather than calling it a duplicate.
      assert.deepEqual(await store.ingest([point]), ['stored']);
      await store.close();
    });

    it('keeps answering reads while another connection holds the write lock (WAL)', async () => {
      const { path, store } = open();
      await store.ingest([point]);
      const other = holdWriteLock(path);
      try {
        assert.equal((await allUsers(store)).length, 1);
        assert.ok(await store.minutes('ana', {}, { limit: 1 }));
        await store.health();
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      await store.close();
    });

    it('answers a resend of committed points as duplicate without a transaction, even under a write lock', async () => {
      const { path, store } = open();
      const later = { ...point, tsMs: point.tsMs + 1000 };
      assert.deepEqual(await store.ingest([point, later]), ['stored', 'stored']);
      const other = holdWriteLock(path);
      try {
        assert.deepEqual(await store.ingest([point]), ['duplicate']);
        assert.deepEqual(await store.ingest([later, point]), ['duplicate', 'duplicate']);
        // One new point among resends needs the writer, which the lock holds off.
        const fresh = { ...point, tsMs: point.tsMs + 2000 };
        await assert.rejects(store.ingest([point, fresh]), isUnavailableWithCode('SQLITE_BUSY'));
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      assert.deepEqual(await store.ingest([point, { ...point, tsMs: point.tsMs + 2000 }]), [
        'duplicate',
        'stored',
      ]);
      await store.close();
    });

    it('.ingest([]) resolves to [] without touching the database', async () => {
      const { path, store } = open();
      const other = holdWriteLock(path);
      try {
        assert.deepEqual(await store.ingest([]), []);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      await store.close();
    });

    it('rethrows non-transient errors unchanged: every call after close()', async () => {
      const { store } = open();
      await store.close();
      const calls = [
        store.ingest([point]),
        allUsers(store),
        store.minutes('ana', {}, { limit: 1 }),
        store.pruneDedupeKeys(0),
        store.health(),
      ];
      for (const call of calls) {
        await assert.rejects(call, (error: unknown) => isUnmapped(error) && error instanceof TypeError);
      }
    });

    it('close() is idempotent', async () => {
      const { path, store } = open();
      await store.ingest([point]);
      assert.ok(existsSync(`${path}-wal`), 'the write-ahead log is in use while open');
      await store.close();
      await assert.doesNotReject(store.close(), 'a second close() resolves');
      // SQLite removes the write-ahead log when the last connection to the file closes: both are released.
      assert.equal(existsSync(`${path}-wal`), false, 'no connection left open on the file');
      await assert.rejects(store.health(), TypeError, 'the store refuses use after close()');
    });

    it('rejects a page limit that is not a positive integer with RangeError', async () => {
      const { store } = open();
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await assert.rejects(store.minutes('ana', {}, { limit }), RangeError, String(limit));
      }
      await store.close();
    });

    it('mapSqliteError maps the "cannot right now" codes and passes every other error through', () => {
      const unavailable = [
        'SQLITE_BUSY',
        'SQLITE_BUSY_SNAPSHOT',
        'SQLITE_LOCKED',
        'SQLITE_LOCKED_SHAREDCACHE',
        'SQLITE_FULL',
        'SQLITE_IOERR',
        'SQLITE_IOERR_FSYNC',
        'SQLITE_READONLY',
        'SQLITE_READONLY_DBMOVED',
        'SQLITE_CANTOPEN',
        'SQLITE_CANTOPEN_ISDIR',
        'SQLITE_PROTOCOL',
      ];
      for (const code of unavailable) {
        const cause = new Database.SqliteError('boom', code);
        const mapped = mapSqliteError(cause);
        assert.ok(mapped instanceof StoreUnavailableError, code);
        assert.equal(mapped.cause, cause);
        assert.match(mapped.message, new RegExp(code));
      }
      const others = [
        'SQLITE_ERROR',
        'SQLITE_CONSTRAINT_PRIMARYKEY',
        'SQLITE_CORRUPT',
        'SQLITE_MISMATCH',
        'SQLITE_FULLY',
      ];
      for (const code of others) {
        const error = new Database.SqliteError('boom', code);
        assert.equal(mapSqliteError(error), error, code);
      }
      const plain = new TypeError('not sqlite');
      assert.equal(mapSqliteError(plain), plain);
    });
  });
});
