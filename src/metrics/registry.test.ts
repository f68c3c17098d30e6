import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../store/store.js';
import { createMetrics, type LocusMetrics } from './registry.js';

/** The value of one series, by metric name (with its _count/_sum/_bucket suffix) and exact labels; 0 when absent. */
async function valueOf(metrics: LocusMetrics, name: string, labels: Record<string, string | number> = {}) {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const metric = metrics.registry.getSingleMetric(family) ?? metrics.registry.getSingleMetric(name);
  assert.ok(metric, `no metric ${name}`);
  // Histograms name each value (`_bucket`, `_sum`, `_count`); the declared type of a metric looked up by name does not.
  const { values } = (await metric.get()) as {
    values: Array<{ metricName?: string; labels: object; value: number }>;
  };
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = values.filter(
    (v) => (v.metricName ?? family) === name && JSON.stringify(Object.entries(v.labels).sort()) === wanted,
  );
  assert.ok(found.length <= 1, `several series ${name} ${wanted}`);
  return found[0]?.value ?? 0;
}

describe('LocusMetrics', () => {
  it('counts requests by route, method and status, each once however often it is scraped', async () => {
    const metrics = createMetrics();
    metrics.observeRequest('/location', 'PUT', 200, 0.0012);
    metrics.observeRequest('/location', 'PUT', 200, 0.003);
    metrics.observeRequest('/location', 'PUT', 400, 0.0004);
    const ok = { route: '/location', method: 'PUT', status: '200' };
    assert.equal(await valueOf(metrics, 'locus_http_requests_total', ok), 2);
    await metrics.expose();
    metrics.observeRequest('/location', 'PUT', 200, 0.001);
    assert.equal(await valueOf(metrics, 'locus_http_requests_total', ok), 3);
    assert.equal(await valueOf(metrics, 'locus_http_requests_total', { ...ok, status: '400' }), 1);
    assert.equal(await valueOf(metrics, 'locus_http_request_duration_seconds_count', ok), 3);
    assert.equal(await valueOf(metrics, 'locus_http_request_duration_seconds_sum', ok), 0.0052);
    assert.equal(
      await valueOf(metrics, 'locus_http_request_duration_seconds_bucket', { ...ok, le: 0.001 }),
      1,
    );
  });

  it('counts committed points by source and outcome, and each transaction’s size and time', async () => {
    const metrics = createMetrics();
    metrics.commitObserver.committed(
      [
        { origin: undefined, outcomes: ['stored', 'stored', 'duplicate'] },
        { origin: 'mqtt', outcomes: ['duplicate'] },
        { origin: 'http', outcomes: ['stored'] },
      ],
      5,
      4,
    );
    metrics.commitObserver.committed([{ origin: 'carrier pigeon', outcomes: ['stored'] }], 1, 1);
    const points = (labels: Record<string, string>) => valueOf(metrics, 'locus_points_total', labels);
    assert.equal(await points({ source: 'http', outcome: 'stored' }), 3);
    assert.equal(await points({ source: 'http', outcome: 'duplicate' }), 1);
    assert.equal(await points({ source: 'mqtt', outcome: 'duplicate' }), 1);
    assert.equal(await points({ source: 'mqtt', outcome: 'stored' }), 0);
    assert.equal(await points({ source: 'other', outcome: 'stored' }), 1);
    assert.equal(await valueOf(metrics, 'locus_commit_points_count'), 2);
    assert.equal(await valueOf(metrics, 'locus_commit_points_sum'), 6);
    assert.equal(await valueOf(metrics, 'locus_commit_points_bucket', { le: 2 }), 1);
    assert.equal(await valueOf(metrics, 'locus_commit_points_bucket', { le: 5 }), 2);
    assert.equal(await valueOf(metrics, 'locus_commit_duration_seconds_sum'), 0.005);
  });

  it('counts store errors by kind, from zero', async () => {
    const metrics = createMetrics();
    assert.equal(await valueOf(metrics, 'locus_store_errors_total', { kind: 'unavailable' }), 0);
    metrics.commitObserver.failed(new StoreUnavailableError('database is locked'), 3, 5000);
    metrics.commitObserver.failed(new StoreUnavailableError('disk full'), 1, 1);
    metrics.commitObserver.failed(new TypeError('a bug'), 1, 1);
    assert.equal(await valueOf(metrics, 'locus_store_errors_total', { kind: 'unavailable' }), 2);
    assert.equal(await valueOf(metrics, 'locus_store_errors_total', { kind: 'other' }), 1);
    assert.equal(await valueOf(metrics, 'locus_commit_points_count'), 0, 'a failed commit is no batch');
  });

  it('counts rejected points by reason', async () => {
    const metrics = createMetrics();
    metrics.countRejected('http', 'lat');
    metrics.countRejected('http', 'lat', 2);
    metrics.countRejected('mqtt', 'timestamp');
    metrics.countRejected('http', 'other', 0);
    metrics.countRejectedPoint('mqtt', [
      { field: 'tst', message: 'must be a number, not a string' },
      { field: 'lat', message: 'is required' },
    ]);
    const rejected = (source: string, reason: string) =>
      valueOf(metrics, 'locus_points_total', { source, outcome: 'rejected', reason });
    assert.equal(await rejected('http', 'lat'), 3);
    assert.equal(
      await rejected('mqtt', 'timestamp'),
      2,
      'a point with two bad fields counts once, by its first',
    );
    assert.equal(await rejected('mqtt', 'lat'), 0);
    assert.doesNotMatch(await metrics.expose(), /reason="other"/);
  });

  it('reads the commit queue at scrape time', async () => {
    const metrics = createMetrics();
    assert.equal(await valueOf(metrics, 'locus_commit_queued_points'), 0);
    const queue = { pending: 12, inFlight: 3 };
    metrics.watchCommitter(queue);
    assert.equal(await valueOf(metrics, 'locus_commit_queued_points'), 12);
    assert.equal(await valueOf(metrics, 'locus_commit_in_flight_points'), 3);
    queue.pending = 0;
    assert.equal(await valueOf(metrics, 'locus_commit_queued_points'), 0);
  });

  it('keeps each instance’s counts its own, and shares the process metrics', async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.observeRequest('/healthz', 'GET', 200, 0.0001);
    first.countRejected('http', 'body');
    const labels = { route: '/healthz', method: 'GET', status: '200' };
    assert.equal(await valueOf(first, 'locus_http_requests_total', labels), 1);
    assert.equal(await valueOf(second, 'locus_http_requests_total', labels), 0);
    assert.doesNotMatch(await second.expose(), /reason="body"/);
    for (const metrics of [first, second]) {
      const text = await metrics.expose();
      assert.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m);
      assert.match(text, /^process_cpu_seconds_total \d/m);
    }
  });

  it('exposes the Prometheus text format', () => {
    assert.equal(createMetrics().contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });
});
