import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSamples, type TraceSample } from '../../src/tools/generate/trace.js';
import { build, put } from '../support/app.js';

interface Expected {
  samples: number;
  lat: number;
  long: number;
  accuracy: number;
  speed: number;
}

/*
 * The independent recomputation: the generator knows each fix's true UTC instant (Locus only sees local wall time),
 * and the means here are plain floating-point averages of the first copy of each fix, with no code shared with
 * the pipeline.
 */
function expectedMinutes(samples: TraceSample[]): Map<string, Expected> {
  const firstCopies = new Map<string, TraceSample>();
  for (const sample of samples) {
    const key = `${sample.row.user_id}|${sample.utcMs}`;
    if (!firstCopies.has(key)) firstCopies.set(key, sample);
  }
  const groups = new Map<string, TraceSample[]>();
  for (const sample of firstCopies.values()) {
    const minute = new Date(Math.floor(sample.utcMs / 60_000) * 60_000).toISOString();
    const key = `${sample.row.user_id}|${minute}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  const mean = (group: TraceSample[], pick: (s: TraceSample) => number) =>
    group.reduce((sum, s) => sum + pick(s), 0) / group.length;
  return new Map(
    [...groups].map(([key, group]) => [
      key,
      {
        samples: group.length,
        lat: mean(group, (s) => s.row.lat),
        long: mean(group, (s) => s.row.long),
        accuracy: mean(group, (s) => s.row.accuracy),
        speed: mean(group, (s) => s.row.speed),
      },
    ]),
  );
}

describe('replaying a generated trace through PUT /location', () => {
  it('stores exactly the averages recomputed from the true instants, in five zones', async (t) => {
    const { app } = await build(t);
    const samples = [...generateSamples({ seed: 7, users: 5, minutes: 45, scenario: 'zones' })];
    const seen = new Set<string>();
    for (const { row, utcMs } of samples) {
      const response = await put(app, row);
      assert.equal(response.statusCode, 200, response.body);
      const answer = response.json<{ status: string; timestamp_utc: string }>();
      assert.equal(answer.timestamp_utc, new Date(utcMs).toISOString(), `${row.user_id} ${row.timestamp}`);
      const key = `${row.user_id}|${utcMs}`;
      assert.equal(answer.status, seen.has(key) ? 'duplicate' : 'stored');
      seen.add(key);
    }

    const expected = expectedMinutes(samples);
    const actual = new Map<string, Expected>();
    const users = (await app.inject('/users')).json<{ users: Array<{ user_id: string }> }>().users;
    assert.equal(users.length, 5);
    for (const { user_id: userId } of users) {
      const page = await app.inject(`/users/${userId}/locations?limit=10000`);
      for (const { minute, ...means } of page.json<{ locations: Array<Expected & { minute: string }> }>()
        .locations) {
        actual.set(`${userId}|${minute}`, means);
      }
    }
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
    for (const [key, want] of expected) {
      const got = actual.get(key);
      assert.ok(got);
      assert.equal(got.samples, want.samples, key);
      // Locus sums in fixed units of 1e-8° and 1 mm; floating-point averaging differs by rounding only.
      for (const field of ['lat', 'long'] as const) assert.ok(Math.abs(got[field] - want[field]) < 1e-8, key);
      for (const field of ['accuracy', 'speed'] as const)
        assert.ok(Math.abs(got[field] - want[field]) < 1e-3, key);
    }
  });
});
