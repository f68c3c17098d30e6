import type { TSchema } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { ItemError } from '../../../ingest/apps/fix.js';
import type { IngestOutcome, Point } from '../../../ingest/point.js';
import { COMMON_PROBLEMS, ProblemSchema, type Problem } from '../../../schemas/problem.js';
import { answerError, toProblem } from '../../errors.js';
import { authProblems, refuseForeignPoints } from '../../plugins/auth.js';
import { problem, sendProblem } from '../../problem.js';
import type { LocusApp, LocusDeps } from '../../types.js';

/*
 * What every ingest route shares. A route only reads its request into an Intake (with its format's mapper and the
 * one composer); this module answers it: the foreign-user refusal, the commit, the answer once the points are
 * durable, and the metrics of refused points, counted from the intake itself. A new ingest route is counted by
 * being built here; there is no list to keep.
 */

/** What a route made of one request. */
export type Intake<Answer> =
  /** The request's point (or its whole body) cannot be stored: answered 400, counted as one refused point. */
  | { kind: 'invalid'; problem: Problem }
  /** The request is refused as a whole (too large, wrong media type): answered, counted as no point. */
  | { kind: 'refused'; problem: Problem }
  /** Nothing to store (a message Locus ignores): answered at once. */
  | { kind: 'ignored'; answer: Answer }
  /** Points to store, the items refused on the way (counted once the points commit), and the answer to give. */
  | {
      kind: 'points';
      points: readonly Point[];
      rejected?: readonly ItemError[];
      answer: (outcomes: readonly IngestOutcome[]) => Answer;
    };

export interface IngestRouteSpec<Answer> {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  bodyLimit?: number;
  /** The API description of the route: summary, description, body or query schema, security. */
  schema: Record<string, unknown>;
  /** The 200 answer's schema. */
  answer: TSchema;
  /** Skips Fastify's validation of the body: the route's mapper and the composer check it, once. */
  ownValidation?: boolean;
  /** Reads the request into an intake: its payload through the format's mapper and the one composer. */
  read(request: FastifyRequest): Intake<Answer>;
}

/** A 400 answer for a point that cannot be stored: the composer's or the mapper's field errors. */
export function invalid(
  detail: string,
  errors: Problem['errors'],
  code: 'invalid-body' | 'invalid-parameter' = 'invalid-body',
) {
  return { kind: 'invalid', problem: problem(code, detail, errors) } as const;
}

function ingestErrorHandler(deps: LocusDeps) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    // A body that cannot be read or fails the route's schema is a point refused, like one the composer refuses.
    const answer = toProblem(error, request);
    if (answer.status === 400) deps.metrics.countRejectedPoint('http', answer.errors ?? []);
    answerError(answer, error, request, reply);
  };
}

async function answerIntake<Answer>(
  deps: LocusDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  intake: Intake<Answer>,
): Promise<Answer | FastifyReply> {
  switch (intake.kind) {
    case 'invalid':
      deps.metrics.countRejectedPoint('http', intake.problem.errors ?? []);
      return sendProblem(reply, intake.problem);
    case 'refused':
      return sendProblem(reply, intake.problem);
    case 'ignored':
      return intake.answer;
    case 'points': {
      // One foreign point refuses the whole request, before anything of it is stored.
      const refused = refuseForeignPoints(
        request,
        reply,
        intake.points.map((p) => p.userId),
      );
      if (refused) return refused;
      const outcomes = intake.points.length > 0 ? await deps.committer.submit(intake.points) : [];
      for (const item of intake.rejected ?? []) deps.metrics.countRejectedPoint('http', item.errors);
      return intake.answer(outcomes);
    }
  }
}

/** Registers an ingest route on `scope` (the app, or a scope with the route's own body parsers). */
export function ingestRoute<Answer>(scope: LocusApp, deps: LocusDeps, spec: IngestRouteSpec<Answer>): void {
  scope.route({
    method: spec.method,
    url: spec.url,
    ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }),
    ...(spec.ownValidation ? { validatorCompiler: () => () => true } : {}),
    schema: {
      ...spec.schema,
      response: {
        200: spec.answer,
        400: ProblemSchema,
        413: ProblemSchema,
        415: ProblemSchema,
        ...authProblems(deps),
        ...COMMON_PROBLEMS,
      },
    },
    errorHandler: ingestErrorHandler(deps),
    handler: async (request, reply) => answerIntake(deps, request, reply, spec.read(request)),
  });
}
