import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GAP_MS, minMaxSeries, strideIndices } from '../../web/downsample.js';
import { speedClass, SPEED_CLASSES, NO_SPEED } from '../../web/speed.js';
import { fromInputValue, toInputValue } from '../../web/format.js';

describe('strideIndices', () => {
  it('takes everything when it fits', () => {
    assert.deepEqual(strideIndices(3, 7, 10), [3, 4, 5, 6]);
    assert.deepEqual(strideIndices(5, 5, 10), []);
  });

  it('spreads at most max indices, first and last included', () => {
    const picked = strideIndices(0, 100_000, 2_500);
    assert.equal(picked.length, 2_500);
    assert.equal(picked[0], 0);
    assert.equal(picked.at(-1), 99_999);
    assert.ok(picked.every((v, i) => i === 0 || v > picked[i - 1]!));
  });
});

describe('minMaxSeries', () => {
  const minutes = (n: number) => Float64Array.from({ length: n }, (_, i) => i * 60_000);

  it('draws every minute when there are few, breaking the line at gaps and unreported values', () => {
    const ms = Float64Array.from([0, 60_000, 60_000 + GAP_MS + 1]);
    const [xs, ys] = minMaxSeries(ms, Float64Array.from([1, NaN, 3]), 0, 3, 100);
    assert.deepEqual(ys, [1, null, null, 3]);
    assert.equal(xs.length, 4);
    assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]!));
  });

  it('keeps every peak of 100,000 minutes in two points per bin', () => {
    const n = 100_000;
    const values = Float64Array.from({ length: n }, (_, i) => (i === 54_321 ? 999 : i % 7));
    const [xs, ys] = minMaxSeries(minutes(n), values, 0, n, 500);
    assert.ok(xs.length <= 1_000, `${xs.length} points`);
    assert.ok(ys.includes(999), 'the spike survives');
    assert.equal(Math.min(...ys.filter((y): y is number => y !== null)), 0);
    assert.ok(
      xs.every((x, i) => i === 0 || x >= xs[i - 1]!),
      'x ascends',
    );
  });

  it('breaks the line once for a run of empty bins', () => {
    const n = 10_000;
    const values = Float64Array.from({ length: n }, (_, i) => (i >= 4_000 && i < 6_000 ? NaN : 1));
    const [, ys] = minMaxSeries(minutes(n), values, 0, n, 100);
    assert.equal(ys.filter((y) => y === null).length, 1);
  });
});

describe('speedClass', () => {
  it('classes speeds by their upper bounds, with a class for none', () => {
    assert.equal(speedClass(0), SPEED_CLASSES[0]);
    assert.equal(speedClass(0.5), SPEED_CLASSES[1]);
    assert.equal(speedClass(100), SPEED_CLASSES.at(-1));
    assert.equal(speedClass(null), NO_SPEED);
    assert.ok(
      SPEED_CLASSES.every((c, i) => i === 0 || c.radius > SPEED_CLASSES[i - 1]!.radius),
      'size grows',
    );
  });
});

describe('datetime-local values', () => {
  it('are read and written as UTC', () => {
    assert.equal(fromInputValue('2017-01-01T13:05'), Date.UTC(2017, 0, 1, 13, 5));
    assert.equal(toInputValue(Date.UTC(2017, 0, 1, 13, 5)), '2017-01-01T13:05');
    assert.equal(fromInputValue(''), null);
    assert.equal(fromInputValue('2017-13-01T00:00'), null);
  });
});
