import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSamples, samplePoint } from '../../tools/generate/trace.js';
import type { IngestOutcome, Point } from '../../ingest/point.js';
import {
  BYTES_PER_POINT,
  packOutcomes,
  packPoints,
  unpackOutcomes,
  unpackPoints,
} from './sqlite-ingest-packing.js';

/** Through a structured clone with the buffer transferred, as the message to the writer thread goes. */
function roundTrip(points: readonly Point[]): Point[] {
  const packed = packPoints(points);
  return unpackPoints(structuredClone(packed, { transfer: [packed.buffer] }));
}

function generated(): Point[] {
  return [...generateSamples({ seed: 5, users: 4, minutes: 10, scenario: 'zones' })].map(samplePoint);
}

describe('packPoints and unpackPoints', () => {
  it('give back generated points exactly, in order', () => {
    const points = generated();
    assert.ok(points.length > 100);
    assert.deepEqual(roundTrip(points), points);
  });

  it('keep null accuracy and null speed apart from zero, each on its own', () => {
    const points: Point[] = [
      { userId: 'a', tsMs: 1, lat: 1, long: 1, accuracy: null, speed: 0 },
      { userId: 'a', tsMs: 2, lat: 1, long: 1, accuracy: 0, speed: null },
      { userId: 'a', tsMs: 3, lat: 1, long: 1, accuracy: null, speed: null },
      { userId: 'a', tsMs: 4, lat: 1, long: 1, accuracy: 0, speed: 0 },
    ];
    assert.deepEqual(roundTrip(points), points);
  });

  it('keep extreme and awkward numbers bit for bit', () => {
    const points: Point[] = [
      {
        userId: 'x',
        tsMs: Number.MAX_SAFE_INTEGER,
        lat: 90,
        long: 180,
        accuracy: 20_000_000,
        speed: 100_000,
      },
      { userId: 'x', tsMs: Number.MIN_SAFE_INTEGER, lat: -90, long: -180, accuracy: 5e-324, speed: 5e-324 },
      { userId: 'x', tsMs: -2_208_988_800_000, lat: -0, long: -0, accuracy: 0.1 + 0.2, speed: 1 / 3 },
      { userId: 'x', tsMs: 0, lat: 40.70100000000001, long: -73.91599999999998, accuracy: 11.3, speed: 1.4 },
    ];
    const back = roundTrip(points);
    assert.deepEqual(back, points);
    assert.ok(Object.is(back[2]!.lat, -0) && Object.is(back[2]!.long, -0));
  });

  it('send each user id once and map every point back to its own user, whatever the characters', () => {
    const users = ['ana', 'Ana', 'ana ', '😀', '\uFF5E', 'a/b:c', 'ü', 'x'.repeat(128), '"quoted"', "o'neil"];
    const points = Array.from({ length: 50 }, (_, i): Point => ({
      userId: users[(i * 7) % users.length]!,
      tsMs: i,
      lat: i / 10,
      long: -i / 10,
      accuracy: i,
      speed: i,
    }));
    const packed = packPoints(points);
    assert.deepEqual([...packed.users].sort(), [...users].sort());
    assert.equal(packed.buffer.byteLength, points.length * BYTES_PER_POINT);
    assert.deepEqual(roundTrip(points), points);
  });

  it('handle an empty batch', () => {
    assert.deepEqual(roundTrip([]), []);
  });

  it('refuse a buffer whose size does not match the count', () => {
    const packed = packPoints(generated().slice(0, 3));
    assert.throws(() => unpackPoints({ ...packed, count: 4 }), RangeError);
    assert.throws(() => unpackPoints({ ...packed, buffer: packed.buffer.slice(1) }), RangeError);
  });

  it('refuse a point whose user index names no user', () => {
    const packed = packPoints(generated().slice(0, 3));
    assert.throws(() => unpackPoints({ ...packed, users: [] }), /names no user/);
  });
});

describe('packOutcomes and unpackOutcomes', () => {
  it('give back the outcomes in order', () => {
    const outcomes: IngestOutcome[] = ['stored', 'duplicate', 'duplicate', 'stored', 'stored'];
    const packed = packOutcomes(outcomes);
    assert.deepEqual(unpackOutcomes(structuredClone(packed, { transfer: [packed.buffer] })), outcomes);
    assert.deepEqual(unpackOutcomes(packOutcomes([])), []);
  });
});
