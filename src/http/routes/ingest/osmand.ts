import type { FastifyRequest } from 'fastify';
import { osmandToPoint } from '../../../ingest/apps/osmand.js';
import { OsmAndQuerySchema } from '../../../schemas/apps/osmand.js';
import { MAX_POINT_BODY_BYTES } from '../../../ingest/limits.js';
import { StoredAnswerSchema } from '../../../schemas/location.js';
import { problem } from '../../problem.js';
import { bufferParser, decodeUtf8, MalformedBodyError, parseFormStrictly } from '../../strict-body.js';
import type { LocusApp, LocusDeps } from '../../types.js';
import { ingestRoute, invalid } from './ingest-route.js';
import { onePoint } from './location.js';

const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/**
 * The query parameters and, for a POST, the form parameters, in one list. Throws MalformedBodyError for a query
 * whose percent-encoding is not UTF-8.
 */
function paramsOf(request: FastifyRequest): URLSearchParams | null {
  // The raw query, not Fastify's parsed one: the mapping needs repeated and empty parameters as sent.
  const query = request.url.indexOf('?');
  const params = parseFormStrictly(query === -1 ? '' : request.url.slice(query + 1));
  if (request.body === undefined) return params;
  if (!(request.body instanceof URLSearchParams)) return null;
  for (const [name, value] of request.body) params.append(name, value);
  return params;
}

/** GET or POST /osmand: the OsmAnd / GPSLogger "custom URL" protocol, one point per request. */
export async function registerOsmAndRoutes(app: LocusApp, deps: LocusDeps): Promise<void> {
  // Encapsulated, so that form bodies are parsed for this route only.
  await app.register((scope: LocusApp, _options, registered) => {
    scope.addContentTypeParser(
      FORM_MEDIA_TYPE,
      { parseAs: 'buffer', bodyLimit: MAX_POINT_BODY_BYTES },
      bufferParser((body) => parseFormStrictly(decodeUtf8(body))),
    );
    ingestRoute(scope, deps, {
      method: ['GET', 'POST'],
      url: '/osmand',
      bodyLimit: MAX_POINT_BODY_BYTES,
      schema: {
        summary: 'OsmAnd / GPSLogger custom URL',
        description:
          'Parameters in the query string or, for a POST, a form body (GPSLogger’s %ALL). An empty parameter ' +
          'counts as not sent. Answers like PUT /location once the point is durable.',
        querystring: OsmAndQuerySchema,
      },
      answer: StoredAnswerSchema,
      read(request) {
        let params: URLSearchParams | null;
        try {
          params = paramsOf(request);
        } catch (error) {
          if (!(error instanceof MalformedBodyError)) throw error;
          const errors = [{ field: 'query', message: error.message }];
          return invalid('The query string cannot be read.', errors, 'invalid-parameter');
        }
        if (!params) {
          const detail = `Send the parameters in the query string, or as ${FORM_MEDIA_TYPE}.`;
          return { kind: 'refused', problem: problem('unsupported-media-type', detail) };
        }
        const composed = osmandToPoint(params, { oldestAcceptedMs: deps.oldestAcceptedMs() });
        if (!composed.ok) return invalid('The point cannot be stored.', composed.errors, 'invalid-parameter');
        return onePoint(composed.value);
      },
    });
    registered();
  });
}
