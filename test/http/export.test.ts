import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { contentDisposition, negotiateFormat } from '../../src/http/routes/read/export.js';
import type { MinuteAggregate } from '../../src/store/minutes.js';
import type { Store } from '../../src/store/store.js';
import { generateTrace } from '../../src/tools/generate/trace.js';
import { build, put, seed, wrapStore } from '../support/app.js';
import { assertProblem } from '../support/problem.js';
import { VALID_POINT } from '../support/points.js';

interface Collection {
  type: string;
  features: Array<{
    geometry: { type: string; coordinates: unknown } | null;
    properties: Record<string, unknown>;
  }>;
}

describe('negotiateFormat', () => {
  for (const [format, accept, expected] of [
    [undefined, undefined, 'json'],
    [undefined, '*/*', 'json'],
    [undefined, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'json'],
    [undefined, 'application/geo+json', 'geojson'],
    [undefined, 'application/vnd.geo+json', 'geojson'],
    [undefined, 'text/csv', 'csv'],
    [undefined, 'TEXT/CSV; charset=utf-8', 'csv'],
    [undefined, 'text/*', 'csv'],
    [undefined, 'application/gpx+xml', 'gpx'],
    [undefined, 'text/csv, application/json', 'csv'],
    [undefined, 'application/json, text/csv', 'json'],
    [undefined, 'text/csv;q=0.5, application/gpx+xml', 'gpx'],
    [undefined, 'application/json;q=0.1, application/geo+json;q=0.9', 'geojson'],
    [undefined, 'text/csv;q=0, */*', 'json'],
    [undefined, 'application/xml', 'json'],
    [undefined, 'garbage', 'json'],
    ['gpx', 'text/csv', 'gpx'],
    ['json', 'text/csv', 'json'],
  ] as const) {
    it(`picks ${expected} for format=${format ?? '-'} and Accept: ${accept ?? '-'}`, () => {
      assert.equal(negotiateFormat(format, accept), expected);
    });
  }
});

describe('contentDisposition', () => {
  it('names the user, the range and the extension', () => {
    assert.equal(
      contentDisposition('a1', { fromMs: Date.UTC(2017, 0, 1), toMs: Date.UTC(2017, 0, 1, 18, 5) }, 'gpx'),
      'attachment; filename="locus_a1_from-20170101T000000Z_to-20170101T180500Z.gpx"; ' +
        "filename*=UTF-8''locus_a1_from-20170101T000000Z_to-20170101T180500Z.gpx",
    );
  });

  it('keeps the ASCII name safe and the exact name encoded', () => {
    assert.equal(
      contentDisposition(`o'brien/ü "x"`, {}, 'csv'),
      `attachment; filename="locus_o_brien____x_.csv"; filename*=UTF-8''locus_o%27brien%2F%C3%BC%20%22x%22.csv`,
    );
  });
});

