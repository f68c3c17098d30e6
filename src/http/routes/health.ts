import { Type } from '@sinclair/typebox';
import { ProblemSchema } from '../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../app.js';

const StatusSchema = Type.Object({ status: Type.String() });

export function registerHealthRoutes(app: LocusApp, deps: LocusDeps): void {
  app.get('/healthz', { schema: { summary: 'The process is up', response: { 200: StatusSchema } } }, () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    {
      schema: { summary: 'The database answers', response: { 200: StatusSchema, 503: ProblemSchema } },
    },
    async () => {
      await deps.store.health();
      return { status: 'ready' };
    },
  );
}
