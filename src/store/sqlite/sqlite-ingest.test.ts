import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { generateSamples, samplePoint } from '../../tools/generate/trace.js';
import { aggregate, type MinuteAggregate } from '../minutes.js';
import type { IngestOutcome, Point } from '../../ingest/point.js';
import { openDatabase, prepareStatements, WAL_AUTOCHECKPOINT_PAGES } from './sqlite-db.js';
import { createIngestBatch, type IngestBatch } from './sqlite-ingest.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-ingest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function open(): { db: Database.Database; ingest: IngestBatch } {
  const db = openDatabase({ path: ':memory:' });
  return { db, ingest: createIngestBatch(db, prepareStatements(db)) };
}

function point(userId: string, tsMs: number, lat = 1): Point {
  return { userId, tsMs, lat, long: 2, accuracy: 3, speed: 4 };
}

/** Every generated submission, repeats included (the generator sends a fix 1–5 times with different noise). */
function generatedWithRepeats(users: number, minutes: number): Point[] {
  return [...generateSamples({ seed: 3, users, minutes })].map(samplePoint);
}

/** What one-point-at-a-time ingest gives: the first submission of each (user, instant) is stored. */
function firstWins(points: readonly Point[], seen = new Set<string>()): IngestOutcome[] {
  return points.map((p) => {
    const key = `${p.userId}\u0000${p.tsMs}`;
    if (seen.has(key)) return 'duplicate';
    seen.add(key);
    return 'stored';
  });
}

function rows(db: Database.Database): MinuteAggregate[] {
  const all = db
    .prepare(
      `SELECT user_id AS userId, minute_ms AS minuteMs, samples, lat_sum AS latSum, long_sum AS longSum,
        long_min AS longMin, long_max AS longMax, long_east_sum AS longEastSum, long_east_min AS longEastMin,
        long_east_max AS longEastMax, accuracy_sum AS accuracySum, accuracy_count AS accuracyCount,
        speed_sum AS speedSum, speed_count AS speedCount FROM minutes`,
    )
    .all() as Array<Record<string, number> & { userId: string }>;
  return all.map(({ userId, minuteMs, ...sums }) => ({ userId, minuteMs: minuteMs!, sums: sums as never }));
}

const byKey = (a: MinuteAggregate, b: MinuteAggregate) =>
  a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.minuteMs - b.minuteMs;

describe('createIngestBatch', () => {
  it('answers in input order, and the first submitted of equal keys wins', () => {
    const { db, ingest } = open();
    const outcomes = ingest([point('z', 10, 1), point('a', 20, 5), point('z', 10, 9), point('a', 20, 7)]);
    assert.deepEqual(outcomes, ['stored', 'stored', 'duplicate', 'duplicate']);
    const stored = rows(db).sort(byKey);
    assert.deepEqual(
      stored.map((r) => [r.userId, r.sums.latSum]),
      [
        ['a', 5e8],
        ['z', 1e8],
      ],
    );
  });

  it('finds keys stored by an earlier batch, and adds new points into existing minutes', () => {
    const { db, ingest } = open();
    assert.deepEqual(ingest([point('u', 1_000), point('u', 2_000)]), ['stored', 'stored']);
    assert.deepEqual(ingest([point('u', 3_000), point('u', 1_000, 50), point('u', 3_000)]), [
      'stored',
      'duplicate',
      'duplicate',
    ]);
    const [row] = rows(db);
    assert.equal(row?.sums.samples, 3);
    assert.equal(row?.sums.latSum, 3e8);
  });

  it('gives the same outcomes and exact sums as first-wins over generated traffic with repeats', () => {
    const { db, ingest } = open();
    const points = generatedWithRepeats(40, 30);
    const seen = new Set<string>();
    const expected: IngestOutcome[] = [];
    const actual: IngestOutcome[] = [];
    // Uneven batches, so repeats land in the same batch and in later ones.
    for (let i = 0, size = 1; i < points.length; i += size, size = (size * 7 + 3) % 997) {
      const batch = points.slice(i, i + size);
      expected.push(...firstWins(batch, seen));
      actual.push(...ingest(batch));
    }
    assert.deepEqual(actual, expected);
    assert.ok(expected.includes('duplicate') && expected.includes('stored'));
    const storedPoints = points.filter((_, i) => expected[i] === 'stored');
    assert.deepEqual(rows(db).sort(byKey), aggregate(storedPoints).sort(byKey));
  });

  it('handles one batch larger than SQLite binds in one statement, with repeats inside it', () => {
    const { db, ingest } = open();
    const points = generatedWithRepeats(100, 60);
    assert.ok(points.length > 32_766);
    const expected = firstWins(points);
    assert.deepEqual(ingest(points), expected);
    assert.deepEqual(
      rows(db).sort(byKey),
      aggregate(points.filter((_, i) => expected[i] === 'stored')).sort(byKey),
    );
  });

  it('keeps users apart whose ids JavaScript and SQLite order differently, or differ only slightly', () => {
    const { db, ingest } = open();
    // '😀' (a surrogate pair, D83D…) sorts before '\uFF5E' in UTF-16 but after it in UTF-8.
    const users = ['\uFF5E', '😀', 'a', 'A', 'a ', 'ä', 'a\u0301', "o'neil", '"q"', '%_', 'x'.repeat(128)];
    const points = users.flatMap((u, i) => [
      point(u, 60_000, i + 1),
      point(u, 60_000, 99),
      point(u, 1, i + 1),
    ]);
    const expected = firstWins(points);
    assert.deepEqual(ingest(points), expected);
    assert.deepEqual(
      ingest(points.slice().reverse()),
      points.map((): IngestOutcome => 'duplicate'),
    );
    assert.deepEqual(
      rows(db).sort(byKey),
      aggregate(points.filter((_, i) => expected[i] === 'stored')).sort(byKey),
    );
  });

  it('keeps null accuracy and speed out of their counts', () => {
    const { db, ingest } = open();
    ingest([
      { userId: 'n', tsMs: 1, lat: 0, long: 0, accuracy: null, speed: 2 },
      { userId: 'n', tsMs: 2, lat: 0, long: 0, accuracy: 4, speed: null },
      { userId: 'n', tsMs: 3, lat: 0, long: 0, accuracy: null, speed: null },
    ]);
    const [row] = rows(db);
    assert.deepEqual(
      [row?.sums.accuracySum, row?.sums.accuracyCount, row?.sums.speedSum, row?.sums.speedCount],
      [4000, 1, 2000, 1],
    );
  });

  it('stores nothing of a batch that fails part way', () => {
    const { db, ingest } = open();
    const bad = { userId: 'b', tsMs: 2, lat: 0, long: 0, accuracy: 1, speed: 1 } as Point;
    // A user id SQLite cannot bind makes the second insert throw after the first succeeded.
    assert.throws(() => ingest([point('a', 1), { ...bad, userId: Symbol('x') as never }]));
    assert.deepEqual(rows(db), []);
    assert.deepEqual(ingest([point('a', 1)]), ['stored']);
  });
});

describe('openDatabase', () => {
  it('checkpoints every WAL_AUTOCHECKPOINT_PAGES pages and keeps synchronous=FULL and WAL', () => {
    const file = path.join(dir, 'settings.db');
    const first = openDatabase({ path: file });
    const writer = openDatabase({ path: file }, 'other');
    for (const db of [first, writer]) {
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), WAL_AUTOCHECKPOINT_PAGES);
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    }
    writer.close();
    first.close();
  });
});