describe('GET /users/:user_id/locations.:format', () => {
  it('exports GeoJSON: a Point per minute and the track', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/a1/locations.geojson');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'application/geo+json');
    assert.match(
      String(response.headers['content-disposition']),
      /^attachment; filename="locus_a1\.geojson"/,
    );
    const fc = response.json<Collection>();
    const points = fc.features.filter((f) => f.geometry?.type === 'Point');
    assert.equal(points.length, 10);
    assert.deepEqual(points[0]?.properties, {
      minute: '2017-01-01T18:00:00.000Z',
      accuracy: 11.3,
      speed: 1.4,
      samples: 2,
    });
    const track = fc.features.at(-1);
    assert.equal(track?.geometry?.type, 'LineString');
    assert.equal((track?.geometry?.coordinates as unknown[]).length, 10);
    assert.deepEqual((track?.geometry?.coordinates as unknown[])[0], [-73.916, 40.701]);
  });

  it('exports CSV with RFC 4180 records', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/a1/locations.csv');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8; header=present');
    const lines = response.body.split('\r\n');
    assert.equal(lines[0], 'minute,lat,long,accuracy,speed,samples');
    assert.equal(lines[1], '2017-01-01T18:00:00.000Z,40.701,-73.916,11.3,1.4,2');
    assert.equal(lines.length, 12); // header, 10 records, and the empty string after the last CRLF
  });

  it('exports GPX with a trkpt per minute', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/a1/locations.gpx');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'application/gpx+xml; charset=utf-8');
    assert.equal(response.body.match(/<trkpt /g)?.length, 10);
    assert.ok(
      response.body.includes('<trkpt lat="40.701" lon="-73.916"><time>2017-01-01T18:00:00.000Z</time>'),
    );
  });

  it('honours from (inclusive) and to (exclusive) and names them in the file', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject(
      '/users/a1/locations.csv?from=2017-01-01T18:02:00Z&to=2017-01-01T13:05:00-05:00',
    );
    assert.equal(response.statusCode, 200);
    const records = parse<{ minute: string }>(response.body, { columns: true });
    assert.deepEqual(
      records.map((r) => r.minute),
      ['02', '03', '04'].map((m) => `2017-01-01T18:${m}:00.000Z`),
    );
    assert.match(
      String(response.headers['content-disposition']),
      /filename="locus_a1_from-20170101T180200Z_to-20170101T180500Z\.csv"/,
    );
  });

  it('answers an empty range of a known user with an empty export', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/a1/locations.geojson?from=2018-01-01');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { type: 'FeatureCollection', features: [] });
  });

  it('answers 404 problem for an unknown user', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/nobody/locations.gpx');
    assertProblem(response, 404, 'unknown-user');
  });

  for (const [url, field] of [
    ['/users/a1/locations.xml', 'format'],
    ['/users/a1/locations.', 'format'],
    ['/users/a1/locations.csv?from=yesterday', 'from'],
    ['/users/a1/locations.csv?from=2017-01-02&to=2017-01-01', 'to'],
  ] as const) {
    it(`answers 400 naming ${field} for ${url}`, async (t) => {
      const { app } = await build(t);
      await seed(app);
      const response = await app.inject(url);
      assertProblem(response, 400, 'invalid-parameter', [field]);
    });
  }

  it('agrees with the JSON API minute for minute on a generated trace', async (t) => {
    const { app } = await build(t);
    for (const row of generateTrace({ seed: 7, users: 2, minutes: 40, scenario: 'zones' })) {
      assert.equal((await put(app, row)).statusCode, 200);
    }
    for (const user of ['u1', 'u2']) {
      const api = (await app.inject(`/users/${user}/locations?limit=10000`)).json<{
        locations: Array<{
          minute: string;
          lat: number;
          long: number;
          accuracy: number;
          speed: number;
          samples: number;
        }>;
      }>().locations;
      const records = parse<unknown>((await app.inject(`/users/${user}/locations.csv`)).body, {
        columns: true,
        cast: (value, context) => (context.header || context.column === 'minute' ? value : Number(value)),
      });
      assert.deepEqual(records, api);
      const fc = (await app.inject(`/users/${user}/locations.geojson`)).json<Collection>();
      assert.deepEqual(
        fc.features.filter((f) => f.geometry?.type === 'Point').map((f) => f.properties.minute),
        api.map((l) => l.minute),
      );
      const gpx = (await app.inject(`/users/${user}/locations.gpx`)).body;
      assert.equal(gpx.match(/<trkpt /g)?.length, api.length);
    }
  });

  it('answers 503 when the store is unavailable before anything is sent', async (t) => {
    const { app, store } = await build(t);
    await seed(app);
    const { StoreUnavailableError } = await import('../../src/store/store.js');
    store.minutes = () => Promise.reject(new StoreUnavailableError('locked'));
    const response = await app.inject('/users/a1/locations.csv');
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '2');
  });
});

/**
 * Whether users.ts hands `?format=` and Accept to the exports yet: the wiring is the lead's to add (see
 * src/http/routes/read/export.ts). Until then these tests skip, loudly.
 */
