import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canAppend,
  chartSeries,
  emptyTrack,
  GAP_MS,
  isExact,
  lowerBound,
  mergeTrack,
  nearestIndex,
  pointAt,
  reported,
  samplesPerMinute,
  sliceIndices,
  trackFromAnswer,
  trackLength,
  trackMinutes,
  unwrapLongitudes,
  type TrackPoint,
} from '../../web/track.js';

const at = (minute: number) => Date.UTC(2017, 0, 1, 18, minute);
const iso = (ms: number) => new Date(ms).toISOString();

/** A point of a /track answer merging `minutes` minutes from `first` (a minute of 18:xx) to `last`. */
function point(first: number, last = first, minutes = last - first + 1, extra: Partial<TrackPoint> = {}) {
  return {
    start: iso(at(first)),
    end: iso(at(last + 1)),
    minutes,
    samples: 2 * minutes,
    lat: 51.5,
    long: -0.1 + first / 1000,
    accuracy: 5,
    speed: 1,
    ...extra,
  };
}

const answer = (bucketSeconds: number, ...points: unknown[]) => ({
  user_id: 'u',
  bucket_seconds: bucketSeconds,
  points,
});

describe('trackFromAnswer', () => {
  it('takes the points as columns, NaN for values not reported', () => {
    const track = trackFromAnswer(
      answer(60, point(5), point(6, 6, 1, { speed: null, accuracy: null, long: -73.8 })),
    );
    assert.equal(track.bucketSeconds, 60);
    assert.ok(isExact(track));
    assert.deepEqual([...track.startMs], [at(5), at(6)]);
    assert.deepEqual([...track.endMs], [at(6), at(7)]);
    assert.deepEqual([...track.timeMs], [at(5), at(6)], 'a single minute is drawn at its start');
    assert.deepEqual([...track.long], [-0.095, -73.8]);
    assert.deepEqual([...track.speed], [1, NaN]);
    assert.equal(reported(track.accuracy[1]), null);
    assert.equal(reported(track.accuracy[0]), 5);
  });

  it('draws a merged point midway between its first and its last minute', () => {
    const track = trackFromAnswer(answer(600, point(0, 8, 7), point(10, 19, 10)));
    assert.equal(isExact(track), false);
    assert.deepEqual([...track.timeMs], [at(4), (at(10) + at(19)) / 2]);
    assert.equal(trackMinutes(track), 17);
    assert.equal(trackMinutes(track, 1), 10);
    assert.deepEqual([...samplesPerMinute(track)], [2, 2]);
  });

  it('gives back each point as the server sent it', () => {
    const sent = point(3, 7, 4, { speed: null });
    assert.deepEqual(pointAt(trackFromAnswer(answer(300, sent)), 0), sent);
  });

  it('refuses what is not a track answer', () => {
    assert.throws(() => trackFromAnswer({ type: 'FeatureCollection' }), /not a track/);
    assert.throws(() => trackFromAnswer(answer(60, { ...point(1), lat: 'x' })), /not a track/);
    assert.throws(() => trackFromAnswer(answer(0, point(1))), /not a track/);
    assert.throws(() => trackFromAnswer(null), /not a track/);
  });

  it('takes an empty answer', () => {
    assert.equal(trackLength(trackFromAnswer(answer(60))), 0);
  });
});

describe('mergeTrack and canAppend', () => {
  const base = trackFromAnswer(answer(60, point(0), point(1), point(2)));

  it('replaces the points from the update on, keeping those before', () => {
    const update = trackFromAnswer(answer(60, point(2, 2, 1, { long: 10 }), point(3, 3, 1, { long: 11 })));
    const merged = mergeTrack(base, update);
    assert.deepEqual([...merged.long], [-0.1, -0.099, 10, 11]);
    assert.equal(mergeTrack(base, emptyTrack()), base);
    assert.ok(canAppend(merged, 10));
    assert.ok(canAppend(merged, 10, 4), 'four minutes, as the user has');
  });

  it('does not pass merged minutes for exact ones, nor outgrow the screen, nor miss older minutes', () => {
    const coarse = mergeTrack(base, trackFromAnswer(answer(120, point(2, 3))));
    assert.equal(coarse.bucketSeconds, 120);
    assert.equal(canAppend(coarse, 10), false);
    const merged = mergeTrack(base, trackFromAnswer(answer(60, point(3))));
    assert.equal(canAppend(merged, 3), false, 'four points, three wanted');
    assert.equal(canAppend(merged, 10, 5), false, 'the user has a minute more than these');
  });
});

describe('lookups', () => {
  const track = trackFromAnswer(answer(60, point(0), point(1), point(5), point(6)));

  it('lowerBound finds the first value not below', () => {
    assert.equal(lowerBound([1, 3, 3, 5], 3), 1);
    assert.equal(lowerBound([1, 3, 5], 6), 3);
    assert.equal(lowerBound([], 1), 0);
  });

  it('nearestIndex finds the closest point', () => {
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

describe('chartSeries', () => {
  it('draws every point, breaking the line at silences and at values not reported', () => {
    const track = trackFromAnswer(
      answer(60, point(0), point(1, 1, 1, { speed: null }), point(8, 8, 1, { speed: 3 })),
    );
    assert.ok(at(8) - at(2) > GAP_MS);
    const [xs, ys] = chartSeries(track, track.speed, 0, 3);
    assert.deepEqual(ys, [1, null, null, 3]);
    assert.equal(xs[2], (at(2) + at(8)) / 2 / 1000, 'the break lies in the silence');
    assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]!));
  });

  it('does not break the line between neighbouring buckets longer than the gap', () => {
    const hour = 60;
    const track = trackFromAnswer(answer(hour * 60, point(0, 50), point(70, 110)));
    const [, ys] = chartSeries(track, track.speed, 0, 2);
    assert.deepEqual(ys, [1, 1]);
  });

  it('draws only the slice asked for', () => {
    const track = trackFromAnswer(answer(60, point(0), point(1), point(2)));
    assert.deepEqual(chartSeries(track, track.long, 1, 2), [[at(1) / 1000], [-0.099]]);
  });
});

describe('unwrapLongitudes', () => {
  it('keeps a track across the antimeridian continuous', () => {
    assert.deepEqual([...unwrapLongitudes([179, -179, -178, 179.5])], [179, 181, 182, 179.5]);
    assert.deepEqual([...unwrapLongitudes([-179, 179])], [-179, -181]);
    assert.deepEqual([...unwrapLongitudes([10, 20, -30])], [10, 20, -30]);
  });
});
