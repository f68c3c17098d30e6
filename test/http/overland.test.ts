import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LocusApp } from '../../src/http/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { build, failingStore, minutesOf, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';
import { allUsers } from '../support/users.js';

function feature(properties: Record<string, unknown> = {}, coordinates: unknown = [-73.916, 40.701]) {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates },
    properties: {
      timestamp: '2017-01-01T13:05:12-0500',
      altitude: 0,
      speed: 4,
      horizontal_accuracy: 30,
      vertical_accuracy: -1,
      motion: ['driving'],
      battery_state: 'charging',
      battery_level: 0.89,
      device_id: 'a1',
      wifi: '',
      ...properties,
    },
  };
}

function post(app: LocusApp, body: unknown, url = '/overland') {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: 'Bearer xxxxxx' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /overland', () => {
  it('stores a batch and answers result ok', async (t) => {
    const { app } = await build(t);
    const body = {
      locations: [feature(), feature({ timestamp: '2017-01-01T13:05:40-0500', speed: -1 })],
      current: feature({ timestamp: '2017-01-01T13:09:00-0500' }),
      trip: { distance: 120, mode: 'bicycle' },
    };
    const response = await post(app, body);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { result: 'ok', stored: 2, duplicates: 0, rejected: 0 });
    assert.deepEqual(await minutesOf(app, 'a1'), [
      { minute: '2017-01-01T18:05:00.000Z', lat: 40.701, long: -73.916, accuracy: 30, speed: 4, samples: 2 },
    ]);
  });

  it('skips invalid points, stores the valid ones and still answers ok', async (t) => {
    const { app } = await build(t);
    const response = await post(app, { locations: [feature({}, [-73.916, 95]), 'garbage', feature()] });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { result: 'ok', stored: 1, duplicates: 0, rejected: 2 });
  });

  it('counts a resent batch as duplicates', async (t) => {
    const { app } = await build(t);
    await post(app, { locations: [feature()] });
    const again = await post(app, { locations: [feature()] });
    assert.deepEqual(again.json(), { result: 'ok', stored: 0, duplicates: 1, rejected: 0 });
  });

  it('files points without device_id under ?user=, and accepts ?token=', async (t) => {
    const { app } = await build(t);
    const response = await post(
      app,
      { locations: [feature({ device_id: '' })] },
      '/overland?user=carol&token=abc',
    );
    assert.equal(response.json<{ stored: number }>().stored, 1);
    assert.equal((await minutesOf(app, 'carol')).length, 1);
  });

  it('refuses a batch with a point that has no user, storing nothing, so that Overland keeps it', async (t) => {
    const { app, store } = await build(t);
    const response = await post(app, { locations: [feature(), feature({ device_id: '' })] });
    assert.equal(response.statusCode, 400);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.deepEqual(response.json<{ errors: unknown[] }>().errors, [
      {
        field: 'locations.1.properties.device_id',
        message: 'is empty or absent, and the URL has no ?user= to fall back on',
      },
    ]);
    assert.deepEqual(await allUsers(store), []);
  });

  it('refuses an invalid ?user=', async (t) => {
    const { app } = await build(t);
    const response = await post(app, { locations: [feature()] }, '/overland?user=');
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ errors: Array<{ field: string }> }>().errors[0]?.field, 'user');
  });

  it('files points under the user id in NFC, from device_id and from ?user= alike', async (t) => {
    const { app } = await build(t);
    const decomposed = encodeURIComponent('A\u0308lice');
    const response = await post(
      app,
      {
        locations: [
          feature({ device_id: 'A\u0308lice' }),
          feature({ device_id: '', timestamp: '2017-01-01T13:05:40-0500' }),
          feature({ device_id: 'evil\u202Egpj.exe', timestamp: '2017-01-01T13:05:50-0500' }),
        ],
      },
      `/overland?user=${decomposed}`,
    );
    assert.deepEqual(response.json(), { result: 'ok', stored: 2, duplicates: 0, rejected: 1 });
    assert.equal((await minutesOf(app, '\u00c4lice'))[0]?.samples, 2);
  });

  it('refuses a ?user= with a bidi control character', async (t) => {
    const { app } = await build(t);
    const response = await post(
      app,
      { locations: [feature({ device_id: '' })] },
      '/overland?user=a%E2%80%AE',
    );
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json<{ errors: unknown[] }>().errors, [
      {
        field: 'user',
        message: 'must not contain invisible format or bidi control characters (found U+202E)',
      },
    ]);
  });

  for (const [name, payload] of [
    ['an array', '[]'],
    ['an object without locations', '{"current":{}}'],
    ['locations that are not an array', '{"locations":{}}'],
    ['malformed JSON', '{"locations":['],
  ] as const) {
    it(`answers 400 for ${name}`, async (t) => {
      const { app } = await build(t);
      const response = await post(app, payload);
      assert.equal(response.statusCode, 400);
      assert.notEqual(response.json<{ result?: string }>().result, 'ok');
    });
  }

  it('answers 413 for more than 10,000 points', async (t) => {
    const { app } = await build(t);
    const response = await post(app, { locations: Array.from({ length: 10_001 }, () => 0) });
    assert.equal(response.statusCode, 413);
  });

  it('answers 503, not ok, while the store is unavailable', async (t) => {
    const store = failingStore(
      openSqliteStore({ path: ':memory:' }),
      () => new StoreUnavailableError('locked'),
    );
    const { app } = await build(t, { store });
    const response = await post(app, { locations: [feature()] });
    assert.equal(response.statusCode, 503);
  });

  it('is the same point as a PUT /location of the same instant', async (t) => {
    const { app } = await build(t);
    await post(app, { locations: [feature()] });
    assert.equal((await put(app, VALID_POINT)).json<{ status: string }>().status, 'duplicate');
  });
});
