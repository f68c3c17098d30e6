import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { generateSamples } from '../../src/tools/generate/trace.js';
import { buildApp } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { failingStore, put } from '../support/app.js';
import { VALID_POINT } from '../support/points.js';

/** An app wired as the server wires it: one metrics instance fed by the group commit and the HTTP hooks. */
async function meteredApp(t: TestContext, store: Store = openSqliteStore({ path: ':memory:' })) {
  const metrics = createMetrics();
  const committer = new GroupCommitter(store, { observer: metrics.commitObserver });
  metrics.watchCommitter(committer);
  const app = await buildApp({ store, committer, metrics });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  return app;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (\\S+)$`);
// Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`).
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/i;

/**
 * Parses the Prometheus text format (0.0.4) strictly: every line is a HELP, a TYPE or a sample of a family whose
 * TYPE came first, and a histogram's cumulative buckets never decrease and end in +Inf = _count.
 */
function parseExposition(text: string): Sample[] {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      assert.match(meta[2] ?? '', new RegExp(`^${NAME}$`), line);
      if (meta[1] === 'TYPE') {
        assert.match(meta[3] ?? '', /^(counter|gauge|histogram|summary|untyped)$/, line);
        assert.ok(!types.has(meta[2] ?? ''), `TYPE given twice: ${line}`);
        types.set(meta[2] ?? '', meta[3] ?? '');
      }
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    assert.match(value, VALUE, line);
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `no TYPE before ${line}`);
    const labels: Record<string, string> = {};
    for (const [, label = '', text = ''] of labelText.matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[label] = text;
    }
    samples.push({ name, labels, value: Number(value) });
  }
  checkHistograms(samples, types);
  return samples;
}

function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  const seriesKey = (s: Sample) =>
    JSON.stringify(
      Object.entries(s.labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const buckets = new Map<string, number[]>();
    for (const s of samples.filter((s) => s.name === `${family}_bucket`)) {
      buckets.set(seriesKey(s), [...(buckets.get(seriesKey(s)) ?? []), s.value]);
    }
    for (const [key, values] of buckets) {
      values.forEach((v, i) => assert.ok(i === 0 || v >= (values[i - 1] ?? 0), `${family} ${key} decreases`));
      const count = samples.find((s) => s.name === `${family}_count` && seriesKey(s) === key);
      assert.equal(values.at(-1), count?.value, `${family} ${key}: +Inf bucket is the count`);
    }
  }
}

async function scrape(app: LocusApp): Promise<Sample[]> {
  const response = await app.inject('/metrics');
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(response.body);
}

