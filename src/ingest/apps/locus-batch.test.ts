import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { MAX_BATCH_POINTS } from '../limits.js';
import { prepareArrayBatch, prepareBatch, readNdjsonLines } from './locus-batch.js';
import { BatchTooLargeError } from './ndjson.js';

const POINT = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

async function prepareNdjsonBatch(source: AsyncIterable<string>) {
  return prepareBatch((await readNdjsonLines(source)).records);
}

function lines(...texts: string[]): AsyncIterable<string> {
  return Readable.from(texts.map((text) => `${text}\n`));
}

describe('prepareArrayBatch', () => {
  it('prepares each item like PUT /location, keeping arrival order and reporting rejects by index', () => {
    const batch = prepareArrayBatch([POINT, { ...POINT, lat: '1' }, { ...POINT, user_id: 'b2' }, null]);
    assert.deepEqual(
      batch.points.map((p) => p.userId),
      ['a1', 'b2'],
    );
    assert.equal(batch.points[0]?.tsMs, Date.UTC(2017, 0, 1, 18, 5, 12));
    assert.deepEqual(batch.rejected, [
      { index: 1, errors: [{ field: 'lat', message: 'must be a number, not a string' }] },
      { index: 3, errors: [{ field: 'body', message: 'must be an object, not null' }] },
    ]);
  });

  it('applies the retention bound to every item', () => {
    const batch = prepareArrayBatch([POINT], { oldestAcceptedMs: Date.UTC(2018, 0, 1) });
    assert.equal(batch.points.length, 0);
    assert.equal(batch.rejected[0]?.errors[0]?.field, 'timestamp');
  });

  it(`takes ${MAX_BATCH_POINTS} items and refuses one more`, () => {
    const full = Array.from({ length: MAX_BATCH_POINTS }, () => 0);
    assert.equal(prepareArrayBatch(full).rejected.length, MAX_BATCH_POINTS);
    assert.throws(() => prepareArrayBatch([...full, 0]), BatchTooLargeError);
  });
});

describe('prepareNdjsonBatch', () => {
  it('numbers records like array items: a malformed line is a rejected item, blank lines are not items', async () => {
    const batch = await prepareNdjsonBatch(
      lines(JSON.stringify(POINT), '', '{"lat":', JSON.stringify({ ...POINT, user_id: 'b2' })),
    );
    assert.deepEqual(
      batch.points.map((p) => p.userId),
      ['a1', 'b2'],
    );
    assert.deepEqual(
      batch.rejected.map((r) => r.index),
      [1],
    );
  });

  it(`refuses a body of more than ${MAX_BATCH_POINTS} records`, async () => {
    const many = Array.from({ length: MAX_BATCH_POINTS + 1 }, () => '0');
    await assert.rejects(prepareNdjsonBatch(lines(...many)), BatchTooLargeError);
  });
});

describe('PreparedBatch.summary', () => {
  it('counts stored and duplicate outcomes, and lists the rejected items', () => {
    const batch = prepareArrayBatch([POINT, POINT, 7]);
    assert.deepEqual(batch.summary(['stored', 'duplicate']), {
      stored: 1,
      duplicates: 1,
      rejected: 1,
      errors: [{ index: 2, errors: [{ field: 'body', message: 'must be an object, not a number' }] }],
    });
  });
});
