import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  identityFromMqttTopic,
  identityFromTopic,
  ownTracksToPoint,
  type OwnTracksIdentity,
} from './owntracks.js';

// As the Android app sends it in HTTP mode (https://owntracks.org/booklet/tech/json/).
const ANDROID = {
  _type: 'location',
  acc: 11,
  alt: 12,
  batt: 86,
  bs: 1,
  conn: 'w',
  created_at: 1483290315,
  lat: 40.701,
  lon: -73.916,
  m: 1,
  t: 'u',
  tid: 'a1',
  topic: 'owntracks/alice/pixel',
  tst: 1483290312,
  vac: 3,
  vel: 5,
};

// As the iOS app sends it: no `acc` when it has none, `vel: -1` when the speed is unknown.
const IOS = {
  _type: 'location',
  lat: 40.701,
  lon: -73.916,
  tst: 1483290312,
  vel: -1,
  tid: 'a1',
  batt: 40,
};

const HTTP: OwnTracksIdentity = {
  user: 'alice',
  device: 'pixel',
  userField: 'X-Limit-U',
  deviceField: 'X-Limit-D',
};

const TST_MS = Date.UTC(2017, 0, 1, 17, 5, 12);

describe('ownTracksToPoint', () => {
  it('reads every field of an Android location: tst as UTC, acc in metres, vel from km/h to m/s', () => {
    assert.deepEqual(ownTracksToPoint(ANDROID, HTTP, 'user'), {
      ok: true,
      value: { userId: 'alice', tsMs: TST_MS, lat: 40.701, long: -73.916, accuracy: 11, speed: 5 / 3.6 },
    });
  });

  it('takes tst as UTC without any zone lookup', () => {
    const result = ownTracksToPoint(ANDROID, HTTP, 'user', {
      zoneLookup: () => assert.fail('no zone lookup for an epoch time'),
    });
    assert.ok(result.ok);
  });

  it('stores a missing acc and an unknown vel (-1 on iOS) as null', () => {
    const result = ownTracksToPoint(IOS, HTTP, 'user');
    assert.ok(result.ok && result.value);
    assert.equal(result.value.accuracy, null);
    assert.equal(result.value.speed, null);
  });

  it('stores a missing vel as null', () => {
    const withoutVel: Record<string, unknown> = { ...ANDROID };
    delete withoutVel.vel;
    const result = ownTracksToPoint(withoutVel, HTTP, 'user');
    assert.ok(result.ok && result.value);
    assert.equal(result.value.speed, null);
  });

  it('keeps a fractional tst to the millisecond', () => {
    const result = ownTracksToPoint({ ...ANDROID, tst: 1483290312.2509 }, HTTP, 'user');
    assert.ok(result.ok && result.value);
    assert.equal(result.value.tsMs, TST_MS + 250);
  });

  it('names the user alone by default, user/device when configured', () => {
    const device = ownTracksToPoint(ANDROID, HTTP, 'user/device');
    assert.ok(device.ok && device.value);
    assert.equal(device.value.userId, 'alice/pixel');
  });

  for (const type of ['lwt', 'transition', 'waypoint', 'card', 'encrypted', 'cmd', 'status']) {
    it(`accepts and ignores _type ${type}`, () => {
      assert.deepEqual(ownTracksToPoint({ _type: type, tst: 1, data: 'x' }, HTTP, 'user'), {
        ok: true,
        value: null,
      });
    });
  }

  it('reports every field at fault, in OwnTracks names', () => {
    const result = ownTracksToPoint(
      { _type: 'location', tst: '1483290312', lat: 91, lon: -181, acc: -1, vel: 1e9 },
      { ...HTTP, user: undefined },
      'user',
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [
      { field: 'tst', message: 'must be a number, not a string' },
      { field: 'lat', message: 'must be ≤ 90, got 91' },
      { field: 'lon', message: 'must be ≥ -180, got -181' },
      { field: 'acc', message: 'must be ≥ 0, got -1' },
      { field: 'vel', message: 'must be ≤ 360000, got 1000000000' },
      { field: 'X-Limit-U', message: 'is required' },
    ]);
  });

  it('requires tst, lat and lon', () => {
    const result = ownTracksToPoint({ _type: 'location' }, HTTP, 'user');
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((e) => e.field),
      ['tst', 'lat', 'lon'],
    );
  });

  it('refuses a tst outside the years 1900–9999', () => {
    const result = ownTracksToPoint({ ...ANDROID, tst: 1e12 }, HTTP, 'user');
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'tst');
  });

  it('refuses a message that is not an object, or has no _type', () => {
    for (const message of [null, [], 'location', 42, { lat: 1 }]) {
      assert.equal(ownTracksToPoint(message, HTTP, 'user').ok, false, JSON.stringify(message));
    }
  });

  it('needs the device when user ids are user/device', () => {
    const result = ownTracksToPoint(ANDROID, { ...HTTP, device: undefined }, 'user/device');
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [
      { field: 'X-Limit-D', message: 'is required when user ids are user/device' },
    ]);
  });

  it('applies the user id rules to the user', () => {
    const result = ownTracksToPoint(ANDROID, { ...HTTP, user: 'al\u0000ice' }, 'user');
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'X-Limit-U');
  });

  it('refuses a point older than the retention window, naming tst', () => {
    const result = ownTracksToPoint(ANDROID, HTTP, 'user', { oldestAcceptedMs: TST_MS + 1 });
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'tst');
  });
});

describe('identityFromTopic', () => {
  it('reads user and device from the last two levels', () => {
    assert.deepEqual(identityFromTopic('owntracks/alice/pixel'), { user: 'alice', device: 'pixel' });
    assert.deepEqual(identityFromTopic('home/owntracks/alice/pixel'), { user: 'alice', device: 'pixel' });
  });

  it('reads nothing from a short or absent topic', () => {
    assert.deepEqual(identityFromTopic('alice/pixel'), {});
    assert.deepEqual(identityFromTopic(undefined), {});
  });
});

describe('identityFromMqttTopic', () => {
  it('reads PREFIX/USER/DEVICE', () => {
    assert.deepEqual(identityFromMqttTopic('owntracks', 'owntracks/alice/pixel'), {
      user: 'alice',
      device: 'pixel',
    });
  });

  it('refuses other topics', () => {
    for (const topic of [
      'owntracks/alice',
      'owntracks/alice/pixel/event',
      'other/alice/pixel',
      'owntracks//pixel',
    ]) {
      assert.equal(identityFromMqttTopic('owntracks', topic), null, topic);
    }
  });
});
