/*
 * Synthetic location traces in the challenge format: deterministic for a seed, no I/O.
 *
 * Each user is a device that moves continuously (position integrated from speed and heading) inside a disc around
 * an anchor point, takes a fix every 15–25 s, sometimes goes silent for minutes, and submits each fix 1–5 times
 * with different accuracy and position noise. Rows carry the device's local wall time in the zone of its area;
 * UTC instants are tracked alongside (`generateSamples`) so tests can check the conversion.
 */
import { Temporal } from 'temporal-polyfill';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { Point } from '../../ingest/point.js';

export const SCENARIOS = ['city', 'dst', 'zones'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface TraceOptions {
  /** PRNG seed, an integer in [0, 2^32). The same options always give the same trace. */
  seed: number;
  /** Number of users, `u1` … `uN`. */
  users: number;
  /** Length of each user's trace, in minutes. */
  minutes: number;
  /**
   * Local wall time `YYYY-MM-DD HH:MM:SS` at which each user starts, read in that user's own zone (a time in a DST
   * gap moves forward). Each user starts up to 90 s later than this. Ignored by `dst`.
   */
  start: string;
  /**
   * `city`: users around New York. `dst`: New York users whose traces are centred on the 2017-11-05 fall-back
   * (odd users) or the 2017-03-12 spring-forward (even users). `zones`: users round-robin over New York, Kathmandu,
   * the Chatham Islands, Lord Howe Island and the open Pacific.
   */
  scenario: Scenario;
}

export const DEFAULT_TRACE_OPTIONS: Readonly<TraceOptions> = Object.freeze({
  seed: 1,
  users: 3,
  minutes: 60,
  start: '2017-01-01 08:00:00',
  scenario: 'city',
});

/** One row of the challenge CSV. */
export interface TraceRow {
  /** `YYYY-MM-DD HH:MM:SS`, local wall time of the zone at (lat, long). */
  timestamp: string;
  lat: number;
  long: number;
  /** Metres. */
  accuracy: number;
  /** Metres per second. */
  speed: number;
  user_id: string;
}

/** A row with what the generator knows and the row does not say. */
export interface TraceSample {
  row: TraceRow;
  /** The UTC instant of the fix, milliseconds since the Unix epoch (whole seconds). */
  utcMs: number;
  /** IANA zone used to format `row.timestamp`. */
  zone: string;
}

/** The store point a sample means, from its true UTC instant rather than from Locus's conversion of the row. */
export function samplePoint({ row, utcMs }: TraceSample): Point {
  return {
    userId: row.user_id,
    tsMs: utcMs,
    lat: row.lat,
    long: row.long,
    accuracy: row.accuracy,
    speed: row.speed,
  };
}

/** Bounds every generated trace respects; tests and callers may rely on them. */
export const TRACE_LIMITS = Object.freeze({
  maxUsers: 100_000,
  maxMinutes: 525_600, // one year
  maxSeed: 0xffff_ffff,
  minAccuracyM: 2,
  maxAccuracyM: 600,
  maxSpeedMps: 33,
  minFixIntervalS: 15,
  maxFixIntervalS: 25,
  maxCopies: 5,
  /** A gap adds this many seconds of silence on top of the usual interval. */
  minGapS: 120,
  maxGapS: 480,
});

// 2017-11-05 02:00 EDT (-04:00) becomes 01:00 EST; 2017-03-12 02:00 EST (-05:00) becomes 03:00 EDT.
const FALL_BACK_2017_MS = Date.UTC(2017, 10, 5, 6);
const SPRING_FORWARD_2017_MS = Date.UTC(2017, 2, 12, 7);

const GAP_CHANCE_PER_FIX = 1 / 80; // about one gap every 25 minutes
const COPY_WEIGHTS: readonly number[] = [15, 30, 25, 18, 12]; // 1, 2, 3, 4, 5 submissions of a fix
const MAX_STEP_S = 25; // integration step: short enough that steering keeps a driver inside the smallest disc
const METRES_PER_DEGREE_LAT = 111_320;
const DEG = Math.PI / 180;

/**
 * Where a user may be: a disc around an anchor, all of it in one zone.
 *
 * TRICKY: every row must satisfy `find(lat, long)[0] === zone` (geo-tz), or the server's conversion to UTC disagrees
 * with ours. Reported positions lie within `radiusM` + 600 m (the largest accuracy) of the anchor. Probing geo-tz
 * on circles around each anchor found one zone out to at least: New York 40 km, Kathmandu 60 km, Chatham 35 km,
 * Lord Howe 24 km (territorial waters count as land zones), open Pacific 60 km. Keep radii well inside that.
 */
interface Area {
  zone: string;
  lat: number;
  long: number;
  radiusM: number;
  terrain: 'land' | 'sea';
  maxDriveMps: number;
}

const NEW_YORK: readonly Area[] = [
  [40.701, -73.916], // Bushwick
  [40.754, -73.984], // Midtown
  [40.764, -73.923], // Astoria
  [40.671, -73.977], // Park Slope
  [40.811, -73.946], // Harlem
  [40.755, -73.883], // Jackson Heights
].map(([lat, long]) => ({
  zone: 'America/New_York',
  lat: lat!,
  long: long!,
  radiusM: 5_000,
  terrain: 'land',
  maxDriveMps: 33,
}));

const AROUND_THE_WORLD: readonly Area[] = [
  NEW_YORK[0]!,
  // +05:45
  { zone: 'Asia/Kathmandu', lat: 27.7172, long: 85.324, radiusM: 5_000, terrain: 'land', maxDriveMps: 22 },
  // +12:45 / +13:45 (southern summer); Waitangi
  {
    zone: 'Pacific/Chatham',
    lat: -43.9535,
    long: -176.5597,
    radiusM: 6_000,
    terrain: 'land',
    maxDriveMps: 25,
  },
  // +10:30 / +11:00, a half-hour DST shift
  {
    zone: 'Australia/Lord_Howe',
    lat: -31.5553,
    long: 159.0821,
    radiusM: 3_000,
    terrain: 'land',
    maxDriveMps: 14,
  },
  // North Pacific, ~2000 km from land: the nautical zone UTC-9 (POSIX sign: Etc/GMT+9)
  { zone: 'Etc/GMT+9', lat: 30, long: -135, radiusM: 25_000, terrain: 'sea', maxDriveMps: 12 },
];

/** Checks options and fills in defaults; throws a RangeError with a one-line message. */
export function resolveTraceOptions(options: Partial<TraceOptions> = {}): TraceOptions {
  const resolved: TraceOptions = {
    seed: options.seed ?? DEFAULT_TRACE_OPTIONS.seed,
    users: options.users ?? DEFAULT_TRACE_OPTIONS.users,
    minutes: options.minutes ?? DEFAULT_TRACE_OPTIONS.minutes,
    start: options.start ?? DEFAULT_TRACE_OPTIONS.start,
    scenario: options.scenario ?? DEFAULT_TRACE_OPTIONS.scenario,
  };
  const { seed, users, minutes, start, scenario } = resolved;
  if (!Number.isInteger(seed) || seed < 0 || seed > TRACE_LIMITS.maxSeed) {
    throw new RangeError(`seed must be an integer from 0 to ${TRACE_LIMITS.maxSeed}, got ${String(seed)}`);
  }
  if (!Number.isInteger(users) || users < 1 || users > TRACE_LIMITS.maxUsers) {
    throw new RangeError(`users must be an integer from 1 to ${TRACE_LIMITS.maxUsers}, got ${String(users)}`);
  }
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > TRACE_LIMITS.maxMinutes) {
    throw new RangeError(
      `minutes must be an integer from 1 to ${TRACE_LIMITS.maxMinutes}, got ${String(minutes)}`,
    );
  }
  if (!SCENARIOS.includes(scenario)) {
    throw new RangeError(`scenario must be one of ${SCENARIOS.join(', ')}, got ${String(scenario)}`);
  }
  parseStart(start);
  return resolved;
}

