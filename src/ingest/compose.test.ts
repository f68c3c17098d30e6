import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composePoint, withNormalUserId } from './compose.js';
import type { RawFix } from './point.js';

/** The composer under the rules of every door but PUT /location. */
const checkFix = (fix: RawFix, options = {}) => composePoint(fix, options);

const FIX: RawFix = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

describe('composePoint under the rules of every door but PUT /location', () => {
  it('gives what PUT /location gives, point or errors, for good and bad fields alike', () => {
    const cases: Array<Partial<Record<keyof RawFix, unknown>>> = [
      {},
      { timestamp: '2017-01-01T13:05:12.123456789-05:00' },
      { timestamp: '2017-02-30 10:00:00' },
      { timestamp: 'yesterday' },
      { timestamp: '2017-02-30 10:00:00', lat: 91, speed: -1 },
      { timestamp: 'nope', user_id: '' },
      { lat: Number.NaN },
      { long: 180.5, accuracy: 20_000_001 },
      { accuracy: Number.POSITIVE_INFINITY },
      { speed: '3' },
      { user_id: 'a\u0000b' },
      { user_id: 'x'.repeat(129) },
      { timestamp: 7 },
    ];
    for (const overrides of cases) {
      const fix = { ...FIX, ...overrides } as RawFix;
      assert.deepEqual(checkFix(fix), composePoint(fix, { rules: 'put' }), JSON.stringify(overrides));
    }
  });

  it('takes a missing accuracy or speed as null, where PUT /location requires them', () => {
    const result = checkFix({ ...FIX, accuracy: null, speed: null });
    assert.deepEqual(result, {
      ok: true,
      value: {
        userId: 'a1',
        tsMs: Date.UTC(2017, 0, 1, 18, 5, 12),
        lat: 40.701,
        long: -73.916,
        accuracy: null,
        speed: null,
      },
    });
  });

  it('refuses points older than the retention window, as PUT /location does', () => {
    const oldestAcceptedMs = Date.UTC(2018, 0, 1);
    assert.deepEqual(
      checkFix(FIX, { oldestAcceptedMs }),
      composePoint(FIX, { rules: 'put', oldestAcceptedMs }),
    );
    assert.equal(checkFix(FIX, { oldestAcceptedMs }).ok, false);
  });
});

describe('composePoint and user ids', () => {
  const COMPOSED = '\u00c4lice'; // Älice, Ä as one code point
  const DECOMPOSED = 'A\u0308lice'; // A + COMBINING DIAERESIS

  it('keys a user by the id in Unicode NFC, under every door’s rules', () => {
    for (const rules of ['put', 'nullable'] as const) {
      const composed = composePoint({ ...FIX, user_id: COMPOSED }, { rules });
      const decomposed = composePoint({ ...FIX, user_id: DECOMPOSED }, { rules });
      assert.ok(composed.ok && decomposed.ok);
      assert.equal(decomposed.value.userId, COMPOSED);
      assert.deepEqual(decomposed, composed);
    }
  });

  it('counts the length after normalising', () => {
    // 128 decomposed characters: 256 code points as sent, 128 once composed.
    const long = composePoint({ ...FIX, user_id: 'A\u0308'.repeat(128) });
    assert.ok(long.ok);
    assert.equal(long.value.userId, '\u00c4'.repeat(128));
    // U+0958 decomposes under NFC (a composition exclusion): 65 of them are 130 code points once normalised.
    assert.equal(composePoint({ ...FIX, user_id: '\u0958'.repeat(64) }).ok, true);
    assert.deepEqual(composePoint({ ...FIX, user_id: '\u0958'.repeat(65) }), {
      ok: false,
      errors: [{ field: 'user_id', message: 'must have at most 128 characters' }],
    });
  });

  it('refuses format and bidi characters and . and .., whatever the form', () => {
    for (const userId of ['alice\u200b', 'evil\u202Egpj.exe', '\u2067x\u2069', '\ufeffa', '.', '..']) {
      const result = composePoint({ ...FIX, user_id: userId });
      assert.ok(!result.ok, JSON.stringify(userId));
      assert.equal(result.errors[0]?.field, 'user_id');
    }
  });

  it('never changes the caller’s fix, and copies it only when the id changes', () => {
    const fix = { ...FIX, user_id: DECOMPOSED };
    assert.deepEqual(withNormalUserId(fix), { ...FIX, user_id: COMPOSED });
    assert.equal(fix.user_id, DECOMPOSED);
    const ascii = { ...FIX };
    assert.equal(withNormalUserId(ascii), ascii);
    for (const raw of [null, 'text', [DECOMPOSED], { user_id: 7 }]) assert.equal(withNormalUserId(raw), raw);
    const inherited = Object.create({ user_id: DECOMPOSED }) as object;
    assert.equal(withNormalUserId(inherited), inherited);
  });
});
