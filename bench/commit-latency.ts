/*
 * What one durable one-point commit costs, by SQLite journal setting. A point POSTed alone is acknowledged only
 * after its transaction is on disk, so on a sequential replay every request that stores a new point pays this (a
 * duplicate changes no page, and its commit writes and syncs nothing). Each variant commits the Locus ingest
 * transaction (the dedupe-key INSERT and the minutes UPSERT, with the real schema and statements) one point at a
 * time on a fresh file, best of two rounds interleaved across variants so they compare. Two raw rows give the
 * disk's floor: a WAL-sized write (two frames) and fsync, appended or overwriting.
 *
 *   node --import tsx bench/commit-latency.ts     # COMMITS (default 3000), ROUNDS (2), COMMIT_LATENCY_DIR,
 *                                                 # ONLY (run the variants whose name contains it)
 *
 * The directory must be on the disk a server would use: a tmpfs makes fsync free. The default is .scratch/fsync
 * in the repository (ext4 here), not os.tmpdir().
 */
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { generateSamples, samplePoint } from '../src/tools/generate/trace.js';
import type { Point } from '../src/ingest/point.js';
import { createIngestBatch, prepareStatements } from '../src/store/sqlite/sqlite-db.js';
import { migrate } from '../src/store/sqlite/sqlite-migrations.js';
import { machine, table } from './lib/report.js';

