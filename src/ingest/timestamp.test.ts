import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_YEAR, MIN_YEAR } from './limits.js';
import type { Result } from './point.js';
import {
  parseInstant,
  parseTimestamp,
  TIMESTAMP_FORMAT_HINT,
  wallClockMs,
  zoneNameMessage,
  type LocalTimestamp,
} from './timestamp.js';

/*
 * The oracle: parseTimestamp as it was written with a regex and Date, before the hand-written scanner replaced it
 * for speed. The scanner must give the same result, error message included, for every text.
 */
const REFERENCE_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

function referenceRangeError(value: number, what: string, min: number, max: number): string | null {
  return value < min || value > max ? `${what} ${value} is out of range ${min}–${max}` : null;
}

function referenceCheckFields(t: LocalTimestamp): string | null {
  return (
    referenceRangeError(t.year, 'year', MIN_YEAR, MAX_YEAR) ??
    referenceRangeError(t.month, 'month', 1, 12) ??
    referenceRangeError(
      t.day,
      `day of ${t.year}-${String(t.month).padStart(2, '0')}`,
      1,
      new Date(Date.UTC(t.year, t.month, 0)).getUTCDate(),
    ) ??
    referenceRangeError(t.hour, 'hour', 0, 23) ??
    referenceRangeError(t.minute, 'minute', 0, 59) ??
    referenceRangeError(t.second, 'second', 0, 59) ??
    (t.offsetMinutes !== null && Math.abs(t.offsetMinutes) > 18 * 60 ? 'offset is beyond ±18:00' : null)
  );
}

function referenceOffset(zulu?: string, sign?: string, hh?: string, mm?: string): number | null {
  if (zulu) return 0;
  if (!sign || !hh) return null;
  const minutes = Number(hh) * 60 + Number(mm ?? '0');
  return sign === '-' ? -minutes : minutes;
}

/*
 * The rule added to the oracle for zone names: a text of the grammar followed by a zone name (an upper-case
 * abbreviation other than AM and PM, an IANA name with a slash, or any name in brackets up to 64 characters) says
 * that the zone comes from the position.
 */
const REFERENCE_ZONE_NAMED = new RegExp(
  `^${REFERENCE_TIMESTAMP.source.slice(1, -1)}` +
    String.raw`(?: *\[([^\]\s=]{1,64})\]| +(?!(?:AM|PM)$)([A-Z]{2,5}|[A-Za-z][\w+-]*(?:/[\w+-]+)+))$`,
);

function referenceFormatMessage(text: string): string {
  const named = text.length <= 128 ? REFERENCE_ZONE_NAMED.exec(text) : null;
  const zone = named?.[12] ?? named?.[13];
  return zone === undefined ? TIMESTAMP_FORMAT_HINT : zoneNameMessage(zone);
}

function referenceParse(text: string): Result<LocalTimestamp> {
  const m = REFERENCE_TIMESTAMP.exec(text);
  if (!m) return { ok: false, errors: [{ field: 'timestamp', message: referenceFormatMessage(text) }] };
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = m;
  const value: LocalTimestamp = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
    millisecond: fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0,
    offsetMinutes: referenceOffset(zulu, sign, oh, om),
  };
  const problem =
    (om ? referenceRangeError(Number(om), 'offset minute', 0, 59) : null) ?? referenceCheckFields(value);
  if (problem)
    return { ok: false, errors: [{ field: 'timestamp', message: `is not a real time: ${problem}` }] };
  return { ok: true, value };
}

// deepStrictEqual compares numbers with Object.is, so an offset of -0 (from `-00`) must stay -0.
function assertSameAsReference(text: string): void {
  assert.deepStrictEqual(parseTimestamp(text), referenceParse(text), JSON.stringify(text));
}

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
    '2017-01-01 13:05:12 PM',
    '2017-01-01 13:05:12 est',
    '2017-01-01 13:05 EST',
    '2017-01-01 13:05:12 [u-ca=hebrew]',
    ' 2017-01-01 13:05:12',
    '2017-01-01 13:05:12\n',
    '１２３４-01-01 13:05:12',
    '1483275912',
  ];
  for (const text of malformed) {
    it(`rejects the malformed ${JSON.stringify(text)}`, () => assert.match(reason(text), /must look like/));
  }
});

