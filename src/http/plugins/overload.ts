import type { IncomingMessage } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LARGE_BODY_BYTES, MAX_LARGE_BODIES_IN_FLIGHT } from '../../ingest/limits.js';
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
  /** Bodies over LARGE_BODY_BYTES read and parsed at once; more are refused. Default MAX_LARGE_BODIES_IN_FLIGHT. */
  maxLargeBodies?: number;
}

export const DEFAULT_OVERLOAD_LIMITS: OverloadLimits = {
  // Ten full transactions: about a second of work for the SQLite writer, a few megabytes of points.
  maxPendingPoints: 100_000,
  // A server whose callbacks wait a second already answers everything late; more requests make it worse.
  maxEventLoopDelayMs: 1000,
  sampleIntervalMs: 1000,
  maxLargeBodies: MAX_LARGE_BODIES_IN_FLIGHT,
};

// Liveness must stay true under load (a restart would lose the queue's work); readiness is what says "busy".
// Metrics matter most exactly when the event loop lags.
const NEVER_SHED = new Set(['/healthz', '/metrics']);

const INGEST_METHODS = new Set(['PUT', 'POST']);

/** The delay histogram's own timer period (ms): delays below it are not measured, and not counted. */
const RESOLUTION_MS = 10;

/** A request refused because Locus has no room for it now; answered 503 `overloaded` (see errors.ts). */
export class OverloadedError extends Error {
  override name = 'OverloadedError';
  readonly statusCode = 503;
}

/**
 * The mean event-loop delay, sampled every `intervalMs`. A histogram of the loop's lateness (node:perf_hooks)
 * and one timer; nothing that opens a file, so that a process out of descriptors still samples (process
 * .memoryUsage() reads /proc and throws EMFILE then), and a sample that throws anyway is reported, never fatal.
 * A sample in which the histogram saw nothing is a loop blocked the whole time: its delay is that time.
 */
class EventLoopDelaySampler {
  readonly #histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  readonly #timer: NodeJS.Timeout;
  #lastSampleAt = performance.now();
  #delayMs = 0;

  constructor(intervalMs: number, onError: (error: unknown) => void) {
    this.#histogram.enable();
    this.#timer = setInterval(
      () => {
        try {
          this.#sample();
        } catch (error) {
          onError(error);
        }
      },
      Math.max(RESOLUTION_MS, intervalMs),
    ).unref();
  }

  /** The last sample's mean delay, in whole milliseconds. */
  get delayMs(): number {
    return this.#delayMs;
  }

  #sample(): void {
    const now = performance.now();
    const elapsed = now - this.#lastSampleAt;
    this.#lastSampleAt = now;
    const histogram = this.#histogram;
    const mean = histogram.count > 0 ? histogram.mean / 1e6 : elapsed;
    this.#delayMs = Math.round(Math.max(0, mean - RESOLUTION_MS));
    histogram.reset();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }
}

/** Slots for large bodies: taken before such a body is read, given back once its request is over. */
class LargeBodySlots {
  #inFlight = 0;
  readonly #holders = new WeakSet<FastifyRequest>();

  constructor(readonly max: number) {}

  take(request: FastifyRequest): boolean {
    if (this.#holders.has(request)) return true;
    if (this.#inFlight >= this.max) return false;
    this.#inFlight++;
    this.#holders.add(request);
    return true;
  }

  release(request: FastifyRequest): void {
    if (this.#holders.delete(request)) this.#inFlight--;
  }
}

function largeBodyRefusal(): OverloadedError {
  return new OverloadedError(
    'Too many large bodies are being read at once; try again shortly, or send smaller batches.',
  );
}

/** Counts a body without a Content-Length as it arrives, and takes a slot once it turns out large. */
function countingLargeBody(request: FastifyRequest, slots: LargeBodySlots): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const before = bytes;
      bytes += chunk.length;
      if (before <= LARGE_BODY_BYTES && bytes > LARGE_BODY_BYTES && !slots.take(request)) {
        callback(largeBodyRefusal());
        return;
      }
      callback(null, chunk);
    },
  });
}

