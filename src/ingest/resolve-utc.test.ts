import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OffsetCache, resolveUtc, zoneAt } from './resolve-utc.js';
import { parseTimestamp } from './timestamp.js';

function utc(timestamp: string, lat: number, long: number, cache = new OffsetCache()): string {
  const parsed = parseTimestamp(timestamp);
  assert.ok(parsed.ok);
  return new Date(resolveUtc(parsed.value, lat, long, zoneAt, cache)).toISOString();
}

const NEW_YORK = [40.701, -73.916] as const;
const KATHMANDU = [27.7172, 85.324] as const;
const CHATHAM = [-43.95, -176.55] as const;
const LORD_HOWE = [-31.55, 159.08] as const;
const PACIFIC = [0, -150] as const;

describe('zoneAt', () => {
  it('finds the IANA zone on land', () => {
    assert.equal(zoneAt(...NEW_YORK), 'America/New_York');
    assert.equal(zoneAt(...KATHMANDU), 'Asia/Kathmandu');
    assert.equal(zoneAt(...CHATHAM), 'Pacific/Chatham');
    assert.equal(zoneAt(...LORD_HOWE), 'Australia/Lord_Howe');
  });
  it('finds the nautical zone at sea', () => assert.equal(zoneAt(...PACIFIC), 'Etc/GMT+10'));
  it('gives the North Pole UTC, at every longitude, where all the nautical zones meet', () => {
    for (const long of [-180, -170, -90, 0, 0.5, 90, 170, 180])
      assert.equal(zoneAt(90, long), 'Etc/UTC', `${long}`);
    // A step away, the nautical zone of the longitude, as everywhere at sea.
    assert.equal(zoneAt(89.9, 0), 'Etc/GMT');
    assert.equal(zoneAt(89.9, 170), 'Etc/GMT-11');
  });
  it('gives the South Pole the zone of its neighbourhood (the station keeps New Zealand time)', () => {
    for (const long of [-180, -90, 0, 90, 180]) {
      assert.equal(zoneAt(-90, long), 'Pacific/Auckland', `${long}`);
      assert.equal(zoneAt(-90, long), zoneAt(-89.9, long), `${long}`);
    }
  });
});

describe('resolveUtc', () => {
  it('New York in winter is UTC-5', () =>
    assert.equal(utc('2017-01-01 13:05:12', ...NEW_YORK), '2017-01-01T18:05:12.000Z'));
  it('New York in summer is UTC-4', () =>
    assert.equal(utc('2017-07-01 13:05:12', ...NEW_YORK), '2017-07-01T17:05:12.000Z'));
  it('Kathmandu is UTC+05:45', () =>
    assert.equal(utc('2017-01-01 13:05:12', ...KATHMANDU), '2017-01-01T07:20:12.000Z'));
  it('Chatham Islands are UTC+13:45 in (southern) summer and +12:45 in winter', () => {
    assert.equal(utc('2017-01-01 13:05:12', ...CHATHAM), '2016-12-31T23:20:12.000Z');
    assert.equal(utc('2017-07-01 13:05:12', ...CHATHAM), '2017-07-01T00:20:12.000Z');
  });
  it('Lord Howe Island is UTC+11 in summer and +10:30 in winter (a half-hour DST shift)', () => {
    assert.equal(utc('2017-01-01 13:05:12', ...LORD_HOWE), '2017-01-01T02:05:12.000Z');
    assert.equal(utc('2017-07-01 13:05:12', ...LORD_HOWE), '2017-07-01T02:35:12.000Z');
  });
  it('a wall time at the North Pole is UTC, not UTC+12', () => {
    assert.equal(utc('2017-01-01 13:05:12', 90, 0), '2017-01-01T13:05:12.000Z');
    assert.equal(utc('2017-01-01 13:05:12', 90, 170), '2017-01-01T13:05:12.000Z');
    assert.equal(utc('2017-01-01 13:05:12', 89.9, 0), '2017-01-01T13:05:12.000Z');
  });
  it('the open ocean uses the nautical zone', () =>
    assert.equal(utc('2017-01-01 13:05:12', ...PACIFIC), '2017-01-01T23:05:12.000Z'));
  it('an explicit offset wins over the position', () => {
    assert.equal(utc('2017-01-01T13:05:12+02:00', ...NEW_YORK), '2017-01-01T11:05:12.000Z');
    assert.equal(utc('2017-01-01T13:05:12-0500', ...KATHMANDU), '2017-01-01T18:05:12.000Z');
    assert.equal(utc('2017-01-01T13:05:12Z', ...CHATHAM), '2017-01-01T13:05:12.000Z');
  });
  it('a repeated wall time (New York fall-back) takes the earlier instant', () => {
    assert.equal(utc('2017-11-05 01:30:00', ...NEW_YORK), '2017-11-05T05:30:00.000Z');
    assert.equal(utc('2017-11-05 00:59:59', ...NEW_YORK), '2017-11-05T04:59:59.000Z');
    assert.equal(utc('2017-11-05 02:00:00', ...NEW_YORK), '2017-11-05T07:00:00.000Z');
  });
  it('a skipped wall time (New York spring-forward gap) moves forward by the gap', () => {
    assert.equal(utc('2017-03-12 02:30:00', ...NEW_YORK), '2017-03-12T07:30:00.000Z');
    assert.equal(utc('2017-03-12 01:59:59', ...NEW_YORK), '2017-03-12T06:59:59.000Z');
    assert.equal(utc('2017-03-12 03:00:00', ...NEW_YORK), '2017-03-12T07:00:00.000Z');
  });
  it('keeps milliseconds', () =>
    assert.equal(utc('2017-01-01 13:05:12.345678', ...NEW_YORK), '2017-01-01T18:05:12.345Z'));
});

