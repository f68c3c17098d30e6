import { Type, type Static } from '@sinclair/typebox';

export const FieldErrorSchema = Type.Object({
  field: Type.String({ description: 'The property at fault, or `body` for the body as a whole.' }),
  message: Type.String(),
});

/** RFC 9457 problem details, with Locus's per-field `errors`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI reference naming the kind of problem.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { description: 'application/problem+json (RFC 9457)' },
);

export type Problem = Static<typeof ProblemSchema>;

/** The statuses every route may answer with a problem. */
export const COMMON_PROBLEMS = { 500: ProblemSchema, 503: ProblemSchema };
