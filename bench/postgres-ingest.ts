/*
 * Store ingest throughput on PostgreSQL against the SQLite store in the same run: points per second through
 * Store.ingest in batches of 1,000 (what group commit hands a store under load), one batch in flight per store
 * as in one Locus instance. "Two stores" are two pools on one database, like two instances, each with its own
 * half of the points. Every point is new, so every batch inserts keys and upserts minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { composePoint } from '../src/ingest/compose.js';
import type { Point } from '../src/ingest/point.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { createTestDatabase, findTestServer, onDatabase } from '../test/store/postgres-database.js';
import { uniqueRows } from './lib/points.js';
import { machine, ratio, round, table } from './lib/report.js';

const BATCH = 1000;
const USERS = Number(process.env.BENCH_USERS ?? 200);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 300);

function preparedPoints(): Point[] {
  const points: Point[] = [];
  for (const row of uniqueRows(USERS, MINUTES)) {
    const prepared = composePoint(row, { rules: 'put' });
    if (prepared.ok) points.push(prepared.value);
  }
  return points;
}

async function ingestAll(store: Store, points: readonly Point[]): Promise<void> {
  for (let i = 0; i < points.length; i += BATCH) await store.ingest(points.slice(i, i + BATCH));
}

/** Points per second for all `shares` ingested at once, one store each. */
async function measure(stores: Store[], shares: Point[][]): Promise<number> {
  const began = process.hrtime.bigint();
  await Promise.all(stores.map((store, i) => ingestAll(store, shares[i] ?? [])));
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  return shares.reduce((n, share) => n + share.length, 0) / seconds;
}

function halves(points: readonly Point[]): Point[][] {
  // By user, as a load balancer with sticky users would split them; either way the keys are disjoint.
  const users = [...new Set(points.map((p) => p.userId))];
  const left = new Set(users.slice(0, users.length / 2));
  return [points.filter((p) => left.has(p.userId)), points.filter((p) => !left.has(p.userId))];
}

async function sqliteFile(points: Point[]): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'locus-bench-'));
  try {
    const store = openSqliteStore({ path: path.join(dir, 'locus.db') });
    const rate = await measure([store], [points]);
    await store.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(url: string, points: Point[], instances: number): Promise<number> {
  await onDatabase(url, (client) => client.query('TRUNCATE dedupe_keys, minutes, user_totals'));
  const stores = await Promise.all(Array.from({ length: instances }, () => openPostgresStore({ url })));
  try {
    return await measure(stores, instances === 1 ? [points] : halves(points));
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

async function serverSettings(url: string): Promise<string> {
  return onDatabase(url, async (client: pg.Client) => {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'wal_level')
       ORDER BY name`,
    );
    return rows.map((r) => `${r.name}=${r.setting}`).join(', ');
  });
}

const server = await findTestServer();
if (server.skip) {
  console.log(`### Store ingest, PostgreSQL against SQLite\n\nSkipped: ${server.skip}.`);
  process.exit(0);
}

const points = preparedPoints();
const db = await createTestDatabase(server.url);
try {
  await (await openPostgresStore({ url: db.url })).close();
  await postgres(db.url, points.slice(0, 20 * BATCH), 1); // warm-up: JIT, connections, the server's caches

  const sqlite = await sqliteFile(points);
  const one = await postgres(db.url, points, 1);
  const two = await postgres(db.url, points, 2);

  console.log(
    `### Store ingest, PostgreSQL against SQLite: ${points.length} new points, batches of ${BATCH}\n`,
  );
  console.log(`Machine: ${machine()}. PostgreSQL on the same machine: ${await serverSettings(db.url)}.\n`);
  console.log(
    table(
      ['store', 'points/s', '× SQLite'],
      [
        ['SQLite file (WAL, synchronous=FULL)', round(sqlite), '1.00'],
        ['PostgreSQL, one store (one instance)', round(one), ratio(one, sqlite)],
        ['PostgreSQL, two stores at once (two instances)', round(two), ratio(two, sqlite)],
      ],
    ),
  );
} finally {
  await db.drop();
}
