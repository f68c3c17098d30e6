import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkUserId,
  fixToPoint,
  instantTimestamp,
  kmhToMps,
  MAX_EPOCH_SECONDS,
  MIN_EPOCH_SECONDS,
  prefixFields,
  renameFields,
} from './fix.js';

const FIX = {
  userId: 'a1',
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
};

describe('fixToPoint', () => {
  it('resolves local time with the zone at the position, like PUT /location', () => {
    const result = fixToPoint(FIX, {}, 'time');
    assert.deepEqual(result, {
      ok: true,
      value: {
        userId: 'a1',
        tsMs: Date.UTC(2017, 0, 1, 18, 5, 12),
        lat: 40.701,
        long: -73.916,
        accuracy: 11.3,
        speed: 1.4,
      },
    });
  });

  it('keeps a missing accuracy and speed as null, not as a placeholder', () => {
    const result = fixToPoint({ ...FIX, accuracy: null, speed: null }, {}, 'time');
    assert.ok(result.ok);
    assert.equal(result.value.accuracy, null);
    assert.equal(result.value.speed, null);
  });

  it('names the retention error with the format’s own timestamp field', () => {
    const result = fixToPoint(FIX, { oldestAcceptedMs: Date.UTC(2018, 0, 1) }, 'tst');
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'tst');
    assert.match(result.errors[0]?.message ?? '', /retention window/);
  });
});

describe('instantTimestamp', () => {
  it('writes a UTC instant as timestamp text with a Z offset, truncating below the millisecond', () => {
    assert.equal(instantTimestamp(1483293912000.9), '2017-01-01T18:05:12.000Z');
  });

  it('covers the years the timestamp format allows', () => {
    assert.equal(instantTimestamp(MIN_EPOCH_SECONDS * 1000), '1900-01-01T00:00:00.000Z');
    assert.equal(instantTimestamp(MAX_EPOCH_SECONDS * 1000), '9999-12-31T23:59:59.000Z');
  });
});

describe('kmhToMps', () => {
  it('converts km/h to m/s, exactly at whole values', () => {
    assert.equal(kmhToMps(36), 10);
    assert.equal(kmhToMps(360_000), 100_000);
    assert.equal(kmhToMps(0), 0);
  });
});

describe('checkUserId', () => {
  it('applies the PUT /location user id rules under the given name', () => {
    assert.deepEqual(checkUserId('alice', 'X-Limit-U'), { ok: true, value: 'alice' });
    const bad = checkUserId('a\u0007b', 'X-Limit-U');
    assert.ok(!bad.ok);
    assert.deepEqual(bad.errors, [
      { field: 'X-Limit-U', message: 'must not contain control characters or unpaired surrogates' },
    ]);
    assert.equal(checkUserId('x'.repeat(129), 'id').ok, false);
    assert.equal(checkUserId('', 'id').ok, false);
  });
});

describe('renameFields and prefixFields', () => {
  it('rename the fields they are given and leave the others', () => {
    const errors = [
      { field: 'long', message: 'm1' },
      { field: 'lat', message: 'm2' },
    ];
    assert.deepEqual(renameFields(errors, { long: 'lon' }), [
      { field: 'lon', message: 'm1' },
      { field: 'lat', message: 'm2' },
    ]);
  });

  it('name a nested value’s fields from the enclosing one', () => {
    const errors = [
      { field: 'body', message: 'm1' },
      { field: 'properties.speed', message: 'm2' },
    ];
    assert.deepEqual(prefixFields(errors, 'locations.3'), [
      { field: 'locations.3', message: 'm1' },
      { field: 'locations.3.properties.speed', message: 'm2' },
    ]);
  });
});
