import type { FastifyRequest } from 'fastify';
import { osmandToPoint } from '../../../ingest/apps/osmand.js';
import { OsmAndQuerySchema } from '../../../schemas/apps/osmand.js';
import { StoredAnswerSchema } from '../../../schemas/location.js';
import { COMMON_PROBLEMS, ProblemSchema } from '../../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../../app.js';
import { authProblems, refuseForeignPoints } from '../../plugins/auth.js';
import { problem, sendProblem } from '../../problem.js';
import { decodeUtf8, MalformedBodyError, parseFormStrictly } from '../../strict-body.js';
import { storeOnePoint } from './location.js';

const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
const FORM_BODY_LIMIT = 64 * 1024;

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
      { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT },
      (_request, body: Buffer, done) => {
        try {
          done(null, parseFormStrictly(decodeUtf8(body)));
        } catch (error) {
          done(error as Error);
        }
      },
    );
    scope.route({
      method: ['GET', 'POST'],
      url: '/osmand',
      schema: {
        summary: 'OsmAnd / GPSLogger custom URL',
        description:
          'Parameters in the query string or, for a POST, a form body (GPSLogger’s %ALL). An empty parameter ' +
          'counts as not sent. Answers like PUT /location once the point is durable.',
        querystring: OsmAndQuerySchema,
        response: {
          200: StoredAnswerSchema,
          400: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          ...authProblems(deps),
          ...COMMON_PROBLEMS,
        },
      },
      handler: async (request, reply) => {
        let params: URLSearchParams | null;
        try {
          params = paramsOf(request);
        } catch (error) {
          if (!(error instanceof MalformedBodyError)) throw error;
          const errors = [{ field: 'query', message: error.message }];
          return sendProblem(reply, problem('invalid-parameter', 'The query string cannot be read.', errors));
        }
        if (!params) {
          const detail = `Send the parameters in the query string, or as ${FORM_MEDIA_TYPE}.`;
          return sendProblem(reply, problem('unsupported-media-type', detail));
        }
        const prepared = osmandToPoint(params, { oldestAcceptedMs: deps.oldestAcceptedMs() });
        if (!prepared.ok) {
          const detail = 'The point cannot be stored.';
          return sendProblem(reply, problem('invalid-parameter', detail, prepared.errors));
        }
        return (
          refuseForeignPoints(request, reply, [prepared.value.userId]) ?? storeOnePoint(deps, prepared.value)
        );
      },
    });
    registered();
  });
}
