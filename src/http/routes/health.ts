import { Type } from '@sinclair/typebox';
import { ProblemSchema } from '../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../types.js';
import { problem, sendProblem } from '../problem.js';

const StatusSchema = Type.Object({ status: Type.String() });

export function registerHealthRoutes(app: LocusApp, deps: LocusDeps): void {
  app.get(
    '/healthz',
    { schema: { summary: 'The process is up', security: [], response: { 200: StatusSchema } } },
    () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The database answers, and the MQTT broker is connected when one is configured',
        security: [],
        response: { 200: StatusSchema, 503: ProblemSchema },
      },
    },
    async (_request, reply) => {
      await deps.store.health();
      const reason = deps.notReadyReason();
      if (reason) return sendProblem(reply, problem('not-ready', reason));
      return { status: 'ready' };
    },
  );
}
