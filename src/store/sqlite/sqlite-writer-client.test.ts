import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Point } from '../../ingest/point.js';
import { openDatabase } from './sqlite-db.js';
import { ThreadWriter } from './sqlite-writer-client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function point(tsMs: number): Point {
  return { userId: 'ana', tsMs, lat: 1, long: 2, accuracy: 3, speed: 4 };
}

function migrated(name: string): string {
  const file = path.join(dir, name);
  openDatabase({ path: file }).close();
  return file;
}

describe('ThreadWriter', () => {
  it('commits on its own thread and answers per point', async () => {
    const writer = new ThreadWriter({ path: migrated('a.db') });
    assert.deepEqual(await writer.ingest([point(1), point(2), point(1)]), ['stored', 'stored', 'duplicate']);
    await writer.close();
  });

  it('starts a new thread after one dies, and the committed keys are still there', async () => {
    const writer = new ThreadWriter({ path: migrated('b.db') });
    assert.deepEqual(await writer.ingest([point(1)]), ['stored']);
    await writer.crashForTest();
    assert.deepEqual(await writer.ingest([point(1), point(2)]), ['duplicate', 'stored']);
    await writer.close();
  });

  it('carries every field through the packed message: nulls, extremes and odd user ids', async () => {
    const file = migrated('d.db');
    const writer = new ThreadWriter({ path: file });
    const points: Point[] = [
      { userId: '😀', tsMs: 61_000, lat: -90, long: -180, accuracy: null, speed: 100_000 },
      { userId: '\uFF5E', tsMs: 61_000, lat: 90, long: 180, accuracy: 20_000_000, speed: null },
      { userId: '😀', tsMs: 61_000, lat: 0, long: 0, accuracy: 1, speed: 1 },
      { userId: "o'neil", tsMs: -2_208_988_800_000, lat: -0, long: 1e-8, accuracy: 0, speed: 0 },
    ];
    assert.deepEqual(await writer.ingest(points), ['stored', 'stored', 'duplicate', 'stored']);
    await writer.close();
    const db = openDatabase({ path: file });
    const rows = db
      .prepare(
        `SELECT user_id, minute_ms, samples, lat_sum, long_sum, accuracy_sum, accuracy_count, speed_sum, speed_count
         FROM minutes ORDER BY user_id`, // SQLite orders by UTF-8 bytes: U+FF5E before U+1F600
      )
      .raw()
      .all();
    db.close();
    assert.deepEqual(rows, [
      ["o'neil", -2_208_988_800_000, 1, 0, 1, 0, 1, 0, 1],
      ['\uFF5E', 60_000, 1, 90e8, 180e8, 20_000_000_000, 1, 0, 0],
      ['😀', 60_000, 1, -90e8, -180e8, 0, 0, 100_000_000, 1],
    ]);
  });

  it('refuses work after close, as a closed connection would', async () => {
    const writer = new ThreadWriter({ path: migrated('c.db') });
    await writer.close();
    await assert.rejects(writer.ingest([point(1)]), TypeError);
  });
});
