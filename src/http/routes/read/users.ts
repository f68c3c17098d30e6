import { Type } from '@sinclair/typebox';
import { means, type MinuteAggregate } from '../../../store/minutes.js';
import { COMMON_PROBLEMS, ProblemSchema } from '../../../schemas/problem.js';
import type { LocusApp, LocusDeps } from '../../types.js';
import { accessOf, authProblems } from '../../plugins/auth.js';
import type { Store, UserPage, UserPageRequest, UserSummary } from '../../../store/store.js';
import type { Access } from '../../../auth/access.js';
import { problem, sendProblem } from '../../problem.js';
import { FormatQuerySchema, negotiateFormat, sendExport } from './export.js';
import { userReadOf, userReadResponses } from './user-read.js';
import { isUserId } from '../../../schemas/ajv.js';

export const Instant = (description: string) => Type.String({ format: 'date-time', description });

const UserSummarySchema = Type.Object({
  user_id: Type.String(),
  minutes: Type.Integer(),
  samples: Type.Integer(),
  first_minute: Instant('First minute with data, UTC.'),
  last_minute: Instant('Last minute with data, UTC.'),
});

const MinuteSchema = Type.Object({
  minute: Instant('Start of the UTC minute.'),
  lat: Type.Number(),
  long: Type.Number({ description: 'Mean on the short arc: points straddling ±180° average near ±180°.' }),
  accuracy: Type.Union([Type.Number(), Type.Null()], {
    description: 'Mean over the points that reported it; null when none did.',
  }),
  speed: Type.Union([Type.Number(), Type.Null()], {
    description: 'Mean over the points that reported it; null when none did.',
  }),
  samples: Type.Integer({ description: 'Distinct points averaged into this minute.' }),
});

export const UserParamsSchema = Type.Object({
  user_id: Type.String({ format: 'user-id', minLength: 1, maxLength: 128 }),
});

export const MAX_PAGE = 10_000;

const UsersQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1000 }),
  cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page.' })),
  prefix: Type.Optional(
    Type.String({
      format: 'user-id-prefix',
      minLength: 1,
      maxLength: 128,
      description: 'Only users whose id begins with this, exactly (case-sensitive, in Unicode NFC).',
    }),
  ),
});

const LocationsQuerySchema = Type.Object({
  from: Type.Optional(
    Type.String({ format: 'instant', description: 'Inclusive; ISO 8601 date or date-time.' }),
  ),
  to: Type.Optional(
    Type.String({ format: 'instant', description: 'Exclusive; ISO 8601 date or date-time.' }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1000 }),
  cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page.' })),
  format: Type.Optional(FormatQuerySchema),
});

// The cursor is opaque to clients so that its encoding can change; today it is the last minute returned.
export function encodeCursor(minuteMs: number): string {
  return Buffer.from(`m:${minuteMs}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | null {
  const m = /^m:(-?\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const value = Number(m?.[1]);
  return m && Number.isSafeInteger(value) && encodeCursor(value) === cursor ? value : null;
}

// The user list's cursor: the last user id of the previous page.
function encodeUserCursor(userId: string): string {
  return Buffer.from(`u:${userId}`).toString('base64url');
}

function decodeUserCursor(cursor: string): string | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const userId = text.slice(2);
  return text.startsWith('u:') && isUserId(userId) && encodeUserCursor(userId) === cursor ? userId : null;
}

const FOREIGN_CURSOR = problem('invalid-parameter', 'The cursor was not issued by this API.', [
  { field: 'cursor', message: 'must be a next_cursor from a previous page' },
]);

/** The page a user token may see: its own user's row, when it is in the page asked for. */
function ownPage(own: UserSummary | null, page: UserPageRequest): UserPage {
  const inPage =
    own !== null &&
    (page.afterUserId === undefined || own.userId > page.afterUserId) &&
    own.userId.startsWith(page.prefix ?? '');
  return { users: inPage ? [own] : [], nextAfterUserId: null };
}

/** One page of the users `access` may read: one row for a user token, a page of the totals for the rest. */
async function visibleUsers(store: Store, access: Access, page: UserPageRequest): Promise<UserPage> {
  if (access.userId === null) return store.users(page);
  return ownPage(await store.user(access.userId), page);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A user's totals as GET /users and the live feed answer them. */
export function userBody(u: UserSummary) {
  return {
    user_id: u.userId,
    minutes: u.minutes,
    samples: u.samples,
    first_minute: iso(u.firstMinuteMs),
    last_minute: iso(u.lastMinuteMs),
  };
}

function minuteBody(row: MinuteAggregate) {
  const { samples, lat, long, accuracy, speed } = means(row.sums);
  return { minute: iso(row.minuteMs), lat, long, accuracy, speed, samples };
}

export function registerUserRoutes(app: LocusApp, deps: LocusDeps): void {
  app.get(
    '/users',
    {
      schema: {
        summary: 'The users with data, a page at a time (with a user token: only its user)',
        description:
          'Ordered by user id (by Unicode code point). Each user is read from totals kept as points are stored, ' +
          'so a page costs the same however long the histories are.',
        querystring: UsersQuerySchema,
        response: {
          200: Type.Object({
            users: Type.Array(UserSummarySchema),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ProblemSchema,
          ...authProblems(deps),
          ...COMMON_PROBLEMS,
        },
      },
    },
    async (request, reply) => {
      const { limit, cursor, prefix } = request.query;
      const afterUserId = cursor === undefined ? undefined : decodeUserCursor(cursor);
      if (afterUserId === null) return sendProblem(reply, FOREIGN_CURSOR);
      const page = await visibleUsers(deps.store, accessOf(request), {
        limit,
        afterUserId,
        // Ids are stored in NFC (src/ingest/compose.ts): a prefix typed in another form must still match.
        prefix: prefix === undefined ? undefined : prefix.normalize('NFC'),
      });
      return {
        users: page.users.map(userBody),
        next_cursor: page.nextAfterUserId === null ? null : encodeUserCursor(page.nextAfterUserId),
      };
    },
  );

  app.get(
    '/users/:user_id/locations',
    {
      schema: {
        summary: "A user's one-minute averages, ascending by minute",
        params: UserParamsSchema,
        querystring: LocationsQuerySchema,
        response: userReadResponses(
          Type.Object({
            user_id: Type.String(),
            locations: Type.Array(MinuteSchema),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          deps,
        ),
      },
    },
    async (request, reply) => {
      const read = userReadOf(request, reply);
      if (!('userId' in read)) return read;
      const { userId, range } = read;
      const { limit, cursor, format } = request.query;
      const afterMinuteMs = cursor === undefined ? undefined : decodeCursor(cursor);
      if (afterMinuteMs === null) return sendProblem(reply, FOREIGN_CURSOR);
      reply.header('vary', 'accept');
      const chosen = negotiateFormat(format, request.headers.accept);
      if (chosen !== 'json') return sendExport(reply, deps, userId, range, chosen);
      const page = await deps.store.minutes(userId, range, { limit, afterMinuteMs });
      if (!page)
        return sendProblem(
          reply,
          problem('unknown-user', `There is no data for user ${JSON.stringify(userId)}.`),
        );
      return {
        user_id: userId,
        locations: page.rows.map(minuteBody),
        next_cursor: page.nextAfterMinuteMs === null ? null : encodeCursor(page.nextAfterMinuteMs),
      };
    },
  );
}
