/*
 * The answer to a request no route takes: 405 with `Allow` when the path exists under other methods, 404 otherwise.
 * Neither names the query string: it may carry a token (`?token=`), and the dashboard shows a problem's detail.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from './problem.js';
import type { LocusApp } from './types.js';

/** The path of a request URL without its query string. */
export function pathOf(url: string): string {
  return url.split('?', 1)[0] ?? '';
}

/**
 * The methods that have a route for `path` (a concrete path, parameters filled in), asked of the router itself, so
 * there is no list to keep in step with the routes. OPTIONS counts only next to another method: a CORS preflight
 * route takes every path.
 */
export function allowedMethods(app: LocusApp, path: string): string[] {
  const routed = (method: string) =>
    // The types say a route is always found; the router answers null when none is.
    (app.findRoute({ method, url: path }) as unknown) !== null;
  const allowed = app.supportedMethods.filter((method) => method !== 'OPTIONS' && routed(method));
  if (allowed.length > 0 && routed('OPTIONS')) allowed.push('OPTIONS');
  return allowed;
}

/** The not-found handler of `app`. */
export function notFoundHandler(app: LocusApp) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = pathOf(request.url);
    const allowed = allowedMethods(app, path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      const methods = allowed.join(', ');
      reply.header('allow', methods);
      const detail = `${path} does not take ${request.method}; it takes ${methods}.`;
      return sendProblem(reply, problem('method-not-allowed', detail));
    }
    return sendProblem(reply, problem('not-found', `${request.method} ${path} is not a Locus endpoint.`));
  };
}