describe('parseTimestamp with a zone name', () => {
  for (const [text, zone] of [
    ['2017-01-01 13:05:12 EST', 'EST'],
    ['2017-01-01 13:05:12 UTC', 'UTC'],
    ['2017-01-01T13:05:12[America/New_York]', 'America/New_York'],
    ['2017-01-01T13:05:12.5-05:00[America/New_York]', 'America/New_York'],
    ['2017-01-01 13:05:12 [Europe/Paris]', 'Europe/Paris'],
    ['2017-01-01 13:05:12 America/New_York', 'America/New_York'],
    ['2017-01-01 13:05:12Z America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['2017-01-01 13:05:12 Etc/GMT+5', 'Etc/GMT+5'],
  ] as const) {
    it(`says that ${JSON.stringify(text)} need not name its zone`, () => {
      assert.equal(reason(text), zoneNameMessage(zone));
      assert.match(reason(text), /the zone comes from the coordinates.*offset \(\+02:00, -0500, Z\)/);
    });
  }
  it('is not tried on a long text', () =>
    assert.equal(reason(`2017-01-01 13:05:12${' '.repeat(20_000)}EST`), TIMESTAMP_FORMAT_HINT));
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

// Characters the grammar uses, characters it does not, and digits that are not ASCII (which `\d` does not match).
const ALPHABET = [
  ...'0123456789',
  ...'0123456789',
  ...'-: TtZz+.',
  'x',
  'e',
  '\n',
  '\t',
  '\u0000',
  '٣',
  '１',
  '\u{1F600}',
];
const anyChar = fc.constantFrom(...ALPHABET);
const digitText = (length: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: length, maxLength: length }).map((d) => d.join(''));

// Grammar-shaped texts with any digits in every field: every range check and every offset form.
const shaped = fc
  .tuple(
    fc.oneof(
      digitText(4),
      fc.constantFrom('1899', '1900', '2000', '2016', '2017', '2100', '2400', '9999', '0000'),
    ),
    fc.oneof(digitText(2), fc.constantFrom('00', '01', '02', '04', '12', '13')),
    fc.oneof(digitText(2), fc.constantFrom('00', '01', '28', '29', '30', '31', '32')),
    fc.constantFrom('T', 't', ' '),
    fc.oneof(digitText(2), fc.constantFrom('00', '23', '24')),
    fc.oneof(digitText(2), fc.constantFrom('00', '59', '60')),
    fc.oneof(digitText(2), fc.constantFrom('00', '59', '60')),
    fc.oneof(
      fc.constant(''),
      fc.integer({ min: 1, max: 10 }).chain((n) => digitText(n).map((d) => `.${d}`)),
    ),
    fc.oneof(
      fc.constantFrom('', 'Z', 'z', '+00', '-00', '-00:00', '+18:00', '-18:00', '+18:01', '+1800', '-1801'),
      fc
        .tuple(fc.constantFrom('+', '-'), digitText(2), fc.constantFrom('', ':'), digitText(2))
        .map(([sign, hh, colon, mm]) => `${sign}${hh}${colon}${mm}`),
      fc.tuple(fc.constantFrom('+', '-'), digitText(2)).map(([sign, hh]) => `${sign}${hh}`),
    ),
  )
  .map(
    ([y, mo, d, sep, h, mi, s, fraction, offset]) =>
      `${y}-${mo}-${d}${sep}${h}:${mi}:${s}${fraction}${offset}`,
  );

type Mutation = { kind: 'delete' | 'insert' | 'replace' | 'cut'; at: number; char: string };
const mutation = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('delete', 'insert', 'replace', 'cut'),
  at: fc.nat(),
  char: anyChar,
});

function mutate(text: string, { kind, at, char }: Mutation): string {
  const i = at % (text.length + 1);
  if (kind === 'delete') return text.slice(0, i) + text.slice(i + 1);
  if (kind === 'insert') return text.slice(0, i) + char + text.slice(i);
  if (kind === 'replace') return text.slice(0, i) + char + text.slice(i + 1);
  return text.slice(0, i);
}

// Grammar-shaped texts followed by what may or may not be a zone name.
const zoneSuffix = fc.oneof(
  fc.constantFrom(
    ' EST',
    ' CEST',
    ' UTC',
    ' AM',
    ' pm',
    'EST',
    '  EST',
    ' E',
    ' ESTXYZ',
    ' [UTC]',
    '[America/New_York]',
  ),
  fc.constantFrom(
    ' [PM]',
    '[AM]',
    ' America/New_York',
    ' Etc/GMT+5',
    ' America/',
    ' /New_York',
    '[]',
    '[a b]',
    '[u-ca=hebrew]',
    ' Z',
  ),
  fc
    .tuple(fc.constantFrom(' ', '', '[', ' ['), fc.string({ maxLength: 12 }), fc.constantFrom('', ']'))
    .map((p) => p.join('')),
);
const zoneNamed = fc.tuple(shaped, zoneSuffix).map(([text, suffix]) => text + suffix);

