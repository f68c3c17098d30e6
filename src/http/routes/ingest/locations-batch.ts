import type { IncomingMessage } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  NdjsonLines,
  prepareArrayBatch,
  prepareBatch,
  readNdjsonLines,
} from '../../../ingest/apps/locus-batch.js';
import { BatchTooLargeError } from '../../../ingest/apps/ndjson.js';
import { MAX_BATCH_BYTES, MAX_BATCH_POINTS } from '../../../ingest/limits.js';
import { LocationSchema } from '../../../schemas/location.js';
import { FieldErrorSchema } from '../../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../../types.js';
import { ingestRoute, invalid } from './ingest-route.js';

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
// (partial success), so Fastify must not validate the body.
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
  return invalid('The body must be a JSON array or NDJSON.', [
    { field: 'body', message: `must be an array, not ${got}` },
  ]);
}

/** POST /locations: many points in one request and one transaction, with a report per rejected item. */
export async function registerBatchRoutes(app: LocusApp, deps: LocusDeps): Promise<void> {
  // Encapsulated, so that the NDJSON parser applies to this route only.
  await app.register((scope: LocusApp, _options, registered) => {
    scope.addContentTypeParser(
      NDJSON_MEDIA_TYPE,
      async (request: FastifyRequest, payload: IncomingMessage) => {
        // Fastify enforces bodyLimit only on bodies it buffers; this one is streamed, so the reader counts the bytes.
        if (Number(request.headers['content-length']) > MAX_BATCH_BYTES)
          throw new BatchTooLargeError(`The body is larger than ${MAX_BATCH_BYTES} bytes.`, MAX_BATCH_BYTES);
        return readNdjsonLines(payload);
      },
    );
    ingestRoute(scope, deps, {
      method: 'POST',
      url: '/locations',
      bodyLimit: MAX_BATCH_BYTES,
      ownValidation: true,
      schema: {
        summary: 'Store many location points',
        description:
          'Valid points are stored, invalid ones reported by index; all the valid points of a batch commit in ' +
          'one transaction before the answer. A body that is not an array (or NDJSON) is refused whole.',
        consumes: ['application/json', NDJSON_MEDIA_TYPE],
        body: BatchBodySchema,
      },
      answer: BatchResultSchema,
      read(request) {
        const { body } = request;
        const options = { oldestAcceptedMs: deps.oldestAcceptedMs() };
        // The NDJSON parser hands over the lines it read; a JSON body is whatever JSON it was.
        const batch =
          body instanceof NdjsonLines
            ? prepareBatch(body.records, options)
            : Array.isArray(body)
              ? prepareArrayBatch(body, options)
              : null;
        if (!batch) return notABatch(body);
        return {
          kind: 'points',
          points: batch.points,
          rejected: batch.rejected,
          answer: (o) => batch.summary(o),
        };
      },
    });
    registered();
  });
}
