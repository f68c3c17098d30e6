import { find } from 'geo-tz';
import { Temporal } from 'temporal-polyfill';
import { wallClockMs, type LocalTimestamp } from './timestamp.js';

/** The IANA zone at a position, from the time-zone boundary data; at sea, the nautical `Etc/GMT±N` zone. */
export type ZoneLookup = (lat: number, long: number) => string;

/**
 * The zone of the North Pole. Every nautical zone meets there, so the boundary data gives all 25 (`Etc/GMT-12`
 * first, which would make the pole UTC+12 while a step away at longitude 0 is UTC); no longitude is the pole's, so
 * it gets UTC. The South Pole is not a special case: the data gives one zone for the pole and all around it (the
 * Amundsen–Scott station keeps New Zealand time, `Pacific/Auckland`), so the pole agrees with its neighbourhood.
 */
export const NORTH_POLE_ZONE = 'Etc/UTC';

export const zoneAt: ZoneLookup = (lat, long) => {
  if (lat === 90) return NORTH_POLE_ZONE;
  const zone = find(lat, long)[0];
  // geo-tz covers the whole globe (oceans included), so a miss means its data is broken, not that the input is.
  if (!zone) throw new Error(`geo-tz found no time zone at ${lat},${long}`);
  return zone;
};

const MINUTE_MS = 60_000;

/**
 * The instant of a wall time in a zone under Temporal's "compatible" rule: a repeated wall time (DST fall-back)
 * takes the earlier instant, a skipped one (spring-forward gap) moves forward by the length of the gap.
 */
function instantInZone(wallMs: number, zone: string): number {
  const wall = new Date(wallMs);
  return Temporal.PlainDateTime.from({
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    millisecond: wall.getUTCMilliseconds(),
  }).toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
}

/**
 * Zone offsets, memoised per (zone, wall minute): Temporal takes microseconds per conversion, a Map lookup takes
 * nanoseconds, and a device sends many points per minute. An entry is kept only when the offset is the same at both
 * ends of the wall minute; a minute with a transition inside it (historic offsets with seconds) is always computed.
 * At most maxEntries (zone, minute) entries are kept.
 */
export class OffsetCache {
  // One Map per zone keyed by the minute number: no key string to build per lookup.
  readonly #zones = new Map<string, Map<number, number>>();
  #entries = 0;
  // The entry found or stored last: points arrive in time order, so the next one is nearly always in that minute.
  #lastZone: string | undefined = undefined;
  #lastMinute = NaN;
  #lastOffset = 0;

  constructor(readonly maxEntries = 100_000) {}

  /** How many (zone, minute) entries are kept now. */
  get size(): number {
    return this.#entries;
  }

  offsetMs(zone: string, wallMs: number): number {
    const minute = Math.floor(wallMs / MINUTE_MS);
    if (minute === this.#lastMinute && zone === this.#lastZone) return this.#lastOffset;
    const cached = this.#zones.get(zone)?.get(minute);
    if (cached !== undefined) return this.#remember(zone, minute, cached);
    const minuteStart = minute * MINUTE_MS;
    const atStart = minuteStart - instantInZone(minuteStart, zone);
    const atEnd = minuteStart + MINUTE_MS - 1 - instantInZone(minuteStart + MINUTE_MS - 1, zone);
    if (atStart !== atEnd) return wallMs - instantInZone(wallMs, zone);
    this.#store(zone, minute, atStart);
    return this.#remember(zone, minute, atStart);
  }

  #store(zone: string, minute: number, offset: number): void {
    // Dropping everything when full keeps the bound without LRU bookkeeping; the working set refills in a moment.
    if (this.#entries >= this.maxEntries) {
      this.#zones.clear();
      this.#entries = 0;
    }
    let offsets = this.#zones.get(zone);
    if (offsets === undefined) {
      offsets = new Map();
      this.#zones.set(zone, offsets);
    }
    offsets.set(minute, offset);
    this.#entries++;
  }

  #remember(zone: string, minute: number, offset: number): number {
    this.#lastZone = zone;
    this.#lastMinute = minute;
    this.#lastOffset = offset;
    return offset;
  }
}

const sharedCache = new OffsetCache();

/**
 * The UTC instant (ms) of a device timestamp: its own offset when it has one, otherwise the zone at the position.
 */
export function resolveUtc(
  t: LocalTimestamp,
  lat: number,
  long: number,
  lookup: ZoneLookup = zoneAt,
  cache: OffsetCache = sharedCache,
): number {
  const wallMs = wallClockMs(t);
  if (t.offsetMinutes !== null) return wallMs - t.offsetMinutes * MINUTE_MS;
  return wallMs - cache.offsetMs(lookup(lat, long), wallMs);
}
