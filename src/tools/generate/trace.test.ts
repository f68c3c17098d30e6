import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { find } from 'geo-tz';
import { Temporal } from 'temporal-polyfill';
import {
  DEFAULT_TRACE_OPTIONS,
  SCENARIOS,
  TRACE_LIMITS,
  generateSamples,
  generateTrace,
  resolveTraceOptions,
  type TraceOptions,
  type TraceSample,
} from './trace.js';

const samplesOf = (options: Partial<TraceOptions> = {}): TraceSample[] => [...generateSamples(options)];

function byUser(samples: TraceSample[]): Map<string, TraceSample[]> {
  const users = new Map<string, TraceSample[]>();
  for (const sample of samples) {
    const list = users.get(sample.row.user_id) ?? [];
    list.push(sample);
    users.set(sample.row.user_id, list);
  }
  return users;
}

/** Copies of one fix: the rows sharing (user, UTC instant), in the order they were emitted. */
function fixesOf(samples: TraceSample[]): TraceSample[][] {
  const fixes = new Map<string, TraceSample[]>();
  for (const sample of samples) {
    const key = `${sample.row.user_id}@${sample.utcMs}`;
    fixes.set(key, [...(fixes.get(key) ?? []), sample]);
  }
  return [...fixes.values()];
}

function offsetOf(sample: TraceSample): string {
  return Temporal.Instant.fromEpochMilliseconds(sample.utcMs).toZonedDateTimeISO(sample.zone).offset;
}

