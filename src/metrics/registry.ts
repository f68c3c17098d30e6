import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitObserver, CommittedSubmission } from '../store/group-commit.js';
import { StoreUnavailableError } from '../store/store.js';
import type { FieldError, IngestOutcome } from '../ingest/point.js';
import { pointRejectionReason, type RejectionReason } from './reasons.js';

/*
 * Locus's Prometheus metrics. Each app gets its own registry (never prom-client's global one), so that the many
 * apps a test process builds do not add to each other's counters. Process metrics (CPU, memory, GC, event-loop
 * delay) describe the process, not an app, so they are collected once per process and merged into every app's
 * exposition: one event-loop monitor and one GC observer, however many apps.
 */

/** Where points come from: the HTTP routes, or the MQTT subscriber. */
export type PointSource = 'http' | 'mqtt' | 'other';

/** What the metrics read from a GroupCommitter at scrape time. */
export interface CommitQueue {
  readonly pending: number;
  readonly inFlight: number;
}

// Seconds. Locus answers most requests in about a millisecond; a PUT waits for a commit (an fsync, a few ms).
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
// Points per transaction: from one lone PUT to a full batch (GroupCommitter's default maximum is 10,000).
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

function sourceOf(origin: string | undefined): PointSource {
  if (origin === undefined || origin === 'http') return 'http';
  return origin === 'mqtt' ? 'mqtt' : 'other';
}

type RequestLabels = Readonly<{ route: string; method: string; status: string }>;

/** A request counter bumped in plain JavaScript and handed to prom-client at scrape time (see observeRequest). */
interface RequestSeries {
  labels: RequestLabels;
  unreported: number;
}

export class LocusMetrics {
  /** What GET /metrics exposes: this app's metrics and the process's. */
  readonly registry: Registry;
  readonly #own = new Registry();
  readonly #requests = new Map<string, RequestSeries>();
  #queue: CommitQueue | null = null;

  readonly #requestSeconds: Histogram<'route' | 'method' | 'status'>;
  readonly #points: Counter<'source' | 'outcome' | 'reason'>;
  readonly #commitPoints: Histogram;
  readonly #commitSeconds: Histogram;
  readonly #storeErrors: Counter<'kind'>;

  constructor() {
    const registers = [this.#own];
    const requests = this.#requests;
    new Counter({
      name: 'locus_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status (GET /metrics itself excluded).',
      labelNames: ['route', 'method', 'status'],
      registers,
      collect() {
        for (const series of requests.values()) {
          if (series.unreported === 0) continue;
          this.inc(series.labels, series.unreported);
          series.unreported = 0;
        }
      },
    });
    this.#requestSeconds = new Histogram({
      name: 'locus_http_request_duration_seconds',
      help: 'Time from receiving a request to having sent its answer, by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.#points = new Counter({
      name: 'locus_points_total',
      help:
        'Points offered, by source and outcome: stored, duplicate (changed nothing), or rejected (with the ' +
        'reason: the field at fault, `retention`, or `other`). A request refused whole counts as one point.',
      labelNames: ['source', 'outcome', 'reason'],
      registers,
    });
    this.#commitPoints = new Histogram({
      name: 'locus_commit_points',
      help: 'Points per committed transaction (group commit batch size).',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.#commitSeconds = new Histogram({
      name: 'locus_commit_duration_seconds',
      help: 'Time the store took to commit a transaction, durable on return.',
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.#storeErrors = new Counter({
      name: 'locus_store_errors_total',
      help: 'Failed transactions, by kind: unavailable (locked, full, read-only, unreachable: answered 503) or other.',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['unavailable', 'other']) this.#storeErrors.inc({ kind }, 0);
    const queue = (): CommitQueue | null => this.#queue;
    new Gauge({
      name: 'locus_commit_queued_points',
      help: 'Points waiting for the next transaction.',
      registers,
      collect() {
        this.set(queue()?.pending ?? 0);
      },
    });
    new Gauge({
      name: 'locus_commit_in_flight_points',
      help: 'Points of the transaction being written now (0 between transactions).',
      registers,
      collect() {
        this.set(queue()?.inFlight ?? 0);
      },
    });
    this.registry = Registry.merge([this.#own, processMetrics()]);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format. */
  expose(): Promise<string> {
    return this.registry.metrics();
  }

  /** Reads the queue gauges from this committer (its observer should be `commitObserver`). */
  watchCommitter(queue: CommitQueue): void {
    this.#queue = queue;
  }

  /**
   * One answered request. On the hot path: the counter is a plain number per label set until a scrape, because
   * prom-client hashes the labels on every inc (a label child does too).
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let series = this.#requests.get(key);
    if (!series) {
      series = { labels: Object.freeze({ route, method, status: String(status) }), unreported: 0 };
      this.#requests.set(key, series);
    }
    series.unreported++;
    this.#requestSeconds.observe(series.labels, seconds);
  }

  /** One point refused before reaching the store, with its errors (counted under the first one's reason). */
  countRejectedPoint(source: PointSource, errors: readonly FieldError[]): void {
    this.countRejected(source, pointRejectionReason(errors));
  }

  /** Points refused before reaching the store. */
  countRejected(source: PointSource, reason: RejectionReason, points = 1): void {
    if (points > 0) this.#points.inc({ source, outcome: 'rejected', reason }, points);
  }

  /** For the GroupCommitter: outcomes, batch sizes, commit times, store errors. */
  readonly commitObserver: CommitObserver = {
    committed: (submissions, points, ms) => {
      this.#countOutcomes(submissions);
      this.#commitPoints.observe(points);
      this.#commitSeconds.observe(ms / 1000);
    },
    failed: (error) => {
      this.#storeErrors.inc({ kind: error instanceof StoreUnavailableError ? 'unavailable' : 'other' });
    },
  };

  #countOutcomes(submissions: readonly CommittedSubmission[]): void {
    // Per source, so that a transaction of a thousand one-point requests costs two incs, not a thousand.
    const counts = new Map<PointSource, Record<IngestOutcome, number>>();
    for (const { origin, outcomes } of submissions) {
      const source = sourceOf(origin);
      let count = counts.get(source);
      if (!count) counts.set(source, (count = { stored: 0, duplicate: 0 }));
      for (const outcome of outcomes) count[outcome]++;
    }
    for (const [source, count] of counts) {
      for (const outcome of ['stored', 'duplicate'] as const) {
        if (count[outcome] > 0) this.#points.inc({ source, outcome }, count[outcome]);
      }
    }
  }
}

export function createMetrics(): LocusMetrics {
  return new LocusMetrics();
}
