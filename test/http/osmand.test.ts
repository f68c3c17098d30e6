import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { build, failingStore, minutesOf } from '../support/app.js';
import { allUsers } from '../support/users.js';

const TS_MS = Date.UTC(2017, 0, 1, 18, 5, 12);
// OsmAnd's default URL shape: lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}.
const OSMAND_QUERY = `id=a1&lat=40.701&lon=-73.916&timestamp=${TS_MS}&hdop=11.3&altitude=12.0&speed=1.4`;

describe('GET and POST /osmand', () => {
  it('stores a point from OsmAnd’s GET and answers like PUT /location', async (t) => {
    const { app } = await build(t);
    const response = await app.inject(`/osmand?${OSMAND_QUERY}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      status: 'stored',
      user_id: 'a1',
      timestamp_utc: '2017-01-01T18:05:12.000Z',
      minute: '2017-01-01T18:05:00.000Z',
    });
    assert.deepEqual(await minutesOf(app, 'a1'), [
      {
        minute: '2017-01-01T18:05:00.000Z',
        lat: 40.701,
        long: -73.916,
        accuracy: 11.3,
        speed: 1.4,
        samples: 1,
      },
    ]);
  });

  it('stores a point from a POST with the parameters in the query string', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({ method: 'POST', url: `/osmand?${OSMAND_QUERY}` });
    assert.equal(response.json<{ status: string }>().status, 'stored');
  });

  it('stores a point from GPSLogger’s %ALL form body, with the id in the URL', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({
      method: 'POST',
      url: '/osmand?id=a1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload:
        'lat=40.701&lon=-73.916&sat=7&desc=&alt=12.0&acc=11.3&dir=&prov=gps&spd_kph=&spd=' +
        `&timestamp=${TS_MS / 1000}&time=2017-01-01T18%3A05%3A12.000Z&batt=80.0&hdop=`,
    });
    assert.equal(response.statusCode, 200);
    const [minute] = await minutesOf(app, 'a1');
    assert.equal(minute?.accuracy, 11.3);
    assert.equal(minute?.speed, null);
  });

  it('answers duplicate for a resend', async (t) => {
    const { app } = await build(t);
    await app.inject(`/osmand?${OSMAND_QUERY}`);
    const again = await app.inject(`/osmand?${OSMAND_QUERY.replace('hdop=11.3', 'hdop=50')}`);
    assert.equal(again.json<{ status: string }>().status, 'duplicate');
  });

  it('is the same point as an OwnTracks location of the same instant', async (t) => {
    const { app } = await build(t);
    await app.inject({
      method: 'POST',
      url: '/owntracks',
      headers: { 'content-type': 'application/json', 'x-limit-u': 'a1' },
      payload: JSON.stringify({ _type: 'location', tst: TS_MS / 1000, lat: 40.7, lon: -73.9 }),
    });
    const response = await app.inject(`/osmand?${OSMAND_QUERY}`);
    assert.equal(response.json<{ status: string }>().status, 'duplicate');
  });

  it('answers 400 naming every parameter at fault, and stores nothing', async (t) => {
    const { app, store } = await build(t);
    const response = await app.inject('/osmand?id=a1&lat=north&lon=-200&speed=-1');
    assert.equal(response.statusCode, 400);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.deepEqual(response.json<{ errors: unknown[] }>().errors, [
      { field: 'lat', message: 'must be a number, got "north"' },
      { field: 'lon', message: 'must be ≥ -180, got -200' },
      { field: 'timestamp', message: 'is required' },
      { field: 'speed', message: 'must be ≥ 0, got -1' },
    ]);
    assert.deepEqual(await allUsers(store), []);
  });

  it('files the point under the id in NFC, and refuses ids with format characters or . and ..', async (t) => {
    const { app, store } = await build(t);
    const query = (id: string) => OSMAND_QUERY.replace('id=a1', `id=${encodeURIComponent(id)}`);
    const stored = await app.inject(`/osmand?${query('A\u0308lice')}`);
    assert.equal(stored.json<{ user_id: string }>().user_id, '\u00c4lice');
    for (const [id, message] of [
      ['alice\u200b', 'must not contain invisible format or bidi control characters (found U+200B)'],
      [
        '..',
        "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it",
      ],
    ] as const) {
      const response = await app.inject(`/osmand?${query(id)}`);
      assert.equal(response.statusCode, 400, id);
      assert.deepEqual(response.json<{ errors: unknown[] }>().errors, [{ field: 'id', message }]);
    }
    assert.deepEqual(
      (await allUsers(store)).map((u) => u.userId),
      ['\u00c4lice'],
    );
  });

  it('answers 400 for a parameter repeated in the query string', async (t) => {
    const { app } = await build(t);
    assert.equal((await app.inject(`/osmand?${OSMAND_QUERY}&lat=1`)).statusCode, 400);
  });

  it('answers 415 for a JSON body', async (t) => {
    const { app } = await build(t);
    const response = await app.inject({
      method: 'POST',
      url: '/osmand',
      headers: { 'content-type': 'application/json' },
      payload: '{"id":"a1"}',
    });
    assert.equal(response.statusCode, 415);
  });

  it('answers 503 while the store is unavailable', async (t) => {
    const store = failingStore(
      openSqliteStore({ path: ':memory:' }),
      () => new StoreUnavailableError('locked'),
    );
    const { app } = await build(t, { store });
    assert.equal((await app.inject(`/osmand?${OSMAND_QUERY}`)).statusCode, 503);
  });
});
