import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completeFix,
  featureFieldNames,
  GEOJSON_FILE_DIALECT,
  OVERLAND_DIALECT,
  readFeature,
} from './geojson-feature.js';

function feature(properties: Record<string, unknown>, coordinates: unknown = [-73.916, 40.701, 12]) {
  return { type: 'Feature', geometry: { type: 'Point', coordinates }, properties };
}

describe('readFeature', () => {
  it('reads Overland’s members in both dialects: [lon, lat], timestamp text, horizontal_accuracy, speed', () => {
    const item = feature({
      timestamp: '2017-01-01T13:05:12-0500',
      horizontal_accuracy: 30,
      speed: 4,
      device_id: 'a1',
    });
    for (const dialect of [OVERLAND_DIALECT, GEOJSON_FILE_DIALECT]) {
      const reading = readFeature(item, dialect);
      assert.deepEqual(reading.errors, []);
      assert.equal(reading.deviceId, 'a1');
      assert.deepEqual(completeFix(reading.fields, 'a1'), {
        user_id: 'a1',
        timestamp: '2017-01-01T13:05:12-0500',
        lat: 40.701,
        long: -73.916,
        accuracy: 30,
        speed: 4,
      });
    }
  });

  it('takes `time`, `date` and `accuracy` in files only, and epoch numbers', () => {
    const item = feature({ time: 1483293912, accuracy: 5, speed: -1 });
    const file = readFeature(item, GEOJSON_FILE_DIALECT);
    assert.deepEqual(file.fields, {
      timestamp: '2017-01-01T18:05:12.000Z',
      lat: 40.701,
      long: -73.916,
      accuracy: 5,
      speed: null,
    });
    assert.deepEqual(featureFieldNames(file, 'user'), {
      long: 'geometry.coordinates.0',
      lat: 'geometry.coordinates.1',
      timestamp: 'properties.time',
      accuracy: 'properties.accuracy',
      speed: 'properties.speed',
      user_id: 'user',
    });
    const overland = readFeature(item, OVERLAND_DIALECT);
    assert.equal(overland.fields.timestamp, undefined);
    assert.equal(overland.fields.accuracy, null);
    assert.deepEqual(overland.errors, [{ field: 'properties.timestamp', message: 'is required' }]);
  });

  it('leaves out what it cannot read, saying why, and no device_id that is empty or not text', () => {
    const reading = readFeature(
      feature({ timestamp: 5e300, speed: 'fast', device_id: '' }, [1]),
      GEOJSON_FILE_DIALECT,
    );
    assert.deepEqual(reading.errors, [
      { field: 'geometry.coordinates', message: 'must be [longitude, latitude], two numbers' },
      { field: 'properties.timestamp', message: 'is not a time: 5e+300' },
      { field: 'properties.speed', message: 'must be a number, not the string "fast"' },
    ]);
    assert.equal(reading.deviceId, undefined);
    assert.equal(completeFix(reading.fields, 'me'), null);
  });
});
