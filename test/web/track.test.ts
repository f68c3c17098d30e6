import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  emptyTrack,
  lowerBound,
  mergeTrack,
  nearestIndex,
  reported,
  sliceIndices,
  trackFromGeoJson,
  unwrapLongitudes,
} from '../../web/track.js';

const point = (minute: string, long: number, lat: number, speed: number | null = 1) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [long, lat] },
  properties: { minute, accuracy: speed === null ? null : 5, speed, samples: 2 },
});

const collection = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

describe('trackFromGeoJson', () => {
  it('takes the Point features as columns, NaN for values not reported, ignoring the track', () => {
    const track = trackFromGeoJson(
      collection(
        point('2017-01-01T18:05:00.000Z', -73.9, 40.7),
        point('2017-01-01T18:06:00.000Z', -73.8, 40.8, null),
        { type: 'Feature', geometry: { type: 'LineString', coordinates: [] }, properties: {} },
      ),
    );
    assert.deepEqual([...track.minuteMs], [Date.UTC(2017, 0, 1, 18, 5), Date.UTC(2017, 0, 1, 18, 6)]);
    assert.deepEqual([...track.long], [-73.9, -73.8]);
    assert.deepEqual([...track.lat], [40.7, 40.8]);
    assert.deepEqual([...track.speed], [1, NaN]);
    assert.equal(reported(track.accuracy[1]), null);
    assert.equal(reported(track.accuracy[0]), 5);
  });

  it('refuses what is not a FeatureCollection', () => {
    assert.throws(() => trackFromGeoJson({ type: 'Feature' }), /FeatureCollection/);
  });
});

describe('mergeTrack', () => {
  it('replaces the minutes from the update on, keeping those before', () => {
    const base = trackFromGeoJson(
      collection(...['00', '01', '02'].map((m, i) => point(`2017-01-01T18:${m}:00Z`, i, 0))),
    );
    const update = trackFromGeoJson(
      collection(...['02', '03'].map((m, i) => point(`2017-01-01T18:${m}:00Z`, 10 + i, 0))),
    );
    const merged = mergeTrack(base, update);
    assert.deepEqual([...merged.long], [0, 1, 10, 11]);
    assert.equal(mergeTrack(base, emptyTrack()), base);
  });
});

describe('lookups', () => {
  const track = trackFromGeoJson(
    collection(...['00', '01', '05', '06'].map((m) => point(`2017-01-01T18:${m}:00Z`, 0, 0))),
  );
  const at = (m: number) => Date.UTC(2017, 0, 1, 18, m);

  it('lowerBound finds the first value not below', () => {
    assert.equal(lowerBound([1, 3, 3, 5], 3), 1);
    assert.equal(lowerBound([1, 3, 5], 6), 3);
    assert.equal(lowerBound([], 1), 0);
  });

  it('nearestIndex finds the closest minute', () => {
    assert.equal(nearestIndex(track, at(2)), 1);
    assert.equal(nearestIndex(track, at(4)), 2);
    assert.equal(nearestIndex(track, at(-10)), 0);
    assert.equal(nearestIndex(track, at(60)), 3);
    assert.equal(nearestIndex(emptyTrack(), 0), -1);
  });

  it('sliceIndices takes both ends inclusively', () => {
    assert.deepEqual(sliceIndices(track, at(1), at(5)), [1, 3]);
    assert.deepEqual(sliceIndices(track, at(2), at(4)), [2, 2]);
  });
});

describe('unwrapLongitudes', () => {
  it('keeps a track across the antimeridian continuous', () => {
    assert.deepEqual([...unwrapLongitudes([179, -179, -178, 179.5])], [179, 181, 182, 179.5]);
    assert.deepEqual([...unwrapLongitudes([-179, 179])], [-179, -181]);
    assert.deepEqual([...unwrapLongitudes([10, 20, -30])], [10, 20, -30]);
  });
});
