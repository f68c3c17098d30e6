import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldError } from './point.js';
import { validateLocation } from './checks.js';

const VALID = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

function errorsOf(body: unknown): FieldError[] {
  const result = validateLocation(body);
  assert.ok(!result.ok, `expected ${JSON.stringify(body)} to be rejected`);
  return result.errors;
}

function onlyError(body: unknown): FieldError {
  const errors = errorsOf(body);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return errors[0] as FieldError;
}

const with_ = (field: string, value: unknown) => ({ ...VALID, [field]: value });

describe('validateLocation', () => {
  it('accepts the challenge example', () =>
    assert.deepEqual(validateLocation(VALID), { ok: true, value: VALID }));

  it('accepts the bounds of every range', () => {
    for (const [field, value] of [
      ['lat', -90],
      ['lat', 90],
      ['long', -180],
      ['long', 180],
      ['accuracy', 0],
      ['speed', 0],
      ['user_id', 'x'.repeat(128)],
      ['user_id', '🛰'.repeat(128)],
    ] as const) {
      assert.ok(validateLocation(with_(field, value)).ok, `${field}=${value}`);
    }
  });

  it('ignores unknown extra fields', () =>
    assert.ok(validateLocation({ ...VALID, battery: 0.5, extra: [1] }).ok));

  for (const field of Object.keys(VALID)) {
    it(`reports a missing ${field}`, () => {
      const body: Record<string, unknown> = { ...VALID };
      delete body[field];
      assert.deepEqual(onlyError(body), { field, message: 'is required' });
    });
  }

  for (const field of ['lat', 'long', 'accuracy', 'speed']) {
    for (const [value, got] of [
      ['40.7', 'a string'],
      [null, 'null'],
      [true, 'a boolean'],
      [[40.7], 'an array'],
      [{ value: 40.7 }, 'an object'],
    ] as const) {
      it(`rejects ${field} sent as ${got}`, () =>
        assert.deepEqual(onlyError(with_(field, value)), { field, message: `must be a number, not ${got}` }));
    }
  }

  for (const [field, value] of [
    ['lat', -90.000001],
    ['lat', 91],
    ['long', -180.5],
    ['long', 181],
    ['accuracy', -0.1],
    ['speed', -1],
    ['accuracy', 2e7 + 1],
    ['speed', 1e5 + 1],
    ['lat', Infinity],
    ['accuracy', Infinity],
    ['speed', -Infinity],
  ] as const) {
    it(`rejects ${field} = ${value} as out of range`, () => {
      const error = onlyError(with_(field, value));
      assert.equal(error.field, field);
      assert.match(error.message, /^must be ([≥≤] |a finite number, not -?Infinity)/);
    });
  }

  for (const [value, message] of [
    [12, 'must be a string, not a number'],
    ['', 'must have at least 1 character(s)'],
    ['x'.repeat(129), 'must have at most 128 characters'],
    ['a\u0000b', 'must not contain control characters or unpaired surrogates'],
    ['tab\there', 'must not contain control characters or unpaired surrogates'],
    ['line\n', 'must not contain control characters or unpaired surrogates'],
    ['c1\u0085', 'must not contain control characters or unpaired surrogates'],
    ['lone\ud800', 'must not contain control characters or unpaired surrogates'],
  ] as const) {
    it(`rejects user_id ${JSON.stringify(value).slice(0, 20)}`, () =>
      assert.deepEqual(onlyError(with_('user_id', value)), { field: 'user_id', message }));
  }

  it('rejects a timestamp that is not a string', () =>
    assert.deepEqual(onlyError(with_('timestamp', 1483275912)), {
      field: 'timestamp',
      message: 'must be a string, not a number',
    }));

  it('says why a timestamp is not a real time', () =>
    assert.deepEqual(onlyError(with_('timestamp', '2017-02-30 12:00:00')), {
      field: 'timestamp',
      message: 'is not a real time: day of 2017-02 30 is out of range 1–28',
    }));

  it('says what a timestamp should look like', () =>
    assert.match(
      onlyError(with_('timestamp', '01/01/2017 13:05')).message,
      /must look like 'YYYY-MM-DD HH:MM:SS'/,
    ));

  it('lists every problem, one per field', () => {
    const errors = errorsOf({
      timestamp: '2017-02-30 12:00:00',
      lat: '40',
      long: 200,
      speed: -1,
      user_id: '',
    });
    assert.deepEqual(
      errors.map((e) => e.field).sort(),
      ['accuracy', 'lat', 'long', 'speed', 'timestamp', 'user_id'].sort(),
    );
  });

  for (const [body, got] of [
    [null, 'null'],
    [[VALID], 'an array'],
    ['text', 'a string'],
    [42, 'a number'],
    [true, 'a boolean'],
  ] as const) {
    it(`rejects a body that is ${got}`, () =>
      assert.deepEqual(onlyError(body), { field: 'body', message: `must be an object, not ${got}` }));
  }

  it('does not treat an inherited property as present', () => {
    const body = Object.create({ lat: 1 }) as Record<string, unknown>;
    Object.assign(body, { ...VALID });
    delete body.lat;
    assert.deepEqual(onlyError(body), { field: 'lat', message: 'is required' });
  });
});
