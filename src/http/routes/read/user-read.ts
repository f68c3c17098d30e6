/*
 * What every read of one user's minutes starts with (its locations, exports, track): the user the path names, in
 * the form it is stored under, that the token may read, and the range of the query.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { normalUserId } from '../../../schemas/ajv.js';
import { COMMON_PROBLEMS, ProblemSchema } from '../../../schemas/problem.js';
import type { MinuteRange } from '../../../store/store.js';
import { authProblems, refuseForeignRead, type AuthFlags } from '../../plugins/auth.js';
import { sendProblem } from '../../problem.js';
import { parseInstant } from '../../../ingest/timestamp.js';
import type { Problem } from '../../../schemas/problem.js';
import { problem } from '../../problem.js';

/**
 * The user and range of a read, or the reply already sent: 403 for a user the token may not read, 400 for a range
 * that ends before it starts.
 */
export function userReadOf(
  request: FastifyRequest & { params: { user_id: string }; query: { from?: string; to?: string } },
  reply: FastifyReply,
): { userId: string; range: MinuteRange } | FastifyReply {
  // A user is stored under its id in Unicode NFC (src/ingest/compose.ts): a path may name it in any form.
  const userId = normalUserId(request.params.user_id);
  const refused = refuseForeignRead(request, reply, userId);
  if (refused) return refused;
  const range = rangeFromQuery(request.query);
  if (isProblem(range)) return sendProblem(reply, range);
  return { userId, range };
}

/** The answers of a read of one user: `ok`, and the problems any such read may answer. */
export function userReadResponses<T extends TSchema | object>(ok: T, flags: Partial<AuthFlags>) {
  return {
    200: ok,
    400: ProblemSchema,
    404: ProblemSchema,
    ...authProblems(flags),
    ...COMMON_PROBLEMS,
  };
}

/** `from`/`to` of a query, already checked by the `instant` format, as a range; a problem when it is empty. */
export function rangeFromQuery(query: { from?: string; to?: string }): MinuteRange | Problem {
  const fromMs = query.from === undefined ? undefined : (parseInstant(query.from) ?? undefined);
  const toMs = query.to === undefined ? undefined : (parseInstant(query.to) ?? undefined);
  if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) {
    return problem('invalid-parameter', 'The range ends before it starts.', [
      { field: 'to', message: 'must not be before from' },
    ]);
  }
  return { fromMs, toMs };
}

function isProblem(value: MinuteRange | Problem): value is Problem {
  return 'status' in value;
}
