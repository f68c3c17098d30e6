import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Point } from '../pipeline/types.js';
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

  it('refuses work after close, as a closed connection would', async () => {
    const writer = new ThreadWriter({ path: migrated('c.db') });
    await writer.close();
    await assert.rejects(writer.ingest([point(1)]), TypeError);
  });
});
