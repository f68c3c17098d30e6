import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LocusApp } from '../app.js';
import { problem, sendProblem } from '../problem.js';
import type { FieldError } from '../../ingest/point.js';
import type { LocusMetrics } from '../../metrics/registry.js';

export const METRICS_PATH = '/metrics';

/** The route label of requests that matched no route: their URLs are the client's, so never a label. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The routes that take points, by pattern: their 400 answers and batch summaries tell which points were refused. */
export const INGEST_ROUTES: ReadonlySet<string> = new Set([
  '/location',
  '/locations',
  '/owntracks',
  '/pub',
  '/overland',
  '/osmand',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function fieldErrorsOf(value: unknown): FieldError[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (e): e is FieldError => isRecord(e) && typeof e.field === 'string' && typeof e.message === 'string',
  );
}

/**
 * Counts the points an ingest answer refuses, from the answer itself (before serialization): a 400 problem refuses
 * the request's point (or its whole body, counted as one), a batch summary lists its refused items with their
 * errors (POST /locations) or only counts them (Overland, whose reasons are logged, not answered: `other`).
 */
function countRejectedInAnswer(metrics: LocusMetrics, status: number, payload: unknown): void {
  if (!isRecord(payload)) return;
  if (status === 400) {
    metrics.countRejectedPoint('http', fieldErrorsOf(payload.errors));
    return;
  }
  if (status !== 200 || typeof payload.rejected !== 'number' || payload.rejected === 0) return;
  const items = Array.isArray(payload.errors) ? (payload.errors as unknown[]) : [];
  for (const item of items) {
    metrics.countRejectedPoint('http', isRecord(item) ? fieldErrorsOf(item.errors) : []);
  }
  metrics.countRejected('http', 'other', payload.rejected - items.length);
}

/**
 * GET /metrics, and the hooks that feed it: every answered request by route pattern, method and status, and the
 * points the ingest routes refuse. Register it on the root instance, not in an encapsulated scope, so that its
 * hooks see every route (before or after the routes alike). Points stored and duplicate are counted by the
 * GroupCommitter's observer (`metrics.commitObserver`), which sees MQTT too.
 *
 * Refusals are read from the answers rather than counted by the routes: most invalid points never reach a route
 * handler (Fastify's schema validation answers them through the error handler), and a route added later is
 * counted by adding its pattern to INGEST_ROUTES.
 */
export function registerMetrics(app: LocusApp, metrics: LocusMetrics): void {
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    // Prometheus records its own scrapes (scrape_duration_seconds, up); counting them here would only add a
    // steady request every interval to the traffic the counter is meant to show.
    if (route !== METRICS_PATH) {
      metrics.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    }
    done();
  });
  app.addHook('preSerialization', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && INGEST_ROUTES.has(route)) {
      countRejectedInAnswer(metrics, reply.statusCode, payload);
    }
    done(null, payload);
  });
  app.get(METRICS_PATH, { schema: { hide: true } }, async (request, reply) => {
    // With authentication on, a user token sees only its own user's data; the metrics are everyone's traffic.
    if (request.access && request.access.userId !== null) {
      return sendProblem(reply, problem('forbidden', 'The metrics need an admin token.'));
    }
    const text = await metrics.expose();
    return reply.type(metrics.contentType).send(text);
  });
}