describe('OffsetCache', () => {
  it('gives the same answers warm as cold, across transitions', () => {
    const warm = new OffsetCache();
    const times = [
      '2017-11-05 01:30:00',
      '2017-11-05 01:30:30',
      '2017-03-12 02:30:10',
      '2017-03-12 02:30:50',
    ];
    for (const time of times) {
      const cold = utc(time, ...NEW_YORK);
      assert.equal(utc(time, ...NEW_YORK, warm), cold);
      assert.equal(utc(time, ...NEW_YORK, warm), cold, 'second, cached lookup');
    }
  });
  it('computes exactly inside a minute that holds a transition with a seconds offset', () => {
    // Africa/Monrovia moved from UTC-0:44:30 to UTC on 1972-01-07: the wall clock jumped 00:00 -> 00:44:30, so
    // the wall minute 00:44 is half gap (moved forward by 44:30) and half real time.
    const cache = new OffsetCache();
    const lookup = () => 'Africa/Monrovia';
    const resolve = (text: string) => {
      const parsed = parseTimestamp(text);
      assert.ok(parsed.ok);
      return new Date(resolveUtc(parsed.value, 6.3, -10.8, lookup, cache)).toISOString();
    };
    assert.equal(resolve('1972-01-07 00:44:40'), '1972-01-07T00:44:40.000Z');
    assert.equal(resolve('1972-01-07 00:44:10'), '1972-01-07T01:28:40.000Z');
    assert.equal(resolve('1972-01-07 00:44:40'), '1972-01-07T00:44:40.000Z');
  });
  it('stays within its bound', () => {
    const cache = new OffsetCache(3);
    for (let minute = 0; minute < 10; minute++) cache.offsetMs('America/New_York', minute * 60_000);
    assert.equal(cache.offsetMs('America/New_York', 0), -5 * 3_600_000);
  });
  it('never holds more than its bound, across zones', () => {
    const cache = new OffsetCache(5);
    for (let minute = 0; minute < 20; minute++) {
      for (const zone of ['America/New_York', 'Asia/Kathmandu']) {
        cache.offsetMs(zone, minute * 60_000);
        assert.ok(cache.size <= 5, `size ${cache.size} after minute ${minute} in ${zone}`);
      }
    }
    assert.ok(cache.size > 0);
  });
  it('keeps zones apart when they alternate within one minute', () => {
    const cache = new OffsetCache();
    const wallMs = Date.UTC(2017, 0, 1, 13, 5, 12);
    for (let round = 0; round < 3; round++) {
      assert.equal(cache.offsetMs('America/New_York', wallMs), -5 * 3_600_000);
      assert.equal(cache.offsetMs('Asia/Kathmandu', wallMs + 1000), (5 * 60 + 45) * 60_000);
      assert.equal(cache.offsetMs('Asia/Kathmandu', wallMs + 2000), (5 * 60 + 45) * 60_000);
    }
    assert.equal(cache.size, 2);
  });
  it('gives the same answers warm as cold for interleaved zones and minutes, a small bound included', () => {
    const zones = ['America/New_York', 'Australia/Lord_Howe', 'Africa/Monrovia', 'Pacific/Chatham'];
    const walls = [
      Date.UTC(2017, 10, 5, 1, 30, 0),
      Date.UTC(2017, 10, 5, 1, 30, 59, 999),
      Date.UTC(2017, 2, 12, 2, 30, 10),
      Date.UTC(2017, 3, 2, 1, 45),
      Date.UTC(1972, 0, 7, 0, 44, 10),
      Date.UTC(1972, 0, 7, 0, 44, 40),
      Date.UTC(2017, 0, 1, 13, 5, 12),
    ];
    const warm = new OffsetCache(3);
    for (let i = 0; i < 200; i++) {
      // A fixed walk that revisits each (zone, wall time) pair in changing neighbourhoods.
      const zone = zones[(i * 7) % zones.length] ?? 'UTC';
      const wallMs = walls[(i * 5 + (i >> 3)) % walls.length] ?? 0;
      assert.equal(
        warm.offsetMs(zone, wallMs),
        new OffsetCache().offsetMs(zone, wallMs),
        `${zone} ${wallMs}`,
      );
      assert.ok(warm.size <= 3);
    }
  });
});
