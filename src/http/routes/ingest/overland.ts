import { MAX_BATCH_BYTES, MAX_BATCH_POINTS } from '../../../ingest/apps/locus-batch.js';
import { overlandToPoints } from '../../../ingest/apps/overland.js';
import {
  OverlandBodySchema,
  OverlandQuerySchema,
  OverlandResultSchema,
} from '../../../schemas/apps/overland.js';
import { COMMON_PROBLEMS, ProblemSchema } from '../../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../../app.js';
import { authProblems, refuseForeignPoints } from '../../plugins/auth.js';
import { problem, sendProblem } from '../../problem.js';

/** How many skipped points are logged in full; the rest are counted. */
const LOGGED_REJECTIONS = 10;

/** POST /overland: the batches of the Overland app, answered `{"result":"ok"}` once they are durable. */
export function registerOverlandRoutes(app: LocusApp, deps: LocusDeps): void {
  app.post(
    '/overland',
    {
      bodyLimit: MAX_BATCH_BYTES,
      schema: {
        summary: 'Overland (iOS) batch',
        description:
          'Stores the valid points and skips the invalid ones (logged, and counted in `rejected`), then answers ' +
          '`result: ok` once the points are durable; Overland resends a batch until it gets that. A point with ' +
          'neither a `device_id` nor a `?user=` to fall back on refuses the whole batch (400), so it is kept.',
        querystring: OverlandQuerySchema,
        body: OverlandBodySchema,
        response: {
          200: OverlandResultSchema,
          400: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          ...authProblems(deps),
          ...COMMON_PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const { locations } = request.body;
      if (locations.length > MAX_BATCH_POINTS) {
        const detail = `A batch holds at most ${MAX_BATCH_POINTS} points; lower Overland's points per batch.`;
        return sendProblem(reply, problem('body-too-large', detail));
      }
      const options = { oldestAcceptedMs: deps.oldestAcceptedMs() };
      const mapped = overlandToPoints(locations, request.query.user, options);
      if (!mapped.ok) {
        const detail =
          "Some points have no user: set Overland's device ID, or add ?user= to the endpoint URL.";
        return sendProblem(reply, problem('invalid-body', detail, mapped.errors));
      }
      const { points, rejected } = mapped.value;
      const refused = refuseForeignPoints(
        request,
        reply,
        points.map((p) => p.userId),
      );
      if (refused) return refused;
      if (rejected.length > 0) {
        const logged = rejected.slice(0, LOGGED_REJECTIONS);
        request.log.warn({ rejected: rejected.length, errors: logged }, 'Overland points skipped as invalid');
      }
      const outcomes = points.length > 0 ? await deps.committer.submit(points) : [];
      const stored = outcomes.filter((o) => o === 'stored').length;
      return {
        result: 'ok' as const,
        stored,
        duplicates: outcomes.length - stored,
        rejected: rejected.length,
      };
    },
  );
}
