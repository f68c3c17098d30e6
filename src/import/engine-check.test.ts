import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preparePoint } from '../ingest/compose.js';
import { checkFix } from './engine-check.js';
import type { ImportFix } from './types.js';

const FIX: ImportFix = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

describe('checkFix', () => {
  it('gives what PUT /location gives, point or errors, for good and bad fields alike', () => {
    const cases: Array<Partial<Record<keyof ImportFix, unknown>>> = [
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
      const fix = { ...FIX, ...overrides } as ImportFix;
      assert.deepEqual(checkFix(fix), preparePoint(fix), JSON.stringify(overrides));
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
    assert.deepEqual(checkFix(FIX, { oldestAcceptedMs }), preparePoint(FIX, { oldestAcceptedMs }));
    assert.equal(checkFix(FIX, { oldestAcceptedMs }).ok, false);
  });
});