const START_PATTERN = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/;

function parseStart(start: string): Temporal.PlainDateTime {
  const message = `start must be a local time YYYY-MM-DD HH:MM:SS, got ${JSON.stringify(start)}`;
  if (typeof start !== 'string' || !START_PATTERN.test(start)) throw new RangeError(message);
  try {
    return Temporal.PlainDateTime.from(start.replace(' ', 'T'));
  } catch {
    throw new RangeError(message); // e.g. 2017-02-30
  }
}

/** Rows of all users, merged in UTC order (ties keep user order), each with its UTC instant and zone. */
export function* generateSamples(options: Partial<TraceOptions> = {}): Generator<TraceSample> {
  const resolved = resolveTraceOptions(options);
  const heap = new FixHeap();
  for (const plan of planUsers(resolved)) {
    const fixes = userFixes(plan);
    const first = fixes.next();
    if (!first.done) heap.push({ fix: first.value, index: plan.index, fixes });
  }
  for (let head = heap.peek(); head; head = heap.peek()) {
    for (const row of head.fix.rows) yield { row, utcMs: head.fix.utcMs, zone: head.fix.zone };
    const next = head.fixes.next();
    if (next.done) heap.pop();
    else heap.replaceTop({ fix: next.value, index: head.index, fixes: head.fixes });
  }
}

