import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trackFromAnswer, type Track } from '../../web/track.js';
import { covers, MAX_POINTS, maxPointsFor, MIN_POINTS, zoomRange } from '../../web/zoom.js';

const MINUTE = 60_000;
const at = (minute: number, seconds = 0) => Date.UTC(2017, 0, 1, 18, minute, seconds);

function track(bucketSeconds: number): Track {
  return trackFromAnswer({ user_id: 'u', bucket_seconds: bucketSeconds, points: [] });
}

describe('zoomRange', () => {
  it('asks for the minutes that start in the zoom, both of its ends inclusive', () => {
    assert.deepEqual(zoomRange([at(5, 20), at(9, 40)], {}), { fromMs: at(6), toMs: at(10) });
    assert.deepEqual(zoomRange([at(5), at(9)], {}), { fromMs: at(5), toMs: at(10) });
  });

  it('stays within the chosen date range', () => {
    assert.deepEqual(zoomRange([at(0), at(30)], { fromMs: at(10), toMs: at(20) }), {
      fromMs: at(10),
      toMs: at(20),
    });
    assert.deepEqual(zoomRange([at(0), at(30)], { fromMs: at(10) }), { fromMs: at(10), toMs: at(31) });
  });

  it('takes the minute a zoom narrower than a minute lies in', () => {
    assert.deepEqual(zoomRange([at(5, 10), at(5, 50)], {}), { fromMs: at(5), toMs: at(6) });
  });
});

describe('covers', () => {
  const wanted = { fromMs: at(10), toMs: at(20) };

  it('reuses exact minutes that hold the whole zoom', () => {
    assert.ok(covers({ track: track(60), range: {} }, wanted));
    assert.ok(covers({ track: track(60), range: { fromMs: at(10), toMs: at(20) } }, wanted));
  });

  it('fetches again when the points are merged, or the zoom reaches past what was fetched', () => {
    assert.equal(covers({ track: track(120), range: {} }, wanted), false);
    assert.equal(covers({ track: track(60), range: { fromMs: at(11) } }, wanted), false);
    assert.equal(covers({ track: track(60), range: { toMs: at(20) - MINUTE / 2 } }, wanted), false);
  });
});

describe('maxPointsFor', () => {
  it('asks for about one point per pixel, within bounds', () => {
    assert.equal(maxPointsFor(1_100.4), 1_100);
    assert.equal(maxPointsFor(0), MIN_POINTS);
    assert.equal(maxPointsFor(5_120), MAX_POINTS);
  });
});
