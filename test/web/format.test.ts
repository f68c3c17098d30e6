import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCount, fromInputValue, toInputValue } from '../../web/format.js';
import { NO_SPEED, SPEED_CLASSES, speedClass } from '../../web/speed.js';

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

describe('formatCount', () => {
  it('groups thousands', () => {
    assert.equal(formatCount(100_000), '100,000');
  });
});
