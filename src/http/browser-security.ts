import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { LocusApp } from './app.js';

/*
 * What browsers are told. Phones and scripts ignore all of this; it matters for the dashboard and for any web page
 * that would call the API from another origin.
 */

/**
 * Helmet's headers on every answer a browser may render (nosniff, no framing, same-origin resource policy…). Its
 * content security policy is off because the dashboard sends a policy of its own, built for its page and the
 * configured tile server; API answers are JSON and never rendered. HSTS is for the TLS terminator in front to send: Locus itself speaks HTTP
 * and cannot know whether every subdomain of its host is ready for HTTPS-only.
 */
export async function registerSecurityHeaders(app: LocusApp): Promise<void> {
  // Routes without GET only take points from apps, never a page a browser renders: the headers would protect
  // nothing there, and setting them cost a fifth of PUT /location's throughput (measured, BENCHMARKS.md).
  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('GET')) route.helmet = false;
  });
  await app.register(helmet, { global: true, contentSecurityPolicy: false, strictTransportSecurity: false });
}

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
