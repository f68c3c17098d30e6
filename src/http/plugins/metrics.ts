import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LocusApp } from '../types.js';
import { problem, sendProblem } from '../problem.js';
import type { LocusMetrics } from '../../metrics/registry.js';

export const METRICS_PATH = '/metrics';

/** The route label of requests that matched no route: their URLs are the client's, so never a label. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * GET /metrics, and the hook that feeds it every answered request by route pattern, method and status. Register it
 * on the root instance, not in an encapsulated scope, so that its hook sees every route. Points stored and
 * duplicate are counted by the GroupCommitter's observer (`metrics.commitObserver`), which sees MQTT too; points
 * refused are counted by the ingest routes themselves, from their results (routes/ingest/ingest-route.ts).
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
  app.get(METRICS_PATH, { schema: { hide: true } }, async (request, reply) => {
    // With authentication on, a user token sees only its own user's data; the metrics are everyone's traffic.
    if (request.access && request.access.userId !== null) {
      return sendProblem(reply, problem('forbidden', 'The metrics need an admin token.'));
    }
    const text = await metrics.expose();
    return reply.type(metrics.contentType).send(text);
  });
}
