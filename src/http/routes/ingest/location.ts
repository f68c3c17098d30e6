import { Type } from '@sinclair/typebox';
import { composePoint } from '../../../ingest/compose.js';
import { MAX_POINT_BODY_BYTES } from '../../../ingest/limits.js';
import type { IngestOutcome, Point } from '../../../ingest/point.js';
import { LocationSchema, StoredAnswerSchema } from '../../../schemas/location.js';
import { minuteOf } from '../../../store/minutes.js';
import type { LocusApp, LocusDeps } from '../../types.js';
import { ingestRoute, invalid, type Intake } from './ingest-route.js';

/** The answer for one point once it is durable: PUT /location's, and that of the one-point app formats. */
export function storedAnswer(point: Point) {
  return ([outcome]: readonly IngestOutcome[]) => {
    if (!outcome) throw new Error('the store returned no outcome for the point');
    return {
      status: outcome,
      user_id: point.userId,
      timestamp_utc: new Date(point.tsMs).toISOString(),
      minute: new Date(minuteOf(point.tsMs)).toISOString(),
    };
  };
}

/** One point to store, answered as PUT /location answers. */
export function onePoint(point: Point): Intake<ReturnType<ReturnType<typeof storedAnswer>>> {
  return { kind: 'points', points: [point], answer: storedAnswer(point) };
}

export function registerLocationRoutes(app: LocusApp, deps: LocusDeps): void {
  ingestRoute(app, deps, {
    method: 'PUT',
    url: '/location',
    bodyLimit: MAX_POINT_BODY_BYTES,
    // The body is a RawFix as it arrives: the composer checks it, parsing its timestamp once. The schema only
    // describes it.
    ownValidation: true,
    schema: {
      summary: 'Store one location point',
      description:
        'Answers 200 only after the point is durable. The first point for a (user_id, UTC instant) wins; ' +
        'later ones are answered `duplicate` and change nothing.',
      body: Type.Unsafe<unknown>(LocationSchema),
    },
    answer: StoredAnswerSchema,
    read(request) {
      const composed = composePoint(request.body, {
        rules: 'put',
        oldestAcceptedMs: deps.oldestAcceptedMs(),
      });
      if (composed.ok) return onePoint(composed.value);
      return invalid(`${composed.errors.length} field(s) of the body are not valid.`, composed.errors);
    },
  });
}
