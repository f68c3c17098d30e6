import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkUserId,
  composeRead,
  instantTimestamp,
  kmhToMps,
  prefixFields,
  renameFields,
  composeNamed,
} from './fix.js';
import { MAX_EPOCH_SECONDS, MIN_EPOCH_SECONDS } from '../limits.js';

const FIX = {
  user_id: 'a1',
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
};

describe('composeNamed', () => {
  it('resolves local time with the zone at the position, like PUT /location', () => {
    const result = composeNamed(FIX, {}, { timestamp: 'time' });
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
    const result = composeNamed({ ...FIX, accuracy: null, speed: null }, {}, { timestamp: 'time' });
    assert.ok(result.ok);
    assert.equal(result.value.accuracy, null);
    assert.equal(result.value.speed, null);
  });

  it('names the retention error with the format’s own timestamp field', () => {
    const result = composeNamed(FIX, { oldestAcceptedMs: Date.UTC(2018, 0, 1) }, { timestamp: 'tst' });
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'tst');
    assert.match(result.errors[0]?.message ?? '', /retention window/);
  });
});

describe('composeRead', () => {
  const NAMES = { user_id: 'id', lat: 'lat', long: 'lon', timestamp: 'time', accuracy: 'acc', speed: 'spd' };

  it('is the composer when the door read every field', () => {
    const result = composeRead({ fields: FIX, errors: [], names: NAMES }, {});
    assert.deepEqual(result, composeNamed(FIX, {}, {}));
  });

  it('lists the door’s errors and the composer’s for the fields it read in the payload’s order', () => {
    const fields = { ...FIX, lat: undefined, long: 200, accuracy: -1 };
    const result = composeRead(
      { fields, errors: [{ field: 'lat', message: 'must be a number, got "x"' }], names: NAMES },
      {},
    );
    assert.deepEqual(result, {
      ok: false,
      errors: [
        { field: 'lat', message: 'must be a number, got "x"' },
        { field: 'lon', message: 'must be ≤ 180, got 200' },
        { field: 'acc', message: 'must be ≥ 0, got -1' },
      ],
    });
  });

  it('puts the composer’s errors between the door’s by the payload’s order, containers with their members', () => {
    const names = {
      ...NAMES,
      long: 'geometry.coordinates.0',
      lat: 'geometry.coordinates.1',
      speed: 'p.speed',
    };
    const door = [
      { field: 'geometry', message: 'is odd' },
      { field: 'p.speed', message: 'must be a number' },
    ];
    const fields = { ...FIX, timestamp: '2017-02-30 00:00:00', speed: undefined };
    const result = composeRead({ fields, errors: door, names }, {});
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((e) => e.field),
      ['geometry', 'time', 'p.speed'],
    );
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
      { field: 'X-Limit-U', message: 'must not contain control characters (found U+0007)' },
    ]);
    assert.equal(checkUserId('x'.repeat(129), 'id').ok, false);
    assert.equal(checkUserId('', 'id').ok, false);
  });

  it('refuses format and bidi characters and the ids . and .., saying which rule failed', () => {
    for (const [userId, message] of [
      ['alice\u200b', 'must not contain invisible format or bidi control characters (found U+200B)'],
      ['evil\u202Egpj.exe', 'must not contain invisible format or bidi control characters (found U+202E)'],
      ['\u2066a\u2069', 'must not contain invisible format or bidi control characters (found U+2066)'],
      ['\ufeffa', 'must not contain invisible format or bidi control characters (found U+FEFF)'],
      [
        '.',
        "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it",
      ],
      [
        '..',
        "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it",
      ],
      ['a\ud800', 'must not contain unpaired surrogates (text that is not Unicode)'],
    ] as const) {
      assert.deepEqual(checkUserId(userId, 'topic'), { ok: false, errors: [{ field: 'topic', message }] });
    }
    for (const userId of ['...', '.a', 'a.', 'a/..', 'ü']) assert.ok(checkUserId(userId, 'id').ok, userId);
  });

  it('returns the id in Unicode NFC, and counts its length there, as the composer does', () => {
    assert.deepEqual(checkUserId('A\u0308', 'id'), { ok: true, value: '\u00c4' });
    assert.deepEqual(checkUserId('\u00c4', 'id'), { ok: true, value: '\u00c4' });
    // 128 decomposed characters are 256 code points as sent, 128 once composed.
    assert.deepEqual(checkUserId('A\u0308'.repeat(128), 'id'), { ok: true, value: '\u00c4'.repeat(128) });
    // U+0958 decomposes under NFC (a composition exclusion): 65 of them are 130 code points.
    assert.equal(checkUserId('\u0958'.repeat(64), 'id').ok, true);
    assert.equal(checkUserId('\u0958'.repeat(65), 'id').ok, false);
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
