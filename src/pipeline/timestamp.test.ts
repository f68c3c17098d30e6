import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInstant, parseTimestamp, wallClockMs } from './timestamp.js';

function ok(text: string) {
  const result = parseTimestamp(text);
  assert.ok(result.ok, `${text} should parse: ${JSON.stringify(result)}`);
  return result.value;
}

function reason(text: string): string {
  const result = parseTimestamp(text);
  assert.ok(!result.ok, `${text} should be rejected`);
  assert.equal(result.errors[0]?.field, 'timestamp');
  return result.errors[0]?.message ?? '';
}

describe('parseTimestamp', () => {
  it('reads the challenge format as a wall time without offset', () => {
    assert.deepEqual(ok('2017-01-01 13:05:12'), {
      year: 2017,
      month: 1,
      day: 1,
      hour: 13,
      minute: 5,
      second: 12,
      millisecond: 0,
      offsetMinutes: null,
    });
  });

  it('accepts T in place of the space', () => {
    assert.equal(wallClockMs(ok('2017-01-01T13:05:12')), Date.UTC(2017, 0, 1, 13, 5, 12));
  });

  it('keeps fractions to the millisecond, truncating extra digits', () => {
    assert.equal(ok('2017-01-01 13:05:12.5').millisecond, 500);
    assert.equal(ok('2017-01-01 13:05:12.25').millisecond, 250);
    assert.equal(ok('2017-01-01 13:05:12.123').millisecond, 123);
    assert.equal(ok('2017-01-01 13:05:12.999999999').millisecond, 999);
    assert.equal(ok('2017-01-01 23:59:59.9999').second, 59);
  });

  it('reads explicit offsets: Z, ±HH:MM, ±HHMM, ±HH', () => {
    assert.equal(ok('2017-01-01T13:05:12Z').offsetMinutes, 0);
    assert.equal(ok('2017-01-01T13:05:12+02:00').offsetMinutes, 120);
    assert.equal(ok('2017-01-01T13:05:12-0500').offsetMinutes, -300);
    assert.equal(ok('2017-01-01T13:05:12+0545').offsetMinutes, 345);
    assert.equal(ok('2017-01-01T13:05:12-03').offsetMinutes, -180);
  });

  it('accepts 29 February in a leap year only', () => {
    ok('2016-02-29 00:00:00');
    ok('2000-02-29 00:00:00');
    assert.match(reason('2017-02-29 00:00:00'), /day of 2017-02 29 is out of range 1–28/);
    assert.match(reason('1900-02-29 00:00:00'), /day/);
  });

  const impossible: Array<[string, RegExp]> = [
    ['2017-02-30 12:00:00', /day/],
    ['2017-04-31 12:00:00', /day/],
    ['2017-00-10 12:00:00', /month/],
    ['2017-13-01 12:00:00', /month/],
    ['2017-01-00 12:00:00', /day/],
    ['2017-01-01 24:00:00', /hour/],
    ['2017-01-01 24:00:01', /hour/],
    ['2017-01-01 12:61:00', /minute/],
    ['2017-01-01 12:00:60', /second/],
    ['2017-01-01 12:00:00+19:00', /offset/],
    ['2017-01-01 12:00:00+02:60', /offset minute/],
    ['1899-12-31 23:59:59', /year/],
  ];
  for (const [text, why] of impossible) {
    it(`rejects the impossible time ${text}`, () => assert.match(reason(text), why));
  }

  const malformed = [
    '',
    '2017-01-01',
    '2017-1-1 13:05:12',
    '2017-01-01 13:05',
    '2017-01-01  13:05:12',
    '2017/01/01 13:05:12',
    '01-01-2017 13:05:12',
    '2017-01-01 13:05:12.',
    '2017-01-01 13:05:12.1234567890',
    '2017-01-01 13:05:12 +02:00',
    '2017-01-01 13:05:12+2',
    '2017-01-01 13:05:12 EST',
    ' 2017-01-01 13:05:12',
    '2017-01-01 13:05:12\n',
    '１２３４-01-01 13:05:12',
    '1483275912',
  ];
  for (const text of malformed) {
    it(`rejects the malformed ${JSON.stringify(text)}`, () => assert.match(reason(text), /must look like/));
  }
});

describe('parseInstant', () => {
  it('reads a date as midnight UTC', () => assert.equal(parseInstant('2017-01-01'), Date.UTC(2017, 0, 1)));
  it('reads a date-time without offset as UTC', () =>
    assert.equal(parseInstant('2017-01-01T13:05:00'), Date.UTC(2017, 0, 1, 13, 5)));
  it('applies an offset', () =>
    assert.equal(parseInstant('2017-01-01T13:05:00+01:00'), Date.UTC(2017, 0, 1, 12, 5)));
  it('returns null for garbage', () => {
    assert.equal(parseInstant('yesterday'), null);
    assert.equal(parseInstant('2017-02-30'), null);
  });
});