describe('GET /users/:user_id/locations with ?format= or Accept', () => {
  for (const [query, accept, mediaType] of [
    ['?format=geojson', undefined, 'application/geo+json'],
    ['?format=csv', undefined, 'text/csv'],
    ['?format=gpx', undefined, 'application/gpx+xml'],
    ['', 'application/geo+json', 'application/geo+json'],
    ['', 'text/csv', 'text/csv'],
    ['', 'application/gpx+xml', 'application/gpx+xml'],
    ['?format=json', 'text/csv', 'application/json'],
    ['', '*/*', 'application/json'],
  ] as const) {
    it(`answers ${mediaType} for ${query || 'no format'} and Accept: ${accept ?? '-'}`, async (t) => {
      const { app } = await build(t);
      await seed(app);
      const response = await app.inject({
        url: `/users/a1/locations${query}`,
        headers: accept ? { accept } : {},
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(String(response.headers['content-type']).split(';')[0], mediaType);
      assert.match(String(response.headers.vary), /accept/i);
    });
  }

  it('honours from and to', async (t) => {
    const { app } = await build(t);
    await seed(app);
    const response = await app.inject('/users/a1/locations?format=gpx&from=2017-01-01T18:08:00Z');
    assert.equal(response.body.match(/<trkpt /g)?.length, 2);
  });

  it('answers 404 for an unknown user and 400 naming format for a bad one', async (t) => {
    const { app } = await build(t);
    await seed(app);
    assert.equal((await app.inject('/users/nobody/locations?format=csv')).statusCode, 404);
    const response = await app.inject('/users/a1/locations?format=xml');
    assert.equal(response.statusCode, 400);
    assert.deepEqual(
      response.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field),
      ['format'],
    );
  });
});

/** A store with `count` minutes of a1, made up as they are read; counts the pages asked for. */
function bigStore(base: Store, count: number): Store & { pagesRead: number } {
  const row = (minuteMs: number): MinuteAggregate => ({
    userId: 'a1',
    minuteMs,
    sums: {
      samples: 1,
      latSum: 40_70100000,
      longSum: -73_91600000,
      longMin: -73_91600000,
      longMax: -73_91600000,
      longEastSum: 286_08400000,
      longEastMin: 286_08400000,
      longEastMax: 286_08400000,
      accuracySum: 11_300,
      accuracyCount: 1,
      speedSum: 1_400,
      speedCount: 1,
    },
  });
  const store = {
    ...wrapStore(base, {}),
    pagesRead: 0,
    minutes(userId: string, _range: unknown, page: { limit: number; afterMinuteMs?: number }) {
      store.pagesRead += 1;
      const start = page.afterMinuteMs === undefined ? 0 : page.afterMinuteMs / 60_000 + 1;
      const end = Math.min(count, start + page.limit);
      const rows = Array.from({ length: end - start }, (_, i) => row((start + i) * 60_000));
      return Promise.resolve({ rows, nextAfterMinuteMs: end < count ? (end - 1) * 60_000 : null });
    },
  };
  return store;
}

describe('export streaming', () => {
  it('reads the store only as fast as the client takes the body, and stops when it leaves', async (t) => {
    const { openSqliteStore } = await import('../../src/store/sqlite/sqlite-store.js');
    const store = bigStore(openSqliteStore({ path: ':memory:' }), 1_000_000);
    const { app } = await build(t, { store: store });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;

    const request = httpRequest({ port, host: '127.0.0.1', path: '/users/a1/locations.geojson' });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request.on('response', resolve).on('error', reject).end();
    });
    assert.equal(response.statusCode, 200);
    response.pause(); // a client that stops reading
    await sleep(500);
    const whilePaused = store.pagesRead;
    await sleep(300);
    assert.equal(store.pagesRead, whilePaused, 'reads stalled while the client did not read');
    // 1,000,000 minutes are 200 pages of 5,000; a stalled client holds only what the socket buffers take.
    assert.ok(whilePaused < 40, `read ${whilePaused} pages ahead of a paused client`);
    response.destroy();
    await sleep(300);
    const afterLeaving = store.pagesRead;
    await sleep(300);
    assert.equal(store.pagesRead, afterLeaving, 'reads stopped once the client left');
  });
});

describe('an export in flight', () => {
  it('leaves the event loop free: a PUT is answered before the export ends, for a client that reads at once', async (t) => {
    const { openSqliteStore } = await import('../../src/store/sqlite/sqlite-store.js');
    // A store that answers every page at once, and a client in another process that takes every byte at once:
    // nothing outside the export would ever give the event loop a turn.
    const store = bigStore(openSqliteStore({ path: ':memory:' }), 300_000);
    const { app } = await build(t, { store });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const events: string[] = [];
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').get('http://127.0.0.1:${port}/users/a1/locations.csv', (r) => {
           process.stdout.write('started\\n');
           r.resume();
           r.on('end', () => process.stdout.write('ended\\n'));
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => reader.kill());
    const lines = createInterface({ input: reader.stdout });
    const ended = new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        events.push(`export ${line}`);
        if (line === 'ended') resolve();
      }),
    );
    await new Promise<void>((resolve) => lines.once('line', () => resolve()));
    const answer = await fetch(`http://127.0.0.1:${port}/location`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...VALID_POINT, user_id: 'other' }),
    });
    events.push(`put ${answer.status}`);
    await ended;
    assert.deepEqual(events, ['export started', 'put 200', 'export ended']);
  });
});
