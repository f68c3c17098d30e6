import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overlandToPoints } from './overland.js';

/** A point as Overland sends it (https://github.com/aaronpk/Overland-iOS#api). */
function feature(properties: Record<string, unknown> = {}, coordinates: unknown = [-73.916, 40.701]) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates },
    properties: {
      timestamp: '2017-01-01T13:05:12-0500',
      altitude: 0,
      speed: 4,
      horizontal_accuracy: 30,
      vertical_accuracy: -1,
      motion: ['driving', 'stationary'],
      pauses: false,
      activity: 'other_navigation',
      desired_accuracy: 100,
      deferred: 1000,
      significant_change: 'disabled',
      locations_in_payload: 1,
      battery_state: 'charging',
      battery_level: 0.89,
      device_id: 'a1',
      wifi: '',
      ...properties,
    },
  };
}

const TS_MS = Date.UTC(2017, 0, 1, 18, 5, 12);

describe('overlandToPoints', () => {
  it('reads every field: [lon, lat] order, timestamp with its offset, accuracy in metres, speed in m/s', () => {
    assert.deepEqual(overlandToPoints([feature()], undefined), {
      ok: true,
      value: {
        points: [{ userId: 'a1', tsMs: TS_MS, lat: 40.701, long: -73.916, accuracy: 30, speed: 4 }],
        rejected: [],
      },
    });
  });

  it('stores speed -1 (unknown) and a missing speed or accuracy as null', () => {
    const result = overlandToPoints(
      [feature({ speed: -1 }), feature({ speed: undefined, horizontal_accuracy: undefined })],
      undefined,
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.value.points.map((p) => [p.accuracy, p.speed]),
      [
        [30, null],
        [null, null],
      ],
    );
  });

  it('resolves a timestamp without offset with the zone at the position', () => {
    const result = overlandToPoints([feature({ timestamp: '2017-01-01T13:05:12' })], undefined);
    assert.ok(result.ok);
    assert.equal(result.value.points[0]?.tsMs, TS_MS);
  });

  it('accepts a UTC timestamp with a fraction, and an altitude as third coordinate', () => {
    const result = overlandToPoints(
      [feature({ timestamp: '2017-01-01T18:05:12.250Z' }, [-73.916, 40.701, 12])],
      undefined,
    );
    assert.ok(result.ok);
    assert.equal(result.value.points[0]?.tsMs, TS_MS + 250);
  });

  it('falls back on ?user= when device_id is empty or absent, and prefers device_id', () => {
    const result = overlandToPoints(
      [feature({ device_id: '' }), feature({ device_id: undefined }), feature()],
      'carol',
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.value.points.map((p) => p.userId),
      ['carol', 'carol', 'a1'],
    );
  });

  it('refuses the whole batch when a point has no user and there is no ?user=', () => {
    const result = overlandToPoints([feature(), feature({ device_id: '' })], undefined);
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [
      {
        field: 'locations.1.properties.device_id',
        message: 'is empty or absent, and the URL has no ?user= to fall back on',
      },
    ]);
  });

  it('skips invalid points, reporting each by index, and keeps the valid ones', () => {
    const result = overlandToPoints(
      [
        'garbage',
        feature({ timestamp: '2017-02-30T12:00:00Z' }),
        feature({}, [-200, 95]),
        feature({ horizontal_accuracy: '5', speed: 1e6 }),
        { type: 'Feature', geometry: { type: 'LineString', coordinates: [] }, properties: {} },
        feature({ device_id: 'a\u0001' }),
        feature(),
      ],
      undefined,
    );
    assert.ok(result.ok);
    assert.equal(result.value.points.length, 1);
    assert.deepEqual(result.value.rejected, [
      { index: 0, errors: [{ field: 'locations.0', message: 'must be an object, not a string' }] },
      {
        index: 1,
        errors: [
          {
            field: 'locations.1.properties.timestamp',
            message: 'is not a real time: day of 2017-02 30 is out of range 1–28',
          },
        ],
      },
      {
        index: 2,
        errors: [
          { field: 'locations.2.geometry.coordinates.0', message: 'must be ≥ -180, got -200' },
          { field: 'locations.2.geometry.coordinates.1', message: 'must be ≤ 90, got 95' },
        ],
      },
      {
        index: 3,
        errors: [
          { field: 'locations.3.properties.horizontal_accuracy', message: 'must be a number, not a string' },
          { field: 'locations.3.properties.speed', message: 'must be ≤ 100000, got 1000000' },
        ],
      },
      {
        index: 4,
        errors: [
          { field: 'locations.4.geometry.type', message: 'must be "Point", not "LineString"' },
          { field: 'locations.4.geometry.coordinates', message: 'must NOT have fewer than 2 items' },
          { field: 'locations.4.properties.timestamp', message: 'is required' },
        ],
      },
      {
        index: 5,
        errors: [
          {
            field: 'locations.5.properties.device_id',
            message: 'must not contain control characters (found U+0001)',
          },
        ],
      },
    ]);
  });

  it('refuses a negative horizontal_accuracy (Core Location: the position is invalid)', () => {
    const result = overlandToPoints([feature({ horizontal_accuracy: -1 })], undefined);
    assert.ok(result.ok);
    assert.equal(result.value.rejected.length, 1);
  });

  it('names the retention error with the Overland timestamp field', () => {
    const result = overlandToPoints([feature()], undefined, { oldestAcceptedMs: TS_MS + 1 });
    assert.ok(result.ok);
    assert.equal(result.value.rejected[0]?.errors[0]?.field, 'locations.0.properties.timestamp');
  });

  it('takes an empty batch', () => {
    assert.deepEqual(overlandToPoints([], undefined), { ok: true, value: { points: [], rejected: [] } });
  });
});
