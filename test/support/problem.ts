import assert from 'node:assert/strict';

/** An answer as `app.inject()` gives it. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** An RFC 9457 problem as Locus answers it, with its per-field errors. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

/**
 * Asserts that `response` is a problem+json answer with `status`: the status line and the `status` member agree,
 * `type`, `title` and `detail` are text, `type` is `/problems/<type>` when given, and the per-field errors name
 * `fields` in order when given. Returns the body for further checks.
 */
export function assertProblem(
  response: Answer,
  status: number,
  type?: string,
  fields?: readonly string[],
): ProblemBody {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.equal(body.status, status, 'the status member matches the status line');
  for (const key of ['type', 'title', 'detail']) assert.equal(typeof body[key], 'string', key);
  assert.notEqual(body.title, '', 'title');
  if (type !== undefined) assert.equal(body.type, `/problems/${type}`);
  const problem = body as unknown as ProblemBody;
  if (fields !== undefined) {
    assert.deepEqual(
      problem.errors?.map((error) => error.field),
      fields,
    );
  }
  return problem;
}