function metresBetween(a: { lat: number; long: number }, b: { lat: number; long: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLong = (b.long - a.long) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLong / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

const hasDecimals = (x: number, digits: number): boolean => Math.round(x * 10 ** digits) / 10 ** digits === x;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

describe('generateTrace', () => {
  it('defaults to 3 city users over 60 minutes from 2017-01-01 08:00:00 with seed 1', () => {
    assert.deepEqual(
      { ...DEFAULT_TRACE_OPTIONS },
      { seed: 1, users: 3, minutes: 60, start: '2017-01-01 08:00:00', scenario: 'city' },
    );
    assert.deepEqual([...generateTrace()], [...generateTrace(DEFAULT_TRACE_OPTIONS)]);
  });

  it('is deterministic: the same seed gives the same rows, another seed different rows', () => {
    for (const scenario of SCENARIOS) {
      const options = { scenario, users: 4, minutes: 30 };
      const first = [...generateTrace({ ...options, seed: 7 })];
      assert.deepEqual([...generateTrace({ ...options, seed: 7 })], first);
      assert.notDeepEqual([...generateTrace({ ...options, seed: 8 })], first);
    }
  });

  it("gives each user the same trace whatever the number of users (u1's trace does not depend on u2)", () => {
    const few = [...generateTrace({ users: 2, seed: 3 })];
    const many = [...generateTrace({ users: 5, seed: 3 })].filter(
      (r) => r.user_id === 'u1' || r.user_id === 'u2',
    );
    assert.deepEqual(many, few);
  });

  it('emits users u1…uN, each starting within 90 s after --start, local time, lasting --minutes', () => {
    const samples = samplesOf({ users: 4, minutes: 45, start: '2017-06-01 12:30:00', seed: 5 });
    const users = byUser(samples);
    assert.deepEqual([...users.keys()].sort(), ['u1', 'u2', 'u3', 'u4']);
    for (const list of users.values()) {
      const first = list[0]!.row.timestamp;
      assert.ok(first >= '2017-06-01 12:30:00' && first <= '2017-06-01 12:31:30', first);
      const spanMs = list.at(-1)!.utcMs - list[0]!.utcMs;
      assert.ok(spanMs < 45 * 60_000 && spanMs > 35 * 60_000, `span ${spanMs} ms`);
    }
  });

  it('keeps every field in range and rounded', () => {
    for (const scenario of SCENARIOS) {
      for (const { row } of generateSamples({ scenario, users: 5, minutes: 120, seed: 11 })) {
        assert.match(row.timestamp, TIMESTAMP);
        assert.ok(row.lat >= -90 && row.lat <= 90, `lat ${row.lat}`);
        assert.ok(row.long >= -180 && row.long <= 180, `long ${row.long}`);
        assert.ok(row.accuracy >= 2 && row.accuracy <= 600, `accuracy ${row.accuracy}`);
        assert.ok(row.speed >= 0 && row.speed <= 33, `speed ${row.speed}`);
        assert.ok(hasDecimals(row.lat, 6) && hasDecimals(row.long, 6), `${row.lat}, ${row.long}`);
        assert.ok(hasDecimals(row.accuracy, 2) && hasDecimals(row.speed, 2), `${row.accuracy}, ${row.speed}`);
        assert.ok(!Object.is(row.lat, -0) && !Object.is(row.long, -0));
      }
    }
  });

  it('merges users in UTC order, so each user is non-decreasing in UTC', () => {
    for (const scenario of SCENARIOS) {
      const samples = samplesOf({ scenario, users: 5, minutes: 90, seed: 2 });
      for (let i = 1; i < samples.length; i++) {
        assert.ok(samples[i - 1]!.utcMs <= samples[i]!.utcMs, `${scenario} row ${i}`);
      }
      assert.ok(byUser(samples).size === 5);
    }
  });

  it('sends most fixes 2–5 times, with different accuracy and position noise', () => {
    const samples = samplesOf({ users: 3, minutes: 120, seed: 4 });
    const fixes = fixesOf(samples);
    const counts = fixes.map((copies) => copies.length);
    assert.ok(Math.max(...counts) <= TRACE_LIMITS.maxCopies && Math.min(...counts) >= 1);
    assert.ok(
      counts.filter((n) => n >= 2).length > 0.6 * counts.length,
      'most fixes are sent more than once',
    );
    assert.ok(counts.includes(5) && counts.includes(1));
    // Copies of a fix are emitted together (nothing of the same user between them): the first one is the original.
    for (const list of byUser(samples).values()) {
      const seen = new Set<number>();
      for (let i = 0; i < list.length; i++) {
        if (i > 0 && list[i]!.utcMs === list[i - 1]!.utcMs) continue;
        assert.ok(!seen.has(list[i]!.utcMs), 'copies are contiguous');
        seen.add(list[i]!.utcMs);
      }
    }
    const repeated = fixes.filter((copies) => copies.length >= 2);
    const differ = (key: 'accuracy' | 'lat' | 'long') =>
      repeated.filter((copies) => new Set(copies.map((s) => s.row[key])).size > 1).length;
    assert.ok(differ('accuracy') > 0.9 * repeated.length);
    assert.ok(differ('lat') > 0.9 * repeated.length && differ('long') > 0.9 * repeated.length);
    for (const copies of repeated) {
      assert.equal(new Set(copies.map((s) => s.row.timestamp)).size, 1, 'copies share the timestamp');
      for (const s of copies)
        assert.ok(metresBetween(s.row, copies[0]!.row) <= s.row.accuracy + copies[0]!.row.accuracy);
    }
  });

  it('takes a fix every 15–25 s, with occasional gaps of whole minutes', () => {
    let gaps = 0;
    let emptyMinutes = 0;
    for (const list of byUser(samplesOf({ users: 5, minutes: 120, seed: 9 })).values()) {
      const instants = [...new Set(list.map((s) => s.utcMs))];
      const steps = instants.slice(1).map((t, i) => (t - instants[i]!) / 1000);
      assert.ok(steps.every((s) => s >= 15 && s <= 25 + TRACE_LIMITS.maxGapS));
      assert.ok(steps.filter((s) => s <= 25).length > 0.9 * steps.length, 'usually 15–25 s');
      assert.ok(new Set(steps).size > 5, 'jittered');
      gaps += steps.filter((s) => s >= TRACE_LIMITS.minGapS).length;
      const minutes = new Set(instants.map((t) => Math.floor(t / 60_000)));
      const [first, last] = [Math.floor(instants[0]! / 60_000), Math.floor(instants.at(-1)! / 60_000)];
      for (let m = first; m <= last; m++) if (!minutes.has(m)) emptyMinutes++;
    }
    assert.ok(gaps >= 3, `gaps: ${gaps}`);
    assert.ok(emptyMinutes >= 3, `minutes with no point: ${emptyMinutes}`);
  });

  it('mixes standing, walking (~1.4 m/s) and driving, with accuracy mostly small and occasionally huge', () => {
    const rows = [...generateTrace({ users: 6, minutes: 240, seed: 6 })];
    const share = (test: (x: number) => boolean, key: 'speed' | 'accuracy') =>
      rows.filter((r) => test(r[key])).length / rows.length;
    assert.ok(share((s) => s < 0.5, 'speed') > 0.02, 'standing');
    assert.ok(share((s) => s >= 0.8 && s <= 2.2, 'speed') > 0.15, 'walking');
    assert.ok(share((s) => s >= 8, 'speed') > 0.15, 'driving');
    assert.ok(share((s) => s >= 25, 'speed') > 0, 'fast driving');
    assert.ok(share((a) => a <= 20, 'accuracy') > 0.6, 'mostly small');
    assert.ok(share((a) => a >= 150, 'accuracy') > 0.01, 'occasionally huge');
  });

  it('moves continuously: consecutive fixes are no farther apart than 33 m/s allows, plus noise', () => {
    for (const scenario of SCENARIOS) {
      for (const list of byUser(samplesOf({ scenario, users: 5, minutes: 120, seed: 12 })).values()) {
        const originals = list.filter((s, i) => i === 0 || s.utcMs !== list[i - 1]!.utcMs);
        for (let i = 1; i < originals.length; i++) {
          const [a, b] = [originals[i - 1]!, originals[i]!];
          const reach = (33 * (b.utcMs - a.utcMs)) / 1000 + a.row.accuracy + b.row.accuracy + 1;
          assert.ok(metresBetween(a.row, b.row) <= reach, `${a.row.user_id} at ${b.row.timestamp}`);
        }
      }
    }
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario}: formats every row in the zone geo-tz finds at its coordinates`, () => {
      const samples = samplesOf({ scenario, users: 10, minutes: 480, seed: 13 });
      const zones = new Set<string>();
      for (const sample of samples) {
        const zone = find(sample.row.lat, sample.row.long)[0];
        assert.equal(zone, sample.zone, `${sample.row.user_id} at ${sample.row.lat}, ${sample.row.long}`);
        const local = Temporal.Instant.fromEpochMilliseconds(sample.utcMs).toZonedDateTimeISO(zone);
        assert.equal(local.toPlainDateTime().toString().replace('T', ' '), sample.row.timestamp);
        zones.add(zone);
      }
      const expected = {
        city: ['America/New_York'],
        dst: ['America/New_York'],
        zones: ['America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Etc/GMT+9', 'Pacific/Chatham'],
      }[scenario];
      assert.deepEqual([...zones].sort(), expected);
    });
  }

  it('zones: covers the odd offsets, +05:45, +13:45 (Chatham summer), +11:00 (Lord Howe summer), and sea', () => {
    const offsets = new Map(
      samplesOf({ scenario: 'zones', users: 5, minutes: 10 }).map((s) => [s.zone, offsetOf(s)]),
    );
    assert.deepEqual(Object.fromEntries(offsets), {
      'America/New_York': '-05:00',
      'Asia/Kathmandu': '+05:45',
      'Pacific/Chatham': '+13:45',
      'Australia/Lord_Howe': '+11:00',
      'Etc/GMT+9': '-09:00',
    });
    // In the southern winter Chatham is +12:45 and Lord Howe +10:30.
    const winter = samplesOf({ scenario: 'zones', users: 4, minutes: 10, start: '2017-07-01 08:00:00' });
    assert.equal(offsetOf(winter.find((s) => s.zone === 'Pacific/Chatham')!), '+12:45');
    assert.equal(offsetOf(winter.find((s) => s.zone === 'Australia/Lord_Howe')!), '+10:30');
  });

  it('zones: the same --start is each user’s own local time', () => {
    const samples = samplesOf({ scenario: 'zones', users: 5, minutes: 10, seed: 21 });
    for (const list of byUser(samples).values())
      assert.match(list[0]!.row.timestamp, /^2017-01-01 08:0[01]:/);
    assert.ok(new Set(samples.map((s) => Math.floor(s.utcMs / 3_600_000))).size >= 5, 'different UTC hours');
  });

  it('dst: repeats the 01:xx wall hour of 2017-11-05 for two different UTC instants', () => {
    for (const minutes of [60, 120]) {
      const samples = samplesOf({ scenario: 'dst', users: 2, minutes, seed: 1 }).filter((s) =>
        s.row.timestamp.startsWith('2017-11-05 01:'),
      );
      assert.deepEqual(new Set(samples.map(offsetOf)), new Set(['-04:00', '-05:00']), `${minutes} min`);
      if (minutes === 120) {
        // The same wall-clock minute, an hour apart in UTC: what a naive local→UTC conversion would merge.
        const instantsByMinute = new Map<string, Set<number>>();
        for (const s of samples) {
          const minute = s.row.timestamp.slice(0, 16);
          instantsByMinute.set(
            minute,
            (instantsByMinute.get(minute) ?? new Set()).add(Math.floor(s.utcMs / 60_000)),
          );
        }
        const repeated = [...instantsByMinute.values()].filter((set) => set.size === 2);
        assert.ok(repeated.length >= 20, `repeated wall minutes: ${repeated.length}`);
        for (const set of repeated) assert.equal(Math.abs(Math.max(...set) - Math.min(...set)), 60);
      }
    }
  });

  it('dst: skips the 02:xx wall hour of 2017-03-12, jumping from 01:5x to 03:0x', () => {
    for (const seed of [1, 2, 3]) {
      const list = samplesOf({ scenario: 'dst', users: 4, minutes: 60, seed }).filter((s) =>
        s.row.timestamp.startsWith('2017-03-12'),
      );
      assert.ok(list.length > 100);
      assert.ok(!list.some((s) => s.row.timestamp.startsWith('2017-03-12 02:')), 'no 02:xx wall time');
      assert.ok(list.some((s) => s.row.timestamp.startsWith('2017-03-12 01:')));
      assert.ok(list.some((s) => s.row.timestamp.startsWith('2017-03-12 03:')));
      for (const user of byUser(list).values()) {
        const instants = [...new Set(user.map((s) => s.utcMs))];
        const steps = instants.slice(1).map((t, i) => t - instants[i]!);
        assert.ok(Math.max(...steps) <= (25 + TRACE_LIMITS.maxGapS) * 1000, 'UTC stays continuous');
      }
    }
  });

  it('dst: crosses both transitions with odd users on the fall-back, even users on the spring-forward', () => {
    const users = byUser(samplesOf({ scenario: 'dst', users: 4, minutes: 30, seed: 8 }));
    const dates = (id: string) => new Set(users.get(id)!.map((s) => s.row.timestamp.slice(0, 10)));
    assert.deepEqual(dates('u1'), new Set(['2017-11-05']));
    assert.deepEqual(dates('u2'), new Set(['2017-03-12']));
    assert.deepEqual(new Set(users.get('u3')!.map(offsetOf)), new Set(['-04:00', '-05:00']));
    assert.deepEqual(new Set(users.get('u4')!.map(offsetOf)), new Set(['-05:00', '-04:00']));
  });

  it('rejects invalid options with a one-line RangeError', () => {
    const bad: Partial<TraceOptions>[] = [
      { users: 0 },
      { users: 1.5 },
      { minutes: -1 },
      { minutes: Number.NaN },
      { seed: -1 },
      { seed: 2 ** 32 },
      { start: 'tomorrow' },
      { start: '2017-02-30 08:00:00' },
      { start: '2017-01-01 24:00:00' },
      { start: '2017-01-01T08:00:00Z' },
      { scenario: 'moon' as TraceOptions['scenario'] },
    ];
    for (const options of bad) {
      assert.throws(
        () => resolveTraceOptions(options),
        (error: unknown) => error instanceof RangeError && !error.message.includes('\n'),
        JSON.stringify(options),
      );
      assert.throws(() => generateTrace(options).next(), RangeError);
    }
    assert.equal(resolveTraceOptions({ start: '2017-01-01T08:00' }).start, '2017-01-01T08:00');
    assert.deepEqual(resolveTraceOptions({ seed: undefined }), DEFAULT_TRACE_OPTIONS);
  });
});
