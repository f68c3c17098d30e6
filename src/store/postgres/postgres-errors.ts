import pg from 'pg';
import { StoreUnavailableError } from '../store.js';

/*
 * Which PostgreSQL failures mean "not right now" (503, the client retries) rather than "a bug" (500). The split
 * mirrors the SQLite store's: conditions outside the program that retrying later can fix are unavailable; SQL
 * errors, constraint violations and anything unknown propagate unchanged so they are logged with their stack.
 */

/** Transaction conflicts that the store itself retries a few times before giving up with 503. */
const CONFLICT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** SQLSTATE classes (first two characters) that are all transient. */
const UNAVAILABLE_CLASSES = new Set([
  '08', // connection exception
  '53', // insufficient resources: disk full, out of memory, too many connections
  // The server refusing this connection, which the operator fixes outside Locus; until then every instance
  // answers 503 and fails /readyz rather than 500 with a stack, and the pool connects once it is fixed.
  '28', // invalid authorization: no such role (28000), wrong password (28P01), pg_hba.conf refuses
  '3D', // invalid catalog name: no such database (3D000), e.g. dropped or not created yet
  '57', // operator intervention: shutting down, starting up (57P03), database dropped (57P04), cancelled
]);

const UNAVAILABLE_CODES = new Set([
  ...CONFLICT_CODES, // only reached once the retries are used up
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown: another backend crashed and the server is resetting
  '57P03', // cannot_connect_now: the server is starting up or recovering
  '57014', // query_canceled: a statement_timeout set by the operator, or pg_cancel_backend()
  // object_not_in_prerequisite_state: what connecting answers while ALTER DATABASE … ALLOW_CONNECTIONS false
  // (or CONNECTION LIMIT 0) holds; none of Locus's statements can raise it otherwise. Not the whole class 55:
  // 55006 object_in_use, say, would be a bug of ours.
  '55000',
  '55P03', // lock_not_available: a lock_timeout set by the operator
  '25006', // read_only_sql_transaction: connected to a standby, e.g. mid-failover
  '58030', // io_error
]);

/** Socket and DNS failures, as Node reports them on `code`. */
const UNAVAILABLE_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND', // DNS: e.g. a container whose name is not resolvable yet
  'EAI_AGAIN',
]);

/*
 * TRICKY: node-postgres and pg-pool report these without a code, so their messages are all there is to go on.
 * Each one means the connection was lost or never made, never that the SQL was wrong.
 */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^timeout exceeded when trying to connect$/, // the pool's connectionTimeoutMillis
  /^Query read timeout$/, // the client's query_timeout: the server stopped answering
  /^Client has encountered a connection error and is not queryable$/,
];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isUnavailableSqlState(code: string): boolean {
  return UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CLASSES.has(code.slice(0, 2));
}

/** The error, its causes, and the errors of an AggregateError (Node's happy-eyeballs connect reports one). */
function* errorChain(error: unknown, depth = 0): Generator<unknown> {
  if (error === undefined || error === null || depth > 5) return;
  yield error;
  if (error instanceof AggregateError) {
    for (const inner of error.errors as unknown[]) yield* errorChain(inner, depth + 1);
  }
  if (error instanceof Error) yield* errorChain(error.cause, depth + 1);
}

function isUnavailable(error: unknown): boolean {
  for (const link of errorChain(error)) {
    const code = codeOf(link);
    if (link instanceof pg.DatabaseError) {
      if (code !== undefined && isUnavailableSqlState(code)) return true;
      continue;
    }
    if (code !== undefined && UNAVAILABLE_SYSTEM_CODES.has(code)) return true;
    if (link instanceof Error && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(link.message)))
      return true;
  }
  return false;
}

/** A deadlock or serialization failure: the whole transaction may simply be run again. */
export function isTransactionConflict(error: unknown): boolean {
  const code = error instanceof pg.DatabaseError ? error.code : undefined;
  return code !== undefined && CONFLICT_CODES.has(code);
}

/** A StoreUnavailableError for transient PostgreSQL failures; any other error is returned as it is. */
export function mapPostgresError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`PostgreSQL database unavailable${code ? ` (${code})` : ''}: ${message}`, {
    cause: error,
  });
}