/** The value of the one series with exactly these labels; 0 when there is none (a counter not yet bumped). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  );
  assert.ok(found.length <= 1, `${found.length} series ${name} ${wanted}`);
  return found[0]?.value ?? 0;
}

function points(samples: Sample[], outcome: string, reason?: string): number {
  return valueOf(samples, 'locus_points_total', {
    source: 'http',
    outcome,
    ...(reason === undefined ? {} : { reason }),
  });
}

describe('GET /metrics', () => {
  it('counts exactly the points stored, duplicate and rejected by reason, and the batches that carried them', async (t) => {
    const app = await meteredApp(t);
    const generated = [...generateSamples({ seed: 11, users: 2, minutes: 8 })];
    const distinct = new Set(generated.map((s) => `${s.row.user_id} ${s.utcMs}`)).size;
    assert.ok(distinct < generated.length, 'the generator resends fixes, so there are duplicates to count');
    const viaPut = generated.slice(0, Math.floor(generated.length / 2));
    const viaBatch = generated.slice(viaPut.length);

    for (const { row } of viaPut) assert.equal((await put(app, row)).statusCode, 200);
    const refusedPuts: Array<[unknown, string]> = [
      [{ ...VALID_POINT, lat: 91 }, 'lat'],
      [{ ...VALID_POINT, timestamp: undefined }, 'timestamp'],
      [{ ...VALID_POINT, user_id: '' }, 'user_id'],
      ['{"lat": 40.7,', 'body'],
    ];
    for (const [body] of refusedPuts) assert.equal((await put(app, body)).statusCode, 400);
    const batch = [...viaBatch.map((s) => s.row), { ...VALID_POINT, long: 'west' }, 42];
    const response = await app.inject({ method: 'POST', url: '/locations', payload: batch });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<{ rejected: number }>().rejected, 2);

    const samples = await scrape(app);
    assert.equal(points(samples, 'stored'), distinct);
    assert.equal(points(samples, 'duplicate'), generated.length - distinct);
    for (const [reason, expected] of Object.entries({ lat: 1, timestamp: 1, user_id: 1, body: 2, long: 1 })) {
      assert.equal(points(samples, 'rejected', reason), expected, reason);
    }
    const rejected = samples.filter(
      (s) => s.name === 'locus_points_total' && s.labels.outcome === 'rejected',
    );
    assert.equal(
      rejected.reduce((sum, s) => sum + s.value, 0),
      refusedPuts.length + 2,
    );
    // Each awaited PUT is a transaction of its own; the batch is one more.
    assert.equal(valueOf(samples, 'locus_commit_points_count'), viaPut.length + 1);
    assert.equal(valueOf(samples, 'locus_commit_points_sum'), generated.length);
    assert.equal(valueOf(samples, 'locus_commit_points_bucket', { le: '1' }), viaPut.length);
    assert.equal(valueOf(samples, 'locus_commit_duration_seconds_count'), viaPut.length + 1);
    assert.equal(valueOf(samples, 'locus_commit_queued_points'), 0);
    assert.equal(valueOf(samples, 'locus_store_errors_total', { kind: 'unavailable' }), 0);

    const route = (path: string, method: string, status: string) =>
      valueOf(samples, 'locus_http_requests_total', { route: path, method, status });
    assert.equal(route('/location', 'PUT', '200'), viaPut.length);
    assert.equal(route('/location', 'PUT', '400'), refusedPuts.length);
    assert.equal(route('/locations', 'POST', '200'), 1);
    const durations = { route: '/location', method: 'PUT', status: '200' };
    assert.equal(valueOf(samples, 'locus_http_request_duration_seconds_count', durations), viaPut.length);
  });

  it('labels requests with the route pattern, never the URL the client sent', async (t) => {
    const app = await meteredApp(t);
    await put(app, VALID_POINT);
    assert.equal((await app.inject('/users/a1/locations?from=2017-01-01')).statusCode, 200);
    assert.equal((await app.inject('/users/nobody-SECRET/locations')).statusCode, 404);
    assert.equal((await app.inject('/no/such/path-SECRET?token=SECRET')).statusCode, 404);
    const samples = await scrape(app);
    const requests = samples.filter((s) => s.name === 'locus_http_requests_total');
    assert.equal(
      valueOf(samples, 'locus_http_requests_total', {
        route: '/users/:user_id/locations',
        method: 'GET',
        status: '200',
      }),
      1,
    );
    assert.equal(
      valueOf(samples, 'locus_http_requests_total', {
        route: '/users/:user_id/locations',
        method: 'GET',
        status: '404',
      }),
      1,
    );
    assert.equal(
      valueOf(samples, 'locus_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }),
      1,
    );
    for (const { labels } of requests) assert.doesNotMatch(labels.route ?? '', /SECRET|a1|\?/);
  });

  it('leaves its own scrapes out of the request metrics, and out of the API description', async (t) => {
    const app = await meteredApp(t);
    await scrape(app);
    const samples = await scrape(app);
    assert.ok(!samples.some((s) => s.labels.route === '/metrics'));
    const openapi = (await app.inject('/openapi.json')).json<{ paths: Record<string, unknown> }>();
    assert.ok(!('/metrics' in openapi.paths));
  });

  it('counts a 400 of a read route as no point, and a refused ingest body as one', async (t) => {
    const app = await meteredApp(t);
    assert.equal((await app.inject('/users/a1/locations?limit=many')).statusCode, 400);
    const notAnArray = await app.inject({ method: 'POST', url: '/locations', payload: { lat: 1 } });
    assert.equal(notAnArray.statusCode, 400);
    const osmand = await app.inject({
      method: 'GET',
      url: '/osmand?id=a1&lat=91&lon=-73.9&timestamp=1483290312',
    });
    assert.equal(osmand.statusCode, 400);
    const samples = await scrape(app);
    const rejected = samples.filter(
      (s) => s.name === 'locus_points_total' && s.labels.outcome === 'rejected',
    );
    assert.deepEqual(rejected.map((s) => [s.labels.reason, s.value]).sort(), [
      ['body', 1],
      ['lat', 1],
    ]);
  });

  it('counts Overland’s skipped points by their reason, though its answer only counts them', async (t) => {
    const app = await meteredApp(t);
    const feature = (lat: number) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [-73.916, lat] },
      properties: { timestamp: '2017-01-01T18:05:12Z', device_id: 'phone' },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/overland',
      payload: { locations: [feature(40.7), feature(95), feature(-95)] },
    });
    assert.equal(response.statusCode, 200);
    const samples = await scrape(app);
    assert.equal(points(samples, 'stored'), 1);
    assert.equal(points(samples, 'rejected', 'lat'), 2);
    assert.equal(points(samples, 'rejected', 'other'), 0);
  });

  it('counts store errors by kind, and no point as stored', async (t) => {
    const base = openSqliteStore({ path: ':memory:' });
    let error: Error = new StoreUnavailableError('database is locked');
    const app = await meteredApp(
      t,
      failingStore(base, () => error),
    );
    assert.equal((await put(app, VALID_POINT)).statusCode, 503);
    assert.equal((await put(app, VALID_POINT)).statusCode, 503);
    error = new TypeError('a bug in the store');
    assert.equal((await put(app, VALID_POINT)).statusCode, 500);
    const samples = await scrape(app);
    assert.equal(valueOf(samples, 'locus_store_errors_total', { kind: 'unavailable' }), 2);
    assert.equal(valueOf(samples, 'locus_store_errors_total', { kind: 'other' }), 1);
    assert.equal(points(samples, 'stored'), 0);
    assert.equal(valueOf(samples, 'locus_commit_points_count'), 0);
    const refused = { route: '/location', method: 'PUT', status: '503' };
    assert.equal(valueOf(samples, 'locus_http_requests_total', refused), 2);
  });

  it('keeps two apps’ counts apart', async (t) => {
    const first = await meteredApp(t);
    const second = await meteredApp(t);
    await put(first, VALID_POINT);
    await put(first, { ...VALID_POINT, lat: 91 });
    const [one, two] = [await scrape(first), await scrape(second)];
    assert.equal(points(one, 'stored'), 1);
    assert.equal(points(two, 'stored'), 0);
    assert.equal(points(two, 'rejected', 'lat'), 0);
    assert.ok(!two.some((s) => s.name === 'locus_http_requests_total' && s.labels.route === '/location'));
  });

  it('counts a refused point on every ingest route, each under its own route', async (t) => {
    const app = await meteredApp(t);
    const badLat = { ...VALID_POINT, lat: 91 };
    const tst = 1483290312;
    const requests = [
      { method: 'PUT', url: '/location', payload: badLat },
      { method: 'POST', url: '/locations', payload: [badLat] },
      {
        method: 'POST',
        url: '/owntracks?u=a1',
        payload: { _type: 'location', tst, lat: 91, lon: 1, topic: 'owntracks/a1/phone' },
      },
      {
        method: 'POST',
        url: '/pub',
        payload: { _type: 'location', tst, lat: 91, lon: 1, topic: 'owntracks/a1/phone' },
      },
      { method: 'GET', url: `/osmand?id=a1&lat=91&lon=1&timestamp=${tst}` },
    ] as const;
    for (const request of requests) {
      const response = await app.inject(request);
      assert.ok([200, 400].includes(response.statusCode), `${request.url}: ${response.body}`);
    }
    const overland = await app.inject({
      method: 'POST',
      url: '/overland',
      payload: {
        locations: [
          {
            type: 'Feature',
            geometry: { type: 'Point', coordinates: [1, 91] },
            properties: { timestamp: '2017-01-01T18:05:12Z', device_id: 'a1' },
          },
        ],
      },
    });
    assert.equal(overland.statusCode, 200, overland.body);
    const samples = await scrape(app);
    assert.equal(points(samples, 'rejected', 'lat'), requests.length + 1);
    assert.equal(points(samples, 'stored'), 0);
  });

  it('exposes the process metrics, event-loop delay included', async (t) => {
    const samples = await scrape(await meteredApp(t));
    for (const name of [
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_eventloop_lag_seconds',
      'process_cpu_seconds_total',
    ]) {
      assert.ok(
        samples.some((s) => s.name === name),
        name,
      );
    }
  });
});
