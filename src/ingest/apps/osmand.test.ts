import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { osmandToPoint } from './osmand.js';

const TS_MS = Date.UTC(2017, 0, 1, 18, 5, 12);

function point(query: string) {
  return osmandToPoint(new URLSearchParams(query));
}

function errorsOf(query: string) {
  const result = point(query);
  assert.ok(!result.ok, `expected errors for ${query}`);
  return result.errors;
}

describe('osmandToPoint', () => {
  it('reads OsmAnd’s URL: time {2} in milliseconds, {3} accuracy in metres (as hdop), {5} speed in m/s', () => {
    // id=a1&lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}, filled by OsmAnd (Java floats).
    const result = point(
      'id=a1&lat=40.701&lon=-73.916&timestamp=1483293912000&hdop=11.3&altitude=12.0&speed=1.4&bearing=0.0',
    );
    assert.deepEqual(result, {
      ok: true,
      value: { userId: 'a1', tsMs: TS_MS, lat: 40.701, long: -73.916, accuracy: 11.3, speed: 1.4 },
    });
  });

  it('reads GPSLogger’s URL: %TIMESTAMP in seconds, %ACC in metres, %SPD in m/s', () => {
    const result = point('id=a1&lat=40.701&lon=-73.916&timestamp=1483293912&accuracy=11.3&speed=1.4');
    assert.ok(result.ok);
    assert.equal(result.value.tsMs, TS_MS);
  });

  it('reads GPSLogger’s %ALL names (acc, spd) and ignores the fields it does not use', () => {
    const all =
      'lat=40.701&lon=-73.916&sat=7&desc=&alt=12.0&acc=11.3&dir=170.8&prov=gps&spd_kph=5.04&spd=1.4' +
      '&timestamp=1483293912&time=2017-01-01T18:05:12.000Z&batt=80.0&ischarging=false&aid=abc&ser=123&hdop=0.9';
    const result = point(`id=a1&${all}`);
    assert.deepEqual(result, {
      ok: true,
      value: { userId: 'a1', tsMs: TS_MS, lat: 40.701, long: -73.916, accuracy: 11.3, speed: 1.4 },
    });
  });

  it('reads an ISO 8601 timestamp with its offset, or without one in the zone at the position', () => {
    for (const timestamp of ['2017-01-01T18:05:12Z', '2017-01-01T13:05:12-05:00', '2017-01-01T13:05:12']) {
      const result = point(`id=a1&lat=40.701&lon=-73.916&timestamp=${encodeURIComponent(timestamp)}`);
      assert.ok(result.ok, timestamp);
      assert.equal(result.value.tsMs, TS_MS, timestamp);
    }
  });

  it('reads a + offset that arrived unescaped (as a space)', () => {
    const result = point('id=a1&lat=40.701&lon=-73.916&timestamp=2017-01-01T20:05:12+02:00');
    assert.ok(result.ok);
    assert.equal(result.value.tsMs, TS_MS);
  });

  it('tells seconds from milliseconds by size: 10,000,000,000 and up is milliseconds', () => {
    const seconds = point('id=a1&lat=0&lon=0&timestamp=9999999999');
    const millis = point('id=a1&lat=0&lon=0&timestamp=10000000000');
    assert.ok(seconds.ok && millis.ok);
    assert.equal(seconds.value.tsMs, 9_999_999_999_000);
    assert.equal(millis.value.tsMs, 10_000_000_000);
  });

  it('takes the alternative names deviceid and long', () => {
    const result = point('deviceid=a1&lat=40.701&long=-73.916&timestamp=1483293912');
    assert.ok(result.ok);
    assert.equal(result.value.userId, 'a1');
    assert.equal(result.value.long, -73.916);
  });

  it('stores missing or empty speed and accuracy as null', () => {
    const result = point('id=a1&lat=40.701&lon=-73.916&timestamp=1483293912&speed=&acc=&hdop=');
    assert.ok(result.ok);
    assert.equal(result.value.speed, null);
    assert.equal(result.value.accuracy, null);
  });

  it('prefers accuracy over acc over hdop, and speed over spd', () => {
    const result = point('id=a1&lat=0&lon=0&timestamp=1483293912&hdop=3&acc=2&accuracy=1&spd=9&speed=8');
    assert.ok(result.ok);
    assert.equal(result.value.accuracy, 1);
    assert.equal(result.value.speed, 8);
  });

  it('reads Java’s exponent notation for small numbers', () => {
    const result = point('id=a1&lat=1.0E-4&lon=-5.0E-5&timestamp=1483293912&speed=0.0');
    assert.ok(result.ok);
    assert.equal(result.value.lat, 0.0001);
    assert.equal(result.value.long, -0.00005);
    assert.equal(result.value.speed, 0);
  });

  it('requires id, lat, lon and timestamp', () => {
    assert.deepEqual(errorsOf('speed=1'), [
      { field: 'id', message: 'is required' },
      { field: 'lat', message: 'is required' },
      { field: 'lon', message: 'is required' },
      { field: 'timestamp', message: 'is required' },
    ]);
  });

  it('reports every parameter at fault, under the name it was sent as', () => {
    assert.deepEqual(errorsOf('id=a%01&lat=abc&long=200&timestamp=2017-02-30T00:00:00Z&acc=-1&spd=0x10'), [
      { field: 'id', message: 'must not contain control characters (found U+0001)' },
      { field: 'lat', message: 'must be a number, got "abc"' },
      { field: 'long', message: 'must be ≤ 180, got 200' },
      { field: 'timestamp', message: 'is not a real time: day of 2017-02 30 is out of range 1–28' },
      { field: 'acc', message: 'must be ≥ 0, got -1' },
      { field: 'spd', message: 'must be a number, got "0x10"' },
    ]);
  });

  it('refuses numbers JavaScript would read but no app writes', () => {
    for (const lat of ['Infinity', 'NaN', ' 1', '1,5', '']) {
      const errors = errorsOf(`id=a1&lat=${encodeURIComponent(lat)}&lon=0&timestamp=1483293912`);
      assert.equal(errors[0]?.field, 'lat', lat);
    }
  });

  it('refuses a parameter given twice with different values', () => {
    assert.deepEqual(errorsOf('id=a1&lat=1&lat=2&lon=0&timestamp=1483293912'), [
      { field: 'lat', message: 'is given more than once' },
    ]);
    assert.ok(point('id=a1&lat=1&lat=1&lon=0&timestamp=1483293912').ok, 'the same value twice is one value');
  });

  it('refuses an epoch beyond the years 1900–9999', () => {
    assert.deepEqual(errorsOf('id=a1&lat=0&lon=0&timestamp=999999999999999'), [
      { field: 'timestamp', message: 'is not between the years 1900 and 9999' },
    ]);
  });

  it('names the retention error after the timestamp parameter', () => {
    const result = osmandToPoint(new URLSearchParams('id=a1&lat=0&lon=0&timestamp=1483293912'), {
      oldestAcceptedMs: TS_MS + 1,
    });
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'timestamp');
  });
});
