import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { fieldErrorsFromAjv } from '../ingest/checks.js';
import { BatchTooLargeError } from '../ingest/apps/ndjson.js';
import { MAX_BATCH_BYTES, MAX_BATCH_POINTS, MAX_POINT_BODY_BYTES } from '../ingest/limits.js';
import { StoreUnavailableError } from '../store/store.js';
import { OverloadedError } from './plugins/overload.js';
import { problem, sendProblem } from './problem.js';
import { MalformedBodyError } from './strict-body.js';
import type { Problem } from '../schemas/problem.js';

/** A size as people write it: `64 KiB`, `8 MiB`, or bytes when it is neither. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * What a 413 says: the limit of the endpoint and what to do instead. A point's body points to the batch endpoint;
 * a batch's says how many points fit.
 */
export function bodyTooLargeDetail(limit: number | undefined, method?: string, url?: string): string {
  const where = method && url ? `${method} ${url}` : 'this endpoint';
  if (limit === undefined) return `The body is larger than ${where} accepts.`;
  const detail = `The body is larger than ${formatBytes(limit)}, the most ${where} accepts`;
  if (limit <= MAX_POINT_BODY_BYTES) {
    return (
      `${detail} for one point; send many points at once with POST /locations ` +
      `(up to ${formatBytes(MAX_BATCH_BYTES)} or ${MAX_BATCH_POINTS} points).`
    );
  }
  if (limit === MAX_BATCH_BYTES) {
    return `${detail}; send at most ${MAX_BATCH_POINTS} points and ${formatBytes(limit)} per request.`;
  }
  return `${detail}.`;
}

function routeOf(request: FastifyRequest | undefined) {
  const options = request?.routeOptions;
  const method = typeof options?.method === 'string' ? options.method : request?.method;
  return { limit: options?.bodyLimit, method, url: options?.url };
}

// Fastify's own errors for bodies it could not read, by code.
const BODY_ERRORS: Record<string, (request?: FastifyRequest) => Problem> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (request) => {
    const { limit, method, url } = routeOf(request);
    return problem('body-too-large', bodyTooLargeDetail(limit, method, url));
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    problem('unsupported-media-type', 'Send the body as application/json.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    problem('malformed-body', 'The body is empty.', [{ field: 'body', message: 'must be a JSON object' }]),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    problem('malformed-body', 'The Content-Length does not match the body.'),
  // Raised before routing (Fastify's frameworkErrors): a path whose percent-encoding is not UTF-8.
  FST_ERR_BAD_URL: () =>
    problem('invalid-parameter', 'The path is not valid percent-encoded UTF-8.', [
      { field: 'path', message: 'must be percent-encoded UTF-8' },
    ]),
};

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error;
}

function validationProblem(error: FastifyError): Problem {
  const errors = fieldErrorsFromAjv((error.validation ?? []) as ErrorObject[]);
  if (error.validationContext === 'body') {
    return problem('invalid-body', `${errors.length} field(s) of the body are not valid.`, errors);
  }
  return problem('invalid-parameter', `${errors.length} parameter(s) are not valid.`, errors);
}

/** Turns whatever a route threw into a problem+json answer; the request, when known, words it for the route. */
export function toProblem(error: unknown, request?: FastifyRequest): Problem {
  if (error instanceof StoreUnavailableError) return problem('store-unavailable', 'Try again shortly.');
  if (error instanceof OverloadedError) return problem('overloaded', error.message);
  if (error instanceof BatchTooLargeError) {
    if (error.maxBytes === undefined) return problem('body-too-large', error.message);
    const { method, url } = routeOf(request);
    return problem('body-too-large', bodyTooLargeDetail(error.maxBytes, method, url));
  }
  if (error instanceof MalformedBodyError) {
    return problem('malformed-body', error.detail ?? 'The body cannot be read.', [
      { field: 'body', message: error.message },
    ]);
  }
  if (!isFastifyError(error)) return problem('internal-error', 'Something went wrong on our side.');
  if (error.validation) return validationProblem(error);
  const known = error.code ? BODY_ERRORS[error.code] : undefined;
  if (known) return known(request);
  // JSON syntax errors, including the prototype-poisoning keys the parser refuses, carry status 400.
  if (error.statusCode === 400) {
    return problem('malformed-body', 'The body is not valid JSON.', [
      { field: 'body', message: error.message },
    ]);
  }
  return problem('internal-error', 'Something went wrong on our side.');
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return answerError(toProblem(error, request), error, request, reply);
}

/** Answers `body`, the problem `error` became, and logs it at the level its status calls for. */
export function answerError(
  body: Problem,
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (body.status === 503) request.log.warn({ err: error }, body.title);
  else if (body.status >= 500) request.log.error({ err: error }, body.title);
  else request.log.info({ problem: body.type, errors: body.errors }, body.title);
  return sendProblem(reply, body);
}

// Errors of a connection before any request could be read from it (Node's 'clientError'), by Node's code.
const CONNECTION_PROBLEMS: Record<string, () => Problem> = {
  ERR_HTTP_REQUEST_TIMEOUT: () => problem('request-timeout', 'The request was not complete in time.'),
  HPE_HEADER_OVERFLOW: () => problem('headers-too-large', 'The request headers are larger than allowed.'),
};

/**
 * Answers a connection whose request could not be read (cut off, timed out, not HTTP) with a problem document,
 * as raw bytes since there is no request to reply to, then closes it. A reset connection has no one to answer.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = error.code ? CONNECTION_PROBLEMS[error.code] : undefined;
  const answer = known?.() ?? problem('malformed-body', 'The request is not readable HTTP.');
  const body = JSON.stringify(answer);
  const { status } = answer;
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
