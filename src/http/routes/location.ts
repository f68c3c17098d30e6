import { Type } from '@sinclair/typebox';
import { minuteOf } from '../../pipeline/aggregate.js';
import { toPoint } from '../../pipeline/prepare.js';
import { LocationSchema } from '../../schemas/location.js';
import { COMMON_PROBLEMS, ProblemSchema } from '../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../app.js';
import { problem, sendProblem } from '../problem.js';

export const PUT_LOCATION_BODY_LIMIT = 64 * 1024;

const StoredSchema = Type.Object({
  status: Type.Union([Type.Literal('stored'), Type.Literal('duplicate')], {
    description: '`stored` the first time this (user_id, UTC instant) is seen; `duplicate` every later time.',
  }),
  user_id: Type.String(),
  timestamp_utc: Type.String({ format: 'date-time', examples: ['2017-01-01T18:05:12.000Z'] }),
  minute: Type.String({ format: 'date-time', examples: ['2017-01-01T18:05:00.000Z'] }),
});

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
          200: StoredSchema,
          400: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          ...COMMON_PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const prepared = toPoint(request.body, { oldestAcceptedMs: deps.oldestAcceptedMs() });
      if (!prepared.ok) {
        return sendProblem(reply, problem('invalid-body', 'The point cannot be stored.', prepared.errors));
      }
      const point = prepared.value;
      const [outcome] = await deps.committer.submit([point]);
      if (!outcome) throw new Error('the store returned no outcome for the point');
      return {
        status: outcome,
        user_id: point.userId,
        timestamp_utc: new Date(point.tsMs).toISOString(),
        minute: new Date(minuteOf(point.tsMs)).toISOString(),
      };
    },
  );
}