/**
 * Bounds how many large bodies (over LARGE_BODY_BYTES) are read and parsed at once: each may cost the parser
 * many times its size in heap. One with a Content-Length is refused before any of it is read; one without is
 * counted as it arrives. Taken after the onRequest hooks (authentication), so that strangers hold no slot.
 */
function boundLargeBodies(app: LocusApp, max: number): void {
  const slots = new LargeBodySlots(max);
  app.addHook('preParsing', (request, reply, payload, done) => {
    const length = request.headers['content-length'];
    if (length !== undefined) {
      if (Number(length) > LARGE_BODY_BYTES && !slots.take(request)) {
        // The body is not read: the connection cannot carry another request after it.
        reply.header('connection', 'close');
        done(largeBodyRefusal());
        return;
      }
      done(null, payload);
      return;
    }
    if (request.headers['transfer-encoding'] === undefined) {
      done(null, payload);
      return;
    }
    // Fastify reads `receivedEncodedLength` off the payload for its checks; the counter passes it on.
    const counter = countingLargeBody(request, slots);
    const source = payload as IncomingMessage & { receivedEncodedLength?: number };
    source.on('error', (error) => counter.destroy(error));
    Object.defineProperty(counter, 'receivedEncodedLength', { get: () => source.receivedEncodedLength });
    done(null, source.pipe(counter));
  });
  const release = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    slots.release(request);
    done();
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', (request, done) => {
    slots.release(request);
    done();
  });
}

/**
 * Refuses requests while Locus is overloaded: ingest when too many points wait for a commit (`pendingPoints`),
 * everything but liveness when the event loop lags, large bodies beyond a few at once; and, once it is shutting
 * down, the requests still arriving on kept-alive connections (503 `not-ready`, so that clients retry elsewhere
 * or later). The decisions are made here so that every refusal is a problem document with Retry-After.
 */
export function registerOverloadShedding(
  app: LocusApp,
  pendingPoints: () => number,
  limits: OverloadLimits = DEFAULT_OVERLOAD_LIMITS,
): void {
  const sampler = new EventLoopDelaySampler(limits.sampleIntervalMs, (error) =>
    app.log.warn({ err: error }, 'sampling the event-loop delay failed; keeping the last sample'),
  );
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    sampler.stop();
    done();
  });
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    if (closing) {
      // Fastify has set Connection: close on this answer; the client's next try opens a new connection.
      sendProblem(reply, problem('not-ready', 'Locus is shutting down; try again shortly.'));
      return;
    }
    const reason = overloadReason(request, sampler.delayMs, pendingPoints, limits);
    if (reason === null) {
      done();
      return;
    }
    request.log.warn(reason.log, 'shedding load');
    // Answered here; not calling done() ends the request's lifecycle.
    sendProblem(reply, problem('overloaded', reason.detail));
  });
  boundLargeBodies(app, limits.maxLargeBodies ?? MAX_LARGE_BODIES_IN_FLIGHT);
}

function overloadReason(
  request: FastifyRequest,
  eventLoopDelayMs: number,
  pendingPoints: () => number,
  limits: OverloadLimits,
): { detail: string; log: object } | null {
  const path = request.url.split('?', 1)[0] ?? '';
  if (NEVER_SHED.has(path)) return null;
  if (eventLoopDelayMs > limits.maxEventLoopDelayMs) {
    return { detail: 'Locus is busy; try again shortly.', log: { eventLoopDelayMs } };
  }
  const pending = pendingPoints();
  if (INGEST_METHODS.has(request.method) && pending > limits.maxPendingPoints) {
    return { detail: 'Too many points are waiting to be stored; try again shortly.', log: { pending } };
  }
  return null;
}