const COMMITS = Number(process.env.COMMITS ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const WARM_COMMITS = 50;
const FILLER_COMMITS = Math.ceil(COMMITS * 1.5);
const ONLY = process.env.ONLY;
const ROOT = process.env.COMMIT_LATENCY_DIR ?? fileURLToPath(new URL('../.scratch/fsync/', import.meta.url));

interface Variant {
  name: string;
  /** False for settings that may lose acknowledged commits on power loss: shown only as a floor. */
  durable: boolean;
  journalMode: 'WAL' | 'DELETE' | 'TRUNCATE' | 'PERSIST';
  synchronous: 'NORMAL' | 'FULL' | 'EXTRA';
  walAutocheckpoint?: number;
  journalSizeLimit?: number;
  pageSize?: number;
  /**
   * Grow the WAL past the measured run's size and checkpoint it before the clock, so every measured commit
   * overwrites frames inside the allocated file: the steady state of a server after its first checkpoint.
   */
  preGrownWal?: boolean;
  /** Pre-grow the WAL at open the way a server could: see preGrowByRollback. */
  preGrowAtOpen?: boolean;
}

const LOCUS = { journalMode: 'WAL', synchronous: 'FULL', walAutocheckpoint: 10_000 } as const;

const VARIANTS: Variant[] = [
  { name: 'Locus: WAL, FULL, autocheckpoint 10000 (WAL growing)', durable: true, ...LOCUS },
  { name: 'Locus, WAL pre-grown (overwritten in place)', durable: true, ...LOCUS, preGrownWal: true },
  { name: 'Locus, WAL pre-grown at open (rolled-back spill)', durable: true, ...LOCUS, preGrowAtOpen: true },
  {
    name: 'Locus, WAL pre-grown, journal_size_limit 64 MiB',
    durable: true,
    ...LOCUS,
    preGrownWal: true,
    journalSizeLimit: 64 * 2 ** 20,
  },
  { name: 'WAL, FULL, autocheckpoint 1000', durable: true, ...LOCUS, walAutocheckpoint: 1000 },
  { name: 'WAL, FULL, autocheckpoint 100', durable: true, ...LOCUS, walAutocheckpoint: 100 },
  {
    name: 'WAL, FULL, autocheckpoint 100, journal_size_limit 0',
    durable: true,
    ...LOCUS,
    walAutocheckpoint: 100,
    journalSizeLimit: 0,
  },
  { name: 'WAL, EXTRA, autocheckpoint 10000', durable: true, ...LOCUS, synchronous: 'EXTRA' },
  { name: 'Locus, page_size 1024', durable: true, ...LOCUS, pageSize: 1024 },
  { name: 'Locus, page_size 16384', durable: true, ...LOCUS, pageSize: 16_384 },
  {
    name: 'Locus, page_size 1024, WAL pre-grown',
    durable: true,
    ...LOCUS,
    pageSize: 1024,
    preGrownWal: true,
  },
  { name: 'DELETE journal, FULL', durable: true, journalMode: 'DELETE', synchronous: 'FULL' },
  { name: 'TRUNCATE journal, FULL', durable: true, journalMode: 'TRUNCATE', synchronous: 'FULL' },
  { name: 'PERSIST journal, FULL', durable: true, journalMode: 'PERSIST', synchronous: 'FULL' },
  { name: 'WAL, NORMAL (not durable: no fsync per commit)', durable: false, ...LOCUS, synchronous: 'NORMAL' },
];

interface Latency {
  p50: number;
  p99: number;
  mean: number;
  /** Bytes the journal or WAL grew by during the measured commits: 0 means every write landed in allocated space. */
  journalGrowth: number;
}

/** Distinct (user, instant) points of a few interleaved users, as the sequential replay sends them. */
function workload(count: number): Point[] {
  const seen = new Set<string>();
  const out: Point[] = [];
  for (const sample of generateSamples({ seed: 5, users: 4, minutes: Math.ceil(count / 8) + 60 })) {
    const key = `${sample.row.user_id}|${sample.utcMs}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(samplePoint(sample));
    if (out.length === count) return out;
  }
  throw new Error(`the trace has only ${out.length} distinct points, ${count} wanted`);
}

function summarize(nanos: number[], journalGrowth: number): Latency {
  const sorted = [...nanos].sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) / 1000;
  const mean = sorted.reduce((sum, n) => sum + n, 0) / sorted.length / 1000;
  return { p50: at(0.5), p99: at(0.99), mean, journalGrowth };
}

/** Settings in the order SQLite needs them: page size before the first write, the journal before the schema. */
function open(file: string, variant: Variant): Database.Database {
  const db = new Database(file);
  if (variant.pageSize !== undefined) db.pragma(`page_size = ${variant.pageSize}`);
  db.pragma(`journal_mode = ${variant.journalMode}`);
  db.pragma(`synchronous = ${variant.synchronous}`);
  if (variant.walAutocheckpoint !== undefined) db.pragma(`wal_autocheckpoint = ${variant.walAutocheckpoint}`);
  if (variant.journalSizeLimit !== undefined) db.pragma(`journal_size_limit = ${variant.journalSizeLimit}`);
  migrate(db);
  return db;
}

function journalPath(file: string, variant: Variant): string {
  return variant.journalMode === 'WAL' ? `${file}-wal` : `${file}-journal`;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Fills the WAL without syncing (fast, and not what is measured), then checkpoints it with RESTART so the next
 * commit writes from the start of an allocated file. The WAL is not truncated: journal_size_limit is -1 by default.
 */
function preGrow(db: Database.Database, ingest: (points: Point[]) => unknown, filler: Point[], sync: string) {
  db.pragma('synchronous = OFF');
  for (const point of filler) ingest([point]);
  db.pragma(`synchronous = ${sync}`);
  db.pragma('wal_checkpoint(RESTART)');
}

/**
 * A deployable pre-grow: a transaction larger than the page cache spills its pages into the WAL as uncommitted
 * frames and is rolled back, which leaves the WAL file written out to `bytes` with nothing committed (SQLite
 * ignores frames past the last commit, and rewrites the WAL header with new salts before the next commit). The
 * user_version write after it is a real commit, so its fsync flushes the spilled frames now rather than in the
 * first request's commit.
 */
function preGrowByRollback(db: Database.Database, bytes: number): void {
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  db.pragma('cache_size = 100');
  db.exec('BEGIN IMMEDIATE; CREATE TABLE wal_pregrow (b BLOB)');
  const insert = db.prepare<[number]>('INSERT INTO wal_pregrow VALUES (zeroblob(?))');
  for (let written = 0; written < bytes; written += 2 ** 20) insert.run(2 ** 20);
  db.exec('ROLLBACK');
  db.pragma(`cache_size = ${cacheSize}`);
  db.pragma(`user_version = ${db.pragma('user_version', { simple: true }) as number}`);
}

function measure(variant: Variant, points: Point[]): Latency {
  const dir = mkdtempSync(path.join(ROOT, 'commit-'));
  try {
    const file = path.join(dir, 'locus.db');
    const db = open(file, variant);
    const ingest = createIngestBatch(db, prepareStatements(db));
    // Filler first, so the clocked points still arrive in time order after it. The pre-grown WAL holds half as many
    // commits again as the clocked run, so the run never reaches its end.
    const filler = points.slice(0, FILLER_COMMITS);
    const warm = points.slice(FILLER_COMMITS, FILLER_COMMITS + WARM_COMMITS);
    const timed = points.slice(FILLER_COMMITS + WARM_COMMITS);
    if (variant.preGrownWal) preGrow(db, ingest, filler, variant.synchronous);
    if (variant.preGrowAtOpen) preGrowByRollback(db, 48 * 2 ** 20);
    for (const point of warm) ingest([point]);
    const before = sizeOf(journalPath(file, variant));
    const nanos = timed.map((point) => {
      const began = process.hrtime.bigint();
      ingest([point]);
      return Number(process.hrtime.bigint() - began);
    });
    const growth = sizeOf(journalPath(file, variant)) - before;
    db.close();
    return summarize(nanos, growth);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two WAL frames (2 × (24 + 4096) bytes) and an fsync, as SQLite commits a one-point transaction. */
function rawFsync(overwrite: boolean): Latency {
  const dir = mkdtempSync(path.join(ROOT, 'raw-'));
  const frameBytes = 2 * (24 + 4096);
  const fileBytes = COMMITS * frameBytes;
  try {
    const fd = openSync(path.join(dir, 'raw'), 'w+');
    if (overwrite) {
      for (let at = 0; at < fileBytes; at += 2 ** 20) writeSync(fd, Buffer.alloc(2 ** 20, 1), 0, 2 ** 20, at);
      fsyncSync(fd);
    }
    const buffer = Buffer.alloc(frameBytes, 7);
    const nanos: number[] = [];
    for (let i = 0; i < COMMITS; i++) {
      const began = process.hrtime.bigint();
      writeSync(fd, buffer, 0, frameBytes, i * frameBytes);
      fsyncSync(fd); // what this build of SQLite calls: it has no HAVE_FDATASYNC, so fdatasync is fsync
      nanos.push(Number(process.hrtime.bigint() - began));
    }
    closeSync(fd);
    return summarize(nanos, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lower p50 of the rounds: noise on a shared machine only ever slows a round down. */
function better(a: Latency | undefined, b: Latency): Latency {
  return a === undefined || b.p50 < a.p50 ? b : a;
}

function run(): void {
  mkdirSync(ROOT, { recursive: true });
  const points = workload(FILLER_COMMITS + WARM_COMMITS + COMMITS);
  const best = new Map<string, Latency>();
  const raw = ['raw: 8 KiB append + fsync', 'raw: 8 KiB overwrite + fsync'] as const;
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS.filter((v) => ONLY === undefined || v.name.includes(ONLY)))
      best.set(variant.name, better(best.get(variant.name), measure(variant, points)));
    best.set(raw[0], better(best.get(raw[0]), rawFsync(false)));
    best.set(raw[1], better(best.get(raw[1]), rawFsync(true)));
  }
  report(best);
}

function report(best: Map<string, Latency>): void {
  // Absent when ONLY left the first variant out: the ratio column is then blank.
  const locus = best.get(VARIANTS[0]?.name ?? '')?.p50;
  const us = (n: number) => Math.round(n);
  const durability = new Map(VARIANTS.map((v) => [v.name, v.durable ? 'yes' : 'NO']));
  const rows = [...best].map(([name, l]) => [
    name,
    durability.get(name) ?? '(disk floor)',
    us(l.p50),
    us(l.p99),
    us(l.mean),
    locus === undefined ? '' : (l.p50 / locus).toFixed(2),
    (l.journalGrowth / 2 ** 20).toFixed(1),
  ]);
  console.log(
    `### Durable one-point commit latency, ${COMMITS} commits per variant, best of ${ROUNDS} by p50\n`,
  );
  console.log(`Machine: ${machine()}. Files in ${ROOT}.\n`);
  console.log(
    table(['setting', 'durable', 'p50 µs', 'p99 µs', 'mean µs', 'p50 / Locus', 'journal grew, MiB'], rows),
  );
}

run();
