import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketWidth, dataSpan, type TrackPoint } from '../../src/http/routes/read/track.js';
import type { LocusApp } from '../../src/http/types.js';
import { build, seed } from '../support/app.js';
import { assertProblem } from '../support/problem.js';

interface Track {
  user_id: string;
  bucket_seconds: number;
  points: TrackPoint[];
}

interface Minute {
  minute: string;
  lat: number;
  long: number;
  accuracy: number | null;
  speed: number | null;
  samples: number;
}

async function track(app: LocusApp, query = ''): Promise<Track> {
  const response = await app.inject(`/users/a1/track${query}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<Track>();
}

async function minutes(app: LocusApp): Promise<Minute[]> {
  return (await app.inject('/users/a1/locations')).json<{ locations: Minute[] }>().locations;
}

/** The sample-weighted mean of `key` over `rows`: the mean of every point of those minutes. */
function pointMean(rows: readonly Minute[], key: 'lat' | 'long'): number {
  const samples = rows.reduce((sum, row) => sum + row.samples, 0);
  return rows.reduce((sum, row) => sum + row[key] * row.samples, 0) / samples;
}

describe('GET /users/:user_id/track', () => {
  it('answers the stored minutes themselves when they fit in max_points', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const answer = await track(app);
    assert.equal(answer.bucket_seconds, 60);
    assert.deepEqual(
      answer.points,
      (await minutes(app)).map((m) => ({
        start: m.minute,
        end: new Date(Date.parse(m.minute) + 60_000).toISOString(),
        minutes: 1,
        samples: m.samples,
        lat: m.lat,
        long: m.long,
        accuracy: m.accuracy,
        speed: m.speed,
      })),
    );
  });

  it('merges minutes into at most max_points buckets, each the mean of all its points', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const rows = await minutes(app);
    for (const maxPoints of [2, 3, 4, 9]) {
      const answer = await track(app, `?max_points=${maxPoints}`);
      assert.ok(answer.points.length <= maxPoints, `${answer.points.length} > ${maxPoints}`);
      assert.ok(answer.bucket_seconds > 60 && answer.bucket_seconds % 60 === 0);
      assert.equal(
        answer.points.reduce((sum, p) => sum + p.minutes, 0),
        rows.length,
        'every minute is in one bucket',
      );
      for (const point of answer.points) {
        const inside = rows.filter((m) => m.minute >= point.start && m.minute < point.end);
        assert.equal(point.minutes, inside.length);
        assert.equal(
          point.samples,
          inside.reduce((sum, m) => sum + m.samples, 0),
        );
        assert.ok(Math.abs(point.lat - pointMean(inside, 'lat')) < 1e-9);
        assert.ok(Math.abs(point.long - pointMean(inside, 'long')) < 1e-9);
        // Buckets are aligned on multiples of their width since the epoch: a point's minutes lie in one such span.
        const width = answer.bucket_seconds * 1000;
        const spanStart = Math.floor(Date.parse(point.start) / width) * width;
        assert.ok(Date.parse(point.end) <= spanStart + width);
      }
    }
  });

  it('takes from inclusive and to exclusive, and answers no points for a range without data', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const answer = await track(app, '?from=2017-01-01T18:02:00Z&to=2017-01-01T18:05:00Z');
    assert.deepEqual(
      answer.points.map((p) => p.start),
      ['2017-01-01T18:02:00.000Z', '2017-01-01T18:03:00.000Z', '2017-01-01T18:04:00.000Z'],
    );
    assert.deepEqual((await track(app, '?from=2018-01-01')).points, []);
  });

  it('answers 404 for a user without data and 400 for a bad parameter', async (t) => {
    const { app } = await build(t);
    await seed(app);
    assertProblem(await app.inject('/users/nobody/track'), 404);
    for (const query of ['max_points=1', 'max_points=10001', 'max_points=x', 'from=yesterday']) {
      assertProblem(await app.inject(`/users/a1/track?${query}`), 400);
    }
    assertProblem(await app.inject('/users/a1/track?from=2017-01-02&to=2017-01-01'), 400);
  });
});

describe('bucketWidth', () => {
  const MINUTE = 60_000;

  it('is the narrowest whole number of minutes that keeps the count within the limit', () => {
    const count = (first: number, last: number, width: number) =>
      Math.floor(last / width) - Math.floor(first / width) + 1;
    for (const [first, last, maxPoints] of [
      [0, 9 * MINUTE, 10],
      [0, 9 * MINUTE, 2],
      [7 * MINUTE, 1_000_000 * MINUTE, 2_000],
      [-5 * MINUTE, 5 * MINUTE, 3],
      [123 * MINUTE, 123 * MINUTE, 2],
    ] as const) {
      const width = bucketWidth(first, last, maxPoints);
      assert.equal(width % MINUTE, 0);
      assert.ok(count(first, last, width) <= maxPoints);
      if (width > MINUTE) assert.ok(count(first, last, width - MINUTE) > maxPoints, 'narrowest');
    }
  });
});

describe('dataSpan', () => {
  const user = { userId: 'a', minutes: 3, samples: 3, firstMinuteMs: 60_000, lastMinuteMs: 600_000 };

  it('clips the user data to the minutes that start in [from, to)', () => {
    assert.deepEqual(dataSpan(user, {}), { firstMs: 60_000, lastMs: 600_000 });
    assert.deepEqual(dataSpan(user, { fromMs: 120_001, toMs: 300_000 }), {
      firstMs: 180_000,
      lastMs: 240_000,
    });
    assert.deepEqual(dataSpan(user, { toMs: 300_001 }), { firstMs: 60_000, lastMs: 300_000 });
    assert.equal(dataSpan(user, { fromMs: 600_001 }), null);
  });
});
