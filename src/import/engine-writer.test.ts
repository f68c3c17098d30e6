import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Point } from '../ingest/point.js';
import { BatchWriter } from './engine-writer.js';
import type { ImportBatch, ImportDestination, DestinationResult } from './destinations.js';

function batchOf(tsMs: number): ImportBatch {
  const point: Point = { userId: 'a1', tsMs, lat: 1, long: 2, accuracy: null, speed: null };
  return { points: [point], fixes: [] };
}

/** A destination whose batches settle when the test says so, in any order. */
function manualDestination() {
  const pending = new Map<number, { resolve: (r: DestinationResult) => void; reject: (e: Error) => void }>();
  const destination: ImportDestination = {
    name: 'manual',
    maxBatchSize: 10,
    needsFixes: false,
    concurrency: 4,
    write: (batch) =>
      new Promise<DestinationResult>((resolve, reject) =>
        pending.set(batch.points[0]?.tsMs ?? -1, { resolve, reject }),
      ),
    close: () => Promise.resolve(),
  };
  return { destination, pending };
}

describe('BatchWriter', () => {
  it('counts a batch that committed after another one failed: it is in the database', async () => {
    const { destination, pending } = manualDestination();
    const counted: number[] = [];
    const writer = new BatchWriter(destination, (batch) => counted.push(batch.points[0]?.tsMs ?? -1));
    await writer.submit(batchOf(1));
    await writer.submit(batchOf(2));
    pending.get(1)?.reject(new Error('server gone'));
    pending.get(2)?.resolve({ stored: 1, duplicates: 0, rejected: [] });
    await assert.rejects(writer.drain(), /server gone/);
    assert.deepEqual(counted, [2]);
    await assert.rejects(writer.submit(batchOf(3)), /server gone/);
  });
});
