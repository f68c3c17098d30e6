import type { ServerOptions } from 'node:http';

/*
 * Timeouts against slow and stalled clients. Without them a phone that loses signal half-way through a request, or
 * a slowloris client dripping one header byte a minute, holds a socket and its buffers forever; enough of them and
 * the process runs out of file descriptors. Node checks the header and request deadlines every
 * `checkIntervalMs`, so a stalled request is cut between the deadline and the deadline plus that interval.
 */
export interface ServerTimeouts {
  /** All request headers must arrive within this. */
  headersMs: number;
  /** The whole request, body included, must arrive within this: 8 MiB batches over a slow mobile link fit. */
  requestMs: number;
  /**
   * An idle keep-alive connection is closed after this. Longer than the idle timeout of common load balancers
   * (60 s), so that they, not Locus, close idle connections and never send on one Locus is closing.
   */
  keepAliveMs: number;
  /** A socket with no traffic at all (no request in progress, or one stalled mid-body) is destroyed after this. */
  idleSocketMs: number;
  checkIntervalMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersMs: 15_000,
  requestMs: 60_000,
  keepAliveMs: 72_000,
  idleSocketMs: 120_000,
  checkIntervalMs: 5_000,
};

/** The Fastify and node:http options that apply the timeouts. */
export function timeoutOptions(timeouts: ServerTimeouts): {
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  http: ServerOptions;
} {
  return {
    connectionTimeout: timeouts.idleSocketMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.requestMs,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: timeouts.checkIntervalMs },
  };
}
