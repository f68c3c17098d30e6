import cors from '@fastify/cors';
import type { onRequestHookHandler } from 'fastify';
import helmet from 'helmet';
import type { LocusApp } from '../types.js';

/*
 * What browsers are told. Phones and scripts ignore all of this; it matters for the dashboard and for any web page
 * that would call the API from another origin.
 */

/**
 * Helmet's headers on every answer a browser may render (nosniff, no framing, same-origin resource policy…). Its
 * content security policy is off because the dashboard sends a policy of its own, built for its page and the
 * configured tile server; API answers are JSON and never rendered. HSTS is for the TLS terminator in front to send:
 * Locus itself speaks HTTP and cannot know whether every subdomain of its host is ready for HTTPS-only.
 */
const setSecurityHeaders = helmet({ contentSecurityPolicy: false, strictTransportSecurity: false });

const securityHeadersHook: onRequestHookHandler = (request, reply, done) => {
  setSecurityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
};

/**
 * Routes with GET (pages, reads, exports) and answers to unknown paths get the headers. Routes without GET only
 * take points from apps, never a page a browser renders: the headers would protect nothing there. Helmet runs as
 * a hook of those routes only, rather than as a global plugin, because even a global hook that skips a route cost
 * PUT /location a promise and two hooks per request (BENCHMARKS.md).
 */
export function registerSecurityHeaders(app: LocusApp): void {
  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('GET')) return;
    route.onRequest = [securityHeadersHook, ...[route.onRequest ?? []].flat()];
  });
}

/** The same headers for the not-found answer, which no route's hooks cover. */
export const notFoundSecurityHeaders = securityHeadersHook;

/**
 * Cross-origin access: closed unless origins are configured, in which case exactly those origins may call the API
 * (with credentials such as a bearer token). Without the CORS headers a browser refuses other origins' pages the
 * answers, and its preflight for a JSON PUT gets no permission.
 */
export async function registerCors(app: LocusApp, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id'],
    exposedHeaders: ['retry-after', 'x-request-id', 'content-disposition'],
    maxAge: 600,
  });
}
