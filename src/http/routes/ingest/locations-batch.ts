import type { IncomingMessage } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_POINTS,
  PreparedBatch,
  prepareArrayBatch,
  prepareNdjsonBatch,
} from '../../../ingest/apps/locus-batch.js';
import { BatchTooLargeError } from '../../../ingest/apps/ndjson.js';
import { LocationSchema } from '../../../schemas/location.js';
import { COMMON_PROBLEMS, FieldErrorSchema, ProblemSchema } from '../../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../../app.js';
import { authProblems, refuseForeignPoints } from '../../plugins/auth.js';
import { errorHandler } from '../../errors.js';
import { problem, sendProblem } from '../../problem.js';

export const NDJSON_MEDIA_TYPE = 'application/x-ndjson';

const BatchResultSchema = Type.Object({
  stored: Type.Integer({ description: 'Points new to Locus, now durable.' }),
  duplicates: Type.Integer({
    description: 'Points whose (user_id, UTC instant) was already stored, earlier in this batch included.',
  }),
  rejected: Type.Integer({ description: 'Items not stored; `errors` says why.' }),
  errors: Type.Array(
    Type.Object({
      index: Type.Integer({ description: 'Zero-based position in the array, or among the non-blank lines.' }),
      errors: Type.Array(FieldErrorSchema),
    }),
  ),
});

// TRICKY: the body is documented as an array of PUT /location objects, but each item is checked on its own
// (partial success) and NDJSON arrives already prepared by its parser, so Fastify must not validate the body.
const BatchBodySchema = Type.Unsafe<unknown>(
  Type.Array(LocationSchema, {
    maxItems: MAX_BATCH_POINTS,
    description:
      `A JSON array of PUT /location objects, or NDJSON (${NDJSON_MEDIA_TYPE}, one object a line), at most ` +
      `${MAX_BATCH_POINTS} points and ${MAX_BATCH_BYTES / 1024 / 1024} MiB; \`accuracy\` and \`speed\` may be ` +
      'null (not reported). Order is arrival order: of two ' +
      'points with the same (user_id, UTC instant), the first is stored.',
  }),
);

function notABatch(body: unknown) {
  const got = body === null ? 'null' : typeof body === 'object' ? 'an object' : `a ${typeof body}`;
  return problem('invalid-body', 'The body must be a JSON array or NDJSON.', [
    { field: 'body', message: `must be an array, not ${got}` },
  ]);
}

/** POST /locations: many points in one request and one transaction, with a report per rejected item. */
export async function registerBatchRoutes(app: LocusApp, deps: LocusDeps): Promise<void> {
  // Encapsulated, so that the NDJSON parser and the 413 wording apply to this route only.
  await app.register((scope: LocusApp, _options, registered) => {
    scope.addContentTypeParser(
      NDJSON_MEDIA_TYPE,
      async (request: FastifyRequest, payload: IncomingMessage) => {
        // Fastify enforces bodyLimit only on bodies it buffers; this one is streamed, so the reader counts the bytes.
        if (Number(request.headers['content-length']) > MAX_BATCH_BYTES)
          throw new BatchTooLargeError(`The body is larger than ${MAX_BATCH_BYTES} bytes.`);
        return prepareNdjsonBatch(payload, { oldestAcceptedMs: deps.oldestAcceptedMs() });
      },
    );
    scope.setErrorHandler((error, request, reply) =>
      error instanceof BatchTooLargeError
        ? sendProblem(reply, problem('body-too-large', error.message))
        : errorHandler(error, request, reply),
    );

    scope.post(
      '/locations',
      {
        bodyLimit: MAX_BATCH_BYTES,
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Store many location points',
          description:
            'Valid points are stored, invalid ones reported by index; all the valid points of a batch commit in ' +
            'one transaction before the answer. A body that is not an array (or NDJSON) is refused whole.',
          consumes: ['application/json', NDJSON_MEDIA_TYPE],
          body: BatchBodySchema,
          response: {
            200: BatchResultSchema,
            400: ProblemSchema,
            413: ProblemSchema,
            415: ProblemSchema,
            ...authProblems(deps),
            ...COMMON_PROBLEMS,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const options = { oldestAcceptedMs: deps.oldestAcceptedMs() };
        const batch =
          body instanceof PreparedBatch
            ? body
            : Array.isArray(body)
              ? prepareArrayBatch(body, options)
              : null;
        if (!batch) return sendProblem(reply, notABatch(body));
        // One foreign point refuses the whole batch, before anything of it is stored.
        const refused = refuseForeignPoints(
          request,
          reply,
          batch.points.map((p) => p.userId),
        );
        if (refused) return refused;
        const outcomes = batch.points.length > 0 ? await deps.committer.submit(batch.points) : [];
        return batch.summary(outcomes);
      },
    );
    registered();
  });
}
