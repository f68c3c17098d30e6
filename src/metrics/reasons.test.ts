import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { osmandToPoint } from '../ingest/apps/osmand.js';
import { overlandToPoints } from '../ingest/apps/overland.js';
import { ownTracksToPoint } from '../ingest/apps/owntracks.js';
import { composePoint } from '../ingest/compose.js';
import type { FieldError, Result } from '../ingest/point.js';
import { pointRejectionReason, rejectionReason, REJECTION_REASONS } from './reasons.js';

const POINT = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

function errorsOf(result: Result<unknown>): FieldError[] {
  assert.equal(result.ok, false, 'expected a rejection');
  return result.ok ? [] : result.errors;
}

describe('rejectionReason', () => {
  it('names the PUT /location field at fault, from the errors the pipeline really gives', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...POINT, lat: 91 }, 'lat'],
      [{ ...POINT, long: '-73.9' }, 'long'],
      [{ ...POINT, accuracy: -1 }, 'accuracy'],
      [{ ...POINT, speed: null }, 'speed'],
      [{ ...POINT, user_id: '' }, 'user_id'],
      [{ ...POINT, timestamp: '2017-02-30 13:05:12' }, 'timestamp'],
      [{ ...POINT, timestamp: undefined }, 'timestamp'],
    ];
    for (const [body, reason] of cases) {
      assert.equal(
        pointRejectionReason(errorsOf(composePoint(body, { rules: 'put' }))),
        reason,
        JSON.stringify(body),
      );
    }
  });

  it('says `retention` for a point older than the retention window, not `timestamp`', () => {
    const errors = errorsOf(composePoint(POINT, { rules: 'put', oldestAcceptedMs: Date.UTC(2020, 0, 1) }));
    assert.equal(pointRejectionReason(errors), 'retention');
  });

  it('maps the app formats’ own field names onto the PUT /location fields', () => {
    const owntracks = { _type: 'location', lat: 40.7, lon: -73.9, tst: 1483290312 };
    const identity = { user: 'alice', device: 'phone', userField: 'topic', deviceField: 'topic' };
    const owntracksReason = (message: Record<string, unknown>) =>
      pointRejectionReason(errorsOf(ownTracksToPoint({ ...owntracks, ...message }, identity, 'user')));
    assert.equal(owntracksReason({ lon: 200 }), 'long');
    assert.equal(owntracksReason({ tst: 'yesterday' }), 'timestamp');
    assert.equal(owntracksReason({ acc: -1 }), 'accuracy');
    assert.equal(owntracksReason({ vel: 'fast' }), 'speed');
    const noUser = { ...identity, user: undefined };
    assert.equal(pointRejectionReason(errorsOf(ownTracksToPoint(owntracks, noUser, 'user'))), 'user_id');

    const osmand = (query: string) =>
      pointRejectionReason(errorsOf(osmandToPoint(new URLSearchParams(query))));
    assert.equal(osmand('id=a1&lat=40.7&lon=x&timestamp=1483290312'), 'long');
    assert.equal(osmand('id=a1&lat=40.7&lon=-73.9&timestamp=1483290312&hdop=-3'), 'accuracy');
    assert.equal(osmand('id=a1&lat=40.7&lon=-73.9&timestamp=1483290312&spd=x'), 'speed');
    assert.equal(osmand('lat=40.7&lon=-73.9&timestamp=1483290312'), 'user_id');

    const feature = (coordinates: unknown[], properties: Record<string, unknown> = {}) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates },
      properties: { timestamp: '2017-01-01T13:05:12Z', device_id: 'a1', ...properties },
    });
    const overland = overlandToPoints(
      [
        feature([-73.9, 95]),
        feature([-200, 40.7]),
        feature([-73.9, 40.7], { timestamp: 'yesterday' }),
        'not a feature',
      ],
      undefined,
    );
    assert.ok(overland.ok);
    assert.deepEqual(
      overland.value.rejected.map((item) => pointRejectionReason(item.errors)),
      ['lat', 'long', 'timestamp', 'body'],
    );
  });

  it('says `other` for any field it does not know, whatever the client named it', () => {
    for (const field of ['__proto__', 'constructor', 'x'.repeat(10_000), 'a.b.c', '', 'coordinates.7']) {
      assert.equal(rejectionReason({ field, message: 'is invalid' }), 'other', field.slice(0, 20));
    }
  });

  it('never gives a reason outside its bounded set', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (field, message) => {
        assert.ok(REJECTION_REASONS.includes(rejectionReason({ field, message })));
      }),
    );
  });

  it('counts a point with no field errors as a bad body', () => {
    assert.equal(pointRejectionReason([]), 'body');
  });
});
