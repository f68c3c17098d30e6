import type { Static } from '@sinclair/typebox';
import { overlandToPoints } from '../../../ingest/apps/overland.js';
import { MAX_BATCH_BYTES, MAX_BATCH_POINTS } from '../../../ingest/limits.js';
import {
  OverlandBodySchema,
  OverlandQuerySchema,
  OverlandResultSchema,
} from '../../../schemas/apps/overland.js';
import { problem } from '../../problem.js';
import type { LocusApp, LocusDeps } from '../../types.js';
import { ingestRoute, invalid } from './ingest-route.js';

/** How many skipped points are logged in full; the rest are counted. */
const LOGGED_REJECTIONS = 10;

/** POST /overland: the batches of the Overland app, answered `{"result":"ok"}` once they are durable. */
export function registerOverlandRoutes(app: LocusApp, deps: LocusDeps): void {
  ingestRoute(app, deps, {
    method: 'POST',
    url: '/overland',
    bodyLimit: MAX_BATCH_BYTES,
    schema: {
      summary: 'Overland (iOS) batch',
      description:
        'Stores the valid points and skips the invalid ones (logged, and counted in `rejected`), then answers ' +
        '`result: ok` once the points are durable; Overland resends a batch until it gets that. A point with ' +
        'neither a `device_id` nor a `?user=` to fall back on refuses the whole batch (400), so it is kept.',
      querystring: OverlandQuerySchema,
      body: OverlandBodySchema,
    },
    answer: OverlandResultSchema,
    read(request) {
      // Fastify has checked both against the schemas above.
      const { locations } = request.body as Static<typeof OverlandBodySchema>;
      const { user } = request.query as Static<typeof OverlandQuerySchema>;
      if (locations.length > MAX_BATCH_POINTS) {
        const detail = `A batch holds at most ${MAX_BATCH_POINTS} points; lower Overland's points per batch.`;
        return { kind: 'refused', problem: problem('body-too-large', detail) };
      }
      const mapped = overlandToPoints(locations, user, { oldestAcceptedMs: deps.oldestAcceptedMs() });
      if (!mapped.ok) {
        const detail =
          "Some points have no user: set Overland's device ID, or add ?user= to the endpoint URL.";
        return invalid(detail, mapped.errors);
      }
      const { points, rejected } = mapped.value;
      if (rejected.length > 0) {
        const logged = rejected.slice(0, LOGGED_REJECTIONS);
        request.log.warn({ rejected: rejected.length, errors: logged }, 'Overland points skipped as invalid');
      }
      return {
        kind: 'points',
        points,
        rejected,
        answer(outcomes) {
          const stored = outcomes.filter((o) => o === 'stored').length;
          return {
            result: 'ok' as const,
            stored,
            duplicates: outcomes.length - stored,
            rejected: rejected.length,
          };
        },
      };
    },
  });
}