/** The challenge rows of a synthetic trace: several users, merged in timestamp (UTC) order. */
export function* generateTrace(options: Partial<TraceOptions> = {}): Generator<TraceRow> {
  for (const sample of generateSamples(options)) yield sample.row;
}

interface UserPlan {
  index: number;
  userId: string;
  area: Area;
  startMs: number;
  endMs: number;
  random: Random;
}

function planUsers(options: TraceOptions): UserPlan[] {
  const startLocal = parseStart(options.start);
  const durationMs = options.minutes * 60_000;
  // Each user draws from its own stream, 2^64 steps apart, so u1's trace does not depend on how many users there are.
  let stream = xoroshiro128plus(options.seed);
  const plans: UserPlan[] = [];
  for (let index = 0; index < options.users; index++) {
    stream = stream.clone();
    stream.jump();
    const random = new Random(stream.clone());
    let area: Area;
    let startMs: number;
    if (options.scenario === 'dst') {
      area = NEW_YORK[index % NEW_YORK.length]!;
      const transitionMs = index % 2 === 0 ? FALL_BACK_2017_MS : SPRING_FORWARD_2017_MS;
      const jitterS = Math.min(60, Math.floor(options.minutes * 15)); // keeps the transition in the middle half
      startMs = transitionMs - durationMs / 2 + random.int(-jitterS, jitterS) * 1000;
    } else {
      const areas = options.scenario === 'zones' ? AROUND_THE_WORLD : NEW_YORK;
      area = areas[index % areas.length]!;
      const startInZone = startLocal.toZonedDateTime(area.zone, { disambiguation: 'compatible' });
      startMs = startInZone.epochMilliseconds + random.int(0, 90) * 1000;
    }
    plans.push({ index, userId: `u${index + 1}`, area, startMs, endMs: startMs + durationMs, random });
  }
  return plans;
}

interface Fix {
  utcMs: number;
  zone: string;
  rows: TraceRow[];
}

function* userFixes(plan: UserPlan): Generator<Fix> {
  const { area, random, userId } = plan;
  const mover = new Mover(area, random);
  for (let utcMs = plan.startMs; utcMs < plan.endMs;) {
    const timestamp = formatWallTime(utcMs, area.zone);
    const copies = random.weighted(COPY_WEIGHTS) + 1;
    const rows: TraceRow[] = [];
    for (let copy = 0; copy < copies; copy++) {
      const accuracy = sampleAccuracy(random);
      // The reported position is off by at most the accuracy radius, usually by much less.
      const errorM = accuracy * Math.min(1, Math.abs(random.normal()) * 0.5);
      const bearing = random.float(0, 2 * Math.PI);
      const north = mover.north + errorM * Math.cos(bearing);
      const east = mover.east + errorM * Math.sin(bearing);
      const speed = clamp(mover.speed + random.normal() * 0.05, 0, TRACE_LIMITS.maxSpeedMps);
      rows.push({
        timestamp,
        lat: round(area.lat + north / METRES_PER_DEGREE_LAT, 6),
        long: round(wrapLongitude(area.long + east / (METRES_PER_DEGREE_LAT * Math.cos(area.lat * DEG))), 6),
        accuracy,
        speed: round(speed, 2),
        user_id: userId,
      });
    }
    yield { utcMs, zone: area.zone, rows };
    let waitS = random.int(TRACE_LIMITS.minFixIntervalS, TRACE_LIMITS.maxFixIntervalS);
    if (random.chance(GAP_CHANCE_PER_FIX)) waitS += random.int(TRACE_LIMITS.minGapS, TRACE_LIMITS.maxGapS);
    mover.advance(waitS); // the device keeps moving while it is silent
    utcMs += waitS * 1000;
  }
}