describe('parseTimestamp against the regex it replaced', () => {
  it('agrees on random texts from a timestamp-like alphabet', () => {
    fc.assert(
      fc.property(fc.array(anyChar, { maxLength: 40 }), (chars) => assertSameAsReference(chars.join(''))),
      { numRuns: 20_000 },
    );
  });

  it('agrees on grammar-shaped texts with any digits', () => {
    fc.assert(fc.property(shaped, assertSameAsReference), { numRuns: 20_000 });
  });

  it('agrees on grammar-shaped texts followed by zone names and look-alikes', () => {
    fc.assert(fc.property(zoneNamed, assertSameAsReference), { numRuns: 20_000 });
    fc.assert(
      fc.property(zoneNamed, fc.array(mutation, { minLength: 1, maxLength: 2 }), (text, mutations) =>
        assertSameAsReference(mutations.reduce(mutate, text)),
      ),
      { numRuns: 10_000 },
    );
  });

  it('agrees on mutations of grammar-shaped texts', () => {
    fc.assert(
      fc.property(shaped, fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, mutations) =>
        assertSameAsReference(mutations.reduce(mutate, text)),
      ),
      { numRuns: 20_000 },
    );
  });

  it('agrees on every day of every month around leap-year rules', () => {
    for (const year of [1899, 1900, 1901, 1904, 1996, 2000, 2001, 2100, 2400, 9996, 9999]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          assertSameAsReference(`${date} 12:00:00`);
        }
      }
    }
  });

  it('agrees on the edge cases of the grammar', () => {
    const edges = [
      '2017-01-01 13:05:12-00',
      '2017-01-01 13:05:12-00:00',
      '2017-01-01 13:05:12+00',
      '2017-01-01 13:05:12+02:',
      '2017-01-01 13:05:12+02:3',
      '2017-01-01 13:05:12+023',
      '2017-01-01 13:05:12+02:300',
      '2017-01-01 13:05:12+02::30',
      '2017-01-01 13:05:12Zz',
      '2017-01-01 13:05:12.123456789Z',
      '2017-01-01 13:05:12.1234567890Z',
      '2017-01-01 13:05:12.05',
      '2017-01-01 13:05:12.Z',
      '2017-01-01 13:05:12.٣',
      '2017-01-01 13:05:1٣',
      '2017-01-01 13:05:12+99:99',
      '1899-01-01 13:05:12+02:60',
      '2017-01-01t13:05:12z',
    ];
    for (const text of edges) assertSameAsReference(text);
  });
});

describe('wallClockMs', () => {
  const field = (min: number, max: number) =>
    fc.oneof(
      fc.integer({ min, max }),
      fc.integer({ min: min - 50, max: max + 50 }),
      fc.double({ min: min - 2, max: max + 2, noNaN: true }),
      fc.constantFrom(NaN, -0, Infinity),
    );
  it('equals Date.UTC for any fields, in range or not', () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.oneof(fc.integer({ min: MIN_YEAR, max: MAX_YEAR }), field(-100, 300_000)),
          month: field(1, 12),
          day: field(1, 31),
          hour: field(0, 23),
          minute: field(0, 59),
          second: field(0, 59),
          millisecond: field(0, 999),
          offsetMinutes: fc.constant(null),
        }),
        (t) =>
          assert.strictEqual(
            wallClockMs(t),
            Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.millisecond),
            JSON.stringify(t),
          ),
      ),
      { numRuns: 50_000 },
    );
  });
  it('equals Date.UTC on every first and last day of a month from 1900 to 9999', () => {
    for (let year = MIN_YEAR; year <= MAX_YEAR; year++) {
      for (let month = 1; month <= 12; month++) {
        for (const day of [1, 28, 29, 30, 31]) {
          const t = {
            year,
            month,
            day,
            hour: 23,
            minute: 59,
            second: 59,
            millisecond: 999,
            offsetMinutes: null,
          };
          assert.strictEqual(wallClockMs(t), Date.UTC(year, month - 1, day, 23, 59, 59, 999));
        }
      }
    }
  });
});
