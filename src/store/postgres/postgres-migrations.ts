import type pg from 'pg';

/*
 * Append-only: entry i brings a database from version i to i + 1. Never edit a shipped entry, since databases
 * already at a later version would not see the change.
 *
 * Every table of Locus's data has a key that leads with user_id, so the same schema can be distributed by user_id
 * (Citus: `SELECT create_distributed_table('minutes', 'user_id')`) and every statement of a request touches one
 * shard. COLLATE "C" makes user ids compare and sort by their bytes, as in SQLite, whatever the database's locale:
 * no two distinct ids can compare equal, and users() is ordered the same on both backends.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE dedupe_keys (
    user_id text COLLATE "C" NOT NULL,
    ts_ms bigint NOT NULL,
    PRIMARY KEY (user_id, ts_ms)
  );

  CREATE TABLE minutes (
    user_id text COLLATE "C" NOT NULL,
    minute_ms bigint NOT NULL,
    samples bigint NOT NULL,
    lat_sum bigint NOT NULL,
    long_sum bigint NOT NULL,
    long_min bigint NOT NULL,
    long_max bigint NOT NULL,
    long_east_sum bigint NOT NULL,
    long_east_min bigint NOT NULL,
    long_east_max bigint NOT NULL,
    accuracy_sum bigint NOT NULL,
    accuracy_count bigint NOT NULL,
    speed_sum bigint NOT NULL,
    speed_count bigint NOT NULL,
    PRIMARY KEY (user_id, minute_ms)
  );
  `,
  // API tokens: few rows, read by hash. Not keyed by user_id (an admin token has none); under Citus it would be a
  // reference table (`SELECT create_reference_table('tokens')`), copied to every node.
  `
  CREATE TABLE tokens (
    id text PRIMARY KEY,
    hash text NOT NULL UNIQUE,
    user_id text COLLATE "C",
    scope text NOT NULL CHECK (scope IN ('user', 'admin')),
    label text,
    created_ms bigint NOT NULL,
    revoked_ms bigint,
    CHECK ((scope = 'admin') = (user_id IS NULL))
  );
  `,
  /*
   * Per-user totals, kept by the ingest statement beside the minutes so that the user list never scans them, and
   * filled here from the minutes a database already holds (this transaction's xid marks every row as changed).
   * changed_xid is the last transaction that changed the row: the live feed asks for rows changed at or after the
   * oldest transaction still running when it last looked (PostgresStore.changedUsers says why that misses nothing).
   * xid8 counts with the epoch, so it never wraps around and needs no freezing.
   */
  `
  CREATE TABLE user_totals (
    user_id text COLLATE "C" PRIMARY KEY,
    minutes bigint NOT NULL,
    samples bigint NOT NULL,
    first_minute_ms bigint NOT NULL,
    last_minute_ms bigint NOT NULL,
    changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
  );
  CREATE INDEX user_totals_changed_xid ON user_totals (changed_xid);

  INSERT INTO user_totals (user_id, minutes, samples, first_minute_ms, last_minute_ms)
  SELECT user_id, count(*), sum(samples), min(minute_ms), max(minute_ms)
  FROM minutes GROUP BY user_id;
  `,
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Serialises migrations across every Locus process on the database. The value is arbitrary ("locus" in ASCII). */
const MIGRATION_LOCK_KEY = '465675318643';

export interface MigrationResult {
  /** The version the database had before. */
  from: number;
  /** The version it has now: always POSTGRES_SCHEMA_VERSION. */
  to: number;
}

/** Brings the database's schema to POSTGRES_SCHEMA_VERSION; refuses a database that is already newer. */
export async function migratePostgres(pool: pg.Pool): Promise<MigrationResult> {
  const client = await pool.connect();
  // A checked-out client has no error listener of the pool's; without one, the connection dying between two of
  // these statements would be an uncaught 'error' event that ends the process. The failed query reports it.
  const ignore = () => {};
  client.on('error', ignore);
  let failure: unknown;
  try {
    return await migrateInTransaction(client);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    client.off('error', ignore);
    // A client that failed may be mid-transaction or dead: destroy it rather than give it back to the pool.
    client.release(failure instanceof Error ? failure : undefined);
  }
}

async function migrateInTransaction(client: pg.PoolClient): Promise<MigrationResult> {
  await client.query('BEGIN');
  try {
    // Held until COMMIT or ROLLBACK. Two instances starting at once on an empty database would otherwise both
    // try to create the tables; with it, the second waits and then finds them at the current version.
    await client.query('SELECT pg_advisory_xact_lock($1::int8)', [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const from = await currentVersion(client);
    if (from > MIGRATIONS.length) {
      throw new Error(
        `PostgreSQL database schema version ${from} is newer than this build of Locus supports ` +
          `(${MIGRATIONS.length}); run a newer Locus or restore a matching backup`,
      );
    }
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (index < from) continue;
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [index + 1]);
    }
    await client.query('COMMIT');
    return { from, to: MIGRATIONS.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      // The connection is gone, and the transaction with it; the first error is the one worth reporting.
    });
    throw error;
  }
}

async function currentVersion(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ version: number }>(
    'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
  );
  return rows[0]?.version ?? 0;
}
