import type { FastifyReply } from 'fastify';
import type { FieldError } from '../ingest/point.js';
import type { Problem } from '../schemas/problem.js';

/** Every problem Locus answers with, by stable code: status, title, and the `type` URI derived from the code. */
export const PROBLEMS = {
  'invalid-body': { status: 400, title: 'The request body is not valid' },
  'malformed-body': { status: 400, title: 'The request body is not readable JSON' },
  'invalid-parameter': { status: 400, title: 'A request parameter is not valid' },
  unauthorized: { status: 401, title: 'A valid token is required' },
  forbidden: { status: 403, title: 'The token does not allow this' },
  'unknown-user': { status: 404, title: 'No such user' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'The resource does not take this method' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'too-many-feeds': { status: 429, title: 'This token has too many live feeds open' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'store-unavailable': { status: 503, title: 'The database is unavailable' },
  'not-ready': { status: 503, title: 'Locus is not ready' },
  overloaded: { status: 503, title: 'Locus is overloaded' },
  'feeds-full': { status: 503, title: 'Locus has as many live feeds open as it serves' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export const RETRY_AFTER_SECONDS = 2;

export function problem(code: ProblemCode, detail: string, errors?: FieldError[]): Problem {
  const { status, title } = PROBLEMS[code];
  return { type: `/problems/${code}`, title, status, detail, ...(errors ? { errors } : {}) };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  if (body.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(body.status).type('application/problem+json').send(body);
}
