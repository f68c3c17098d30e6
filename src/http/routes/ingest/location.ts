import { minuteOf } from '../../../store/minutes.js';
import { toPoint } from '../../../ingest/compose.js';
import type { Point } from '../../../ingest/point.js';
import { LocationSchema, StoredAnswerSchema } from '../../../schemas/location.js';
import { COMMON_PROBLEMS, ProblemSchema } from '../../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../../app.js';
import { authProblems, refuseForeignPoints } from '../../plugins/auth.js';
import { problem, sendProblem } from '../../problem.js';

export const PUT_LOCATION_BODY_LIMIT = 64 * 1024;

export function registerLocationRoutes(app: LocusApp, deps: LocusDeps): void {
  app.put(
    '/location',
    {
      bodyLimit: PUT_LOCATION_BODY_LIMIT,
      schema: {
        summary: 'Store one location point',
        description:
          'Answers 200 only after the point is durable. The first point for a (user_id, UTC instant) wins; ' +
          'later ones are answered `duplicate` and change nothing.',
        body: LocationSchema,
        response: {
          200: StoredAnswerSchema,
          400: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          ...authProblems(deps),
          ...COMMON_PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const prepared = toPoint(request.body, { oldestAcceptedMs: deps.oldestAcceptedMs() });
      if (!prepared.ok) {
        return sendProblem(reply, problem('invalid-body', 'The point cannot be stored.', prepared.errors));
      }
      return (
        refuseForeignPoints(request, reply, [prepared.value.userId]) ?? storeOnePoint(deps, prepared.value)
      );
    },
  );
}

/** Commits one point and says what became of it: the answer of PUT /location and of the one-point app formats. */
export async function storeOnePoint(deps: LocusDeps, point: Point) {
  const [outcome] = await deps.committer.submit([point]);
  if (!outcome) throw new Error('the store returned no outcome for the point');
  return {
    status: outcome,
    user_id: point.userId,
    timestamp_utc: new Date(point.tsMs).toISOString(),
    minute: new Date(minuteOf(point.tsMs)).toISOString(),
  };
}
