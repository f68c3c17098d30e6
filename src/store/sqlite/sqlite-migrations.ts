import type Database from 'better-sqlite3';

/*
 * Append-only: entry i brings a database from user_version i to i + 1. Never edit a shipped entry, since databases
 * already at a later version would not see the change. WITHOUT ROWID with keys leading by user_id makes every
 * lookup and upsert a single clustered b-tree search, with a user's rows stored together.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE dedupe_keys (
    user_id TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, ts_ms)
  ) WITHOUT ROWID;

  CREATE TABLE minutes (
    user_id TEXT NOT NULL,
    minute_ms INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    lat_sum INTEGER NOT NULL,
    long_sum INTEGER NOT NULL,
    long_min INTEGER NOT NULL,
    long_max INTEGER NOT NULL,
    long_east_sum INTEGER NOT NULL,
    long_east_min INTEGER NOT NULL,
    long_east_max INTEGER NOT NULL,
    accuracy_sum INTEGER NOT NULL,
    accuracy_count INTEGER NOT NULL,
    speed_sum INTEGER NOT NULL,
    speed_count INTEGER NOT NULL,
    PRIMARY KEY (user_id, minute_ms)
  ) WITHOUT ROWID;
  `,
  // API tokens. Looked up by hash on every request that is not in the verified-token cache, hence the unique
  // index; an admin token has no user, and the CHECKs keep scope and user_id consistent.
  `
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    user_id TEXT,
    scope TEXT NOT NULL CHECK (scope IN ('user', 'admin')),
    label TEXT,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    CHECK ((scope = 'admin') = (user_id IS NULL))
  ) WITHOUT ROWID;
  `,
  // Dedupe keys by time first. Points arrive roughly in time order, so a batch's keys land on the last few pages
  // of the b-tree instead of one page per user, which made batch ingest 1.2-1.3x faster; pruning by age becomes a
  // range delete instead of a full scan. (PostgreSQL keeps user_id first: there it is the sharding key.)
  `
  CREATE TABLE dedupe_keys_by_time (
    ts_ms INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (ts_ms, user_id)
  ) WITHOUT ROWID;
  INSERT INTO dedupe_keys_by_time (ts_ms, user_id) SELECT ts_ms, user_id FROM dedupe_keys;
  DROP TABLE dedupe_keys;
  ALTER TABLE dedupe_keys_by_time RENAME TO dedupe_keys;
  `,
  // Per-user totals, kept by every ingest in the same transaction as the minutes, so that the user list reads one
  // row per user instead of scanning every minute. `version` is the change marker of the live feed: each ingest
  // sets the users it touched to one more than the largest version, and SQLite runs one write transaction at a
  // time, so versions grow in commit order and "changed since v" is an index range.
  `
  CREATE TABLE user_totals (
    user_id TEXT NOT NULL PRIMARY KEY,
    minutes INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    first_minute_ms INTEGER NOT NULL,
    last_minute_ms INTEGER NOT NULL,
    version INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO user_totals (user_id, minutes, samples, first_minute_ms, last_minute_ms, version)
    SELECT user_id, count(*), sum(samples), min(minute_ms), max(minute_ms), 0 FROM minutes GROUP BY user_id;
  CREATE INDEX user_totals_by_version ON user_totals (version);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database's schema to SCHEMA_VERSION; refuses a database that is already newer. */
export function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock before reading the version, so two processes opening a new file at once
  // cannot both decide to create the tables.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `SQLite database schema version ${current} is newer than this build of Locus supports ` +
          `(${MIGRATIONS.length}); run a newer Locus or restore a matching backup`,
      );
    }
    for (const sql of MIGRATIONS.slice(current)) db.exec(sql);
    // PRAGMA takes no bound parameters; the value is our own integer.
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