/** Mostly a few metres, sometimes tens, rarely hundreds (cell-tower fixes). One decimal. */
function sampleAccuracy(random: Random): number {
  const u = random.float();
  let metres: number;
  if (u < 0.8) metres = Math.min(40, TRACE_LIMITS.minAccuracyM - 6 * Math.log(1 - random.float()));
  else if (u < 0.96) metres = random.float(40, 150);
  else metres = random.float(150, TRACE_LIMITS.maxAccuracyM);
  return clamp(round(metres, 1), TRACE_LIMITS.minAccuracyM, TRACE_LIMITS.maxAccuracyM);
}

function formatWallTime(utcMs: number, zone: string): string {
  const t = Temporal.Instant.fromEpochMilliseconds(utcMs).toZonedDateTimeISO(zone);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(t.year).padStart(4, '0')}-${p2(t.month)}-${p2(t.day)} ${p2(t.hour)}:${p2(t.minute)}:${p2(t.second)}`;
}

type Mode = 'still' | 'walk' | 'drive' | 'cruise' | 'drift';

/** How long a mode lasts and what may follow it (weights). */
const MODES: Readonly<Record<Mode, { durationS: [number, number]; next: [Mode, number][] }>> = {
  still: {
    durationS: [60, 360],
    next: [
      ['walk', 3],
      ['drive', 1],
    ],
  },
  walk: {
    durationS: [180, 900],
    next: [
      ['still', 2],
      ['drive', 3],
    ],
  },
  drive: {
    durationS: [240, 1200],
    next: [
      ['walk', 3],
      ['still', 1],
    ],
  },
  cruise: { durationS: [900, 3600], next: [['drift', 1]] },
  drift: { durationS: [300, 1200], next: [['cruise', 1]] },
};

/** The true track of one device, in metres east and north of its area's anchor. */
class Mover {
  north: number;
  east: number;
  speed = 0;
  #heading: number; // radians clockwise from north
  #mode: Mode;
  #modeLeftS = 0;
  #targetSpeed = 0;
  readonly #area: Area;
  readonly #random: Random;

  constructor(area: Area, random: Random) {
    this.#area = area;
    this.#random = random;
    const r = area.radiusM * 0.5 * Math.sqrt(random.float());
    const angle = random.float(0, 2 * Math.PI);
    this.north = r * Math.cos(angle);
    this.east = r * Math.sin(angle);
    this.#heading = random.float(0, 2 * Math.PI);
    const first: [Mode, number][] =
      area.terrain === 'sea'
        ? [
            ['cruise', 3],
            ['drift', 1],
          ]
        : [
            ['walk', 2],
            ['drive', 2],
            ['still', 1],
          ];
    this.#mode = this.#enter(first);
    this.#updateSpeed(0);
  }

  advance(seconds: number): void {
    for (let left = seconds; left > 0; left -= MAX_STEP_S) this.#step(Math.min(left, MAX_STEP_S));
  }

  #step(dt: number): void {
    this.#modeLeftS -= dt;
    if (this.#modeLeftS <= 0) this.#mode = this.#enter(MODES[this.#mode].next);
    this.#updateSpeed(dt);
    const distance = this.speed * dt;
    let north = this.north + distance * Math.cos(this.#heading);
    let east = this.east + distance * Math.sin(this.#heading);
    if (Math.hypot(north, east) > this.#area.radiusM) {
      // Turn back towards the anchor, give or take 30°. Since one step (≤ 33 m/s × 25 s) is far shorter than the
      // radius, such a step never ends farther out than it began, so the track never leaves the disc.
      const homeward = Math.atan2(-this.east, -this.north);
      this.#heading = homeward + this.#random.float(-Math.PI / 6, Math.PI / 6);
      north = this.north + distance * Math.cos(this.#heading);
      east = this.east + distance * Math.sin(this.#heading);
    }
    this.north = north;
    this.east = east;
  }

  #enter(choices: [Mode, number][]): Mode {
    const mode = choices[this.#random.weighted(choices.map(([, weight]) => weight))]![0];
    const [min, max] = MODES[mode].durationS;
    this.#modeLeftS = this.#random.int(min, max);
    if (mode === 'drive') this.#targetSpeed = this.#random.float(8, this.#area.maxDriveMps);
    if (mode === 'cruise') this.#targetSpeed = this.#random.float(6, this.#area.maxDriveMps);
    return mode;
  }

  #updateSpeed(dt: number): void {
    const random = this.#random;
    const max = Math.min(this.#area.maxDriveMps, TRACE_LIMITS.maxSpeedMps);
    switch (this.#mode) {
      case 'still':
        this.speed = Math.min(0.4, Math.abs(random.normal()) * 0.15);
        this.#heading += random.normal() * 40 * DEG;
        break;
      case 'walk':
        this.speed = clamp(1.4 + random.normal() * 0.2, 0.6, 2.2);
        this.#heading += random.normal() * 20 * DEG;
        break;
      case 'drive':
        // Traffic: now and then a new cruising speed, or a stop at a light; street grids turn by right angles.
        if (random.chance(0.12)) this.#targetSpeed = random.chance(0.25) ? 0 : random.float(5, max);
        this.#approach(dt, 15);
        if (random.chance(0.1)) this.#heading += (random.chance(0.5) ? 1 : -1) * 90 * DEG;
        else this.#heading += random.normal() * 3 * DEG;
        break;
      case 'cruise':
        if (random.chance(0.05)) this.#targetSpeed = random.float(6, max);
        this.#approach(dt, 60);
        this.#heading += random.normal() * 2 * DEG;
        break;
      case 'drift':
        this.speed = random.float(0, 1.5);
        this.#heading += random.normal() * 10 * DEG;
        break;
    }
    this.speed = clamp(this.speed, 0, max);
  }

  /** Moves the speed towards the target, most of the way within `timeConstantS`. */
  #approach(dt: number, timeConstantS: number): void {
    const step = dt === 0 ? 1 : Math.min(1, dt / timeConstantS);
    this.speed += (this.#targetSpeed - this.speed) * step + this.#random.normal() * 0.3;
  }
}

/** Draws from one seeded stream; all randomness of a user goes through here. */
class Random {
  readonly #rng: RandomGenerator;

  constructor(rng: RandomGenerator) {
    this.#rng = rng;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.#rng, min, max);
  }

  /** Float in [min, max). */
  float(min = 0, max = 1): number {
    return min + (max - min) * uniformFloat64(this.#rng);
  }

  chance(probability: number): boolean {
    return uniformFloat64(this.#rng) < probability;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - uniformFloat64(this.#rng); // (0, 1]: log(0) would be -Infinity
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniformFloat64(this.#rng));
  }

  /** Index drawn with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((sum, w) => sum + w, 0);
    let x = this.float(0, total);
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}

interface Head {
  fix: Fix;
  index: number;
  fixes: Generator<Fix>;
}

/** Min-heap of each user's next fix, by (UTC instant, user index): a stable k-way merge. */
class FixHeap {
  readonly #items: Head[] = [];

  peek(): Head | undefined {
    return this.#items[0];
  }

  push(head: Head): void {
    const items = this.#items;
    items.push(head);
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): void {
    const last = this.#items.pop();
    if (last && this.#items.length > 0) this.replaceTop(last);
  }

  replaceTop(head: Head): void {
    const items = this.#items;
    items[0] = head;
    for (let i = 0; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && before(items[left]!, items[least]!)) least = left;
      if (right < items.length && before(items[right]!, items[least]!)) least = right;
      if (least === i) break;
      [items[i], items[least]] = [items[least]!, items[i]!];
      i = least;
    }
  }
}

function before(a: Head, b: Head): boolean {
  return a.fix.utcMs < b.fix.utcMs || (a.fix.utcMs === b.fix.utcMs && a.index < b.index);
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

// `+ 0` turns -0 into 0, so a CSV never says "-0".
function round(x: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale + 0;
}

function wrapLongitude(long: number): number {
  return long >= 180 || long < -180 ? ((((long + 180) % 360) + 360) % 360) - 180 : long;
}
