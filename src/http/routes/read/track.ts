/*
 * A user's track for drawing: the minutes of a range merged into at most `max_points` buckets of whole minutes.
 * A bucket carries the means of every point in its minutes (from their exact sums), so a chart of a year shows
 * true averages, and a range short enough for one-minute buckets shows the stored minutes themselves.
 */
import { Type, type Static } from '@sinclair/typebox';
import { means, MINUTE_MS } from '../../../store/minutes.js';
import type { MinuteRange, Store, TrackBucket, UserSummary } from '../../../store/store.js';
import type { LocusApp } from '../../types.js';
import type { AuthFlags } from '../../plugins/auth.js';
import { problem, sendProblem } from '../../problem.js';
import { userReadOf, userReadResponses } from './user-read.js';
import { Instant, UserParamsSchema } from './users.js';

export const MAX_TRACK_POINTS = 10_000;
export const DEFAULT_TRACK_POINTS = 2_000;

const TrackQuerySchema = Type.Object({
  from: Type.Optional(
    Type.String({ format: 'instant', description: 'Inclusive; ISO 8601 date or date-time.' }),
  ),
  to: Type.Optional(
    Type.String({ format: 'instant', description: 'Exclusive; ISO 8601 date or date-time.' }),
  ),
  max_points: Type.Integer({ minimum: 2, maximum: MAX_TRACK_POINTS, default: DEFAULT_TRACK_POINTS }),
});

const TrackPointSchema = Type.Object({
  start: Instant('Start of the first minute merged into this point, UTC.'),
  end: Instant('End of the last minute merged into this point, UTC.'),
  minutes: Type.Integer({ description: 'Minutes with data merged into this point.' }),
  samples: Type.Integer({ description: 'Points averaged into it.' }),
  lat: Type.Number(),
  long: Type.Number(),
  accuracy: Type.Union([Type.Number(), Type.Null()]),
  speed: Type.Union([Type.Number(), Type.Null()]),
});

/** A point of the answer, as clients read it. */
export type TrackPoint = Static<typeof TrackPointSchema>;

/** The minutes of the user's data that lie in `range`: from its first to its last, or null when none can. */
export function dataSpan(user: UserSummary, range: MinuteRange): { firstMs: number; lastMs: number } | null {
  const firstMs = Math.max(
    user.firstMinuteMs,
    Math.ceil((range.fromMs ?? -Infinity) / MINUTE_MS) * MINUTE_MS,
  );
  // The last minute that starts before `to` (exclusive).
  const lastMs = Math.min(user.lastMinuteMs, Math.ceil((range.toMs ?? Infinity) / MINUTE_MS - 1) * MINUTE_MS);
  return firstMs <= lastMs ? { firstMs, lastMs } : null;
}

/**
 * The narrowest bucket, in whole minutes, that cuts `firstMs`…`lastMs` into at most `maxPoints` buckets aligned
 * on multiples of its width since the epoch: the same width over the same span gives the same buckets, whatever
 * range was asked for.
 */
export function bucketWidth(firstMs: number, lastMs: number, maxPoints: number): number {
  const spanMinutes = (lastMs - firstMs) / MINUTE_MS + 1;
  let width = Math.max(1, Math.ceil(spanMinutes / maxPoints)) * MINUTE_MS;
  const count = (w: number) => Math.floor(lastMs / w) - Math.floor(firstMs / w) + 1;
  while (count(width) > maxPoints) width += MINUTE_MS;
  return width;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function pointBody(bucket: TrackBucket) {
  const { samples, lat, long, accuracy, speed } = means(bucket.sums);
  return {
    start: iso(bucket.firstMinuteMs),
    end: iso(bucket.lastMinuteMs + MINUTE_MS),
    minutes: bucket.minutes,
    samples,
    lat,
    long,
    accuracy,
    speed,
  };
}

/** The buckets of `userId`'s data in `range`, and their width; null for a user without data. */
async function readTrack(
  store: Pick<Store, 'user' | 'track'>,
  userId: string,
  range: MinuteRange,
  maxPoints: number,
) {
  const user = await store.user(userId);
  if (user === null) return null;
  const span = dataSpan(user, range);
  if (span === null) return { bucketMs: MINUTE_MS, buckets: [] };
  const bucketMs = bucketWidth(span.firstMs, span.lastMs, maxPoints);
  const originMs = Math.floor(span.firstMs / bucketMs) * bucketMs;
  const buckets = await store.track(userId, range, { bucketMs, originMs });
  return buckets === null ? null : { bucketMs, buckets };
}

export interface TrackDeps extends Partial<AuthFlags> {
  store: Pick<Store, 'user' | 'track'>;
}

export function registerTrackRoute(app: LocusApp, deps: TrackDeps): void {
  app.get(
    '/users/:user_id/track',
    {
      schema: {
        summary: "A user's track for drawing, merged into at most max_points points",
        description:
          'Each point merges the minutes of one bucket (a whole number of minutes, the narrowest that keeps the ' +
          'count within max_points) and carries the means of all their points. With bucket_seconds 60 the ' +
          'points are the stored minutes.',
        params: UserParamsSchema,
        querystring: TrackQuerySchema,
        response: userReadResponses(
          Type.Object({
            user_id: Type.String(),
            bucket_seconds: Type.Integer(),
            points: Type.Array(TrackPointSchema),
          }),
          deps,
        ),
      },
    },
    async (request, reply) => {
      const read = userReadOf(request, reply);
      if (!('userId' in read)) return read;
      const { userId, range } = read;
      const track = await readTrack(deps.store, userId, range, request.query.max_points);
      if (track === null)
        return sendProblem(
          reply,
          problem('unknown-user', `There is no data for user ${JSON.stringify(userId)}.`),
        );
      return {
        user_id: userId,
        bucket_seconds: track.bucketMs / 1000,
        points: track.buckets.map(pointBody),
      };
    },
  );
}
