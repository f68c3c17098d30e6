import underPressure from '@fastify/under-pressure';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LocusApp } from '../types.js';
import { problem, sendProblem } from '../problem.js';

/*
 * Shedding load. Past what it can take, Locus answers 503 with Retry-After at once rather than queueing: a queued
 * request holds its socket and body in memory until the database catches up, so an unbounded queue turns a burst
 * into an out-of-memory crash and every client's timeout into a retry storm. Phones retry a 503 later anyway.
 */

export interface OverloadLimits {
  /** Points waiting for a commit beyond which ingest requests are refused. */
  maxPendingPoints: number;
  /** Mean event-loop delay (ms) over a sample beyond which every request but the health checks is refused. */
  maxEventLoopDelayMs: number;
  /** How often the event-loop delay is sampled (ms). */
  sampleIntervalMs: number;
}

export const DEFAULT_OVERLOAD_LIMITS: OverloadLimits = {
  // Ten full transactions: about a second of work for the SQLite writer, a few megabytes of points.
  maxPendingPoints: 100_000,
  // A server whose callbacks wait a second already answers everything late; more requests make it worse.
  maxEventLoopDelayMs: 1000,
  sampleIntervalMs: 1000,
};

// Liveness must stay true under load (a restart would lose the queue's work); readiness is what says "busy".
// Metrics matter most exactly when the event loop lags.
const NEVER_SHED = new Set(['/healthz', '/metrics']);

const INGEST_METHODS = new Set(['PUT', 'POST']);

/**
 * Refuses requests while Locus is overloaded: ingest when too many points wait for a commit (`pendingPoints`),
 * everything but liveness when the event loop lags. @fastify/under-pressure measures the lag; the decision is
 * made here, in one hook, so that both refusals are the same problem document.
 */
export async function registerOverloadShedding(
  app: LocusApp,
  pendingPoints: () => number,
  limits: OverloadLimits = DEFAULT_OVERLOAD_LIMITS,
): Promise<void> {
  // Without thresholds the plugin only samples, and sheds nothing by itself.
  await app.register(underPressure, { sampleInterval: limits.sampleIntervalMs });
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    const reason = overloadReason(app, request, pendingPoints, limits);
    if (reason === null) {
      done();
      return;
    }
    request.log.warn(reason.log, 'shedding load');
    // Answered here; not calling done() ends the request's lifecycle.
    sendProblem(reply, problem('overloaded', reason.detail));
  });
}

function overloadReason(
  app: LocusApp,
  request: FastifyRequest,
  pendingPoints: () => number,
  limits: OverloadLimits,
): { detail: string; log: object } | null {
  const path = request.url.split('?', 1)[0] ?? '';
  if (NEVER_SHED.has(path)) return null;
  const { eventLoopDelay } = app.memoryUsage();
  if (eventLoopDelay > limits.maxEventLoopDelayMs) {
    return { detail: 'Locus is busy; try again shortly.', log: { eventLoopDelayMs: eventLoopDelay } };
  }
  const pending = pendingPoints();
  if (INGEST_METHODS.has(request.method) && pending > limits.maxPendingPoints) {
    return { detail: 'Too many points are waiting to be stored; try again shortly.', log: { pending } };
  }
  return null;
}
