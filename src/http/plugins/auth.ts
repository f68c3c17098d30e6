/*
 * Who may write and read. With authentication on, every request but the public ones carries a token: as
 * `Authorization: Bearer TOKEN`, as `?token=TOKEN` (apps that can only set a URL: OsmAnd, GPSLogger; and the
 * dashboard's event stream, since EventSource cannot set headers), or as the password of HTTP Basic credentials
 * (OwnTracks HTTP mode). A token belongs to one user, or is an admin token for every user; routes then refuse
 * points and reads of other users (403). With authentication off, every request may do everything.
 *
 * The optional rate limit counts requests per token, or per client address when there is no valid token.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { foreignUserIds, mayActAs, OPEN_ACCESS, type Access } from '../../auth/access.js';
import { TokenVerifier } from '../../auth/verifier.js';
import { ProblemSchema } from '../../schemas/problem.js';
import type { TokenStore } from '../../store/store.js';
import type { LocusApp } from '../types.js';
import { problem, sendProblem } from '../problem.js';
import { normalUserId } from '../../schemas/ajv.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What this request may do; null on a public route while authentication is on. */
    access: Access | null;
    /**
     * Until when the token check behind `access` holds (the app's clock): the end of the token's cache entry, after
     * which the token is looked up again. Null when no token was checked.
     */
    accessUntilMs: number | null;
  }
}

export interface AuthOptions {
  /** Require a token on every route but the public ones. */
  required: boolean;
  tokens: Pick<TokenStore, 'findByHash'>;
  /** How long a token lookup is trusted, so also how soon a revocation reaches a running server. Default 30 s. */
  tokenCacheTtlMs?: number;
  /** Most valid tokens remembered, and apart from them most refused ones. Default 10,000 each. */
  tokenCacheMaxEntries?: number;
  now?: () => number;
}

/** At most `max` requests per token (or client address) in each window of `windowMs`. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

/** Routes anyone may call: probes, the API description, and the dashboard's page (its data calls need a token). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  '/healthz',
  '/readyz',
  '/openapi.json',
  '/',
  '/assets/:name',
]);

/** Orchestrators probe these often, from one address; limiting them would restart healthy instances. */
const RATE_LIMIT_EXEMPT: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

const REALM = 'Bearer realm="locus"';

/** What the API description needs to know of authentication and the rate limit. */
export interface AuthFlags {
  authRequired: boolean;
  rateLimited: boolean;
}

/** The problems a protected route can answer besides its own, for its response schema and the API description. */
export function authProblems(flags: Partial<AuthFlags>) {
  return {
    ...(flags.authRequired ? { 401: ProblemSchema, 403: ProblemSchema } : {}),
    ...(flags.rateLimited ? { 429: ProblemSchema } : {}),
  };
}

/** The names of the security schemes in the API description (app.ts declares them). */
export const SECURITY = {
  bearer: 'bearerAuth',
  query: 'tokenQuery',
  basic: 'ownTracksBasic',
} as const;

interface Credentials {
  token: string;
  /** The user name of Basic credentials, which must be the token's user. */
  basicUser?: string;
}

function basicCredentials(encoded: string): Credentials | null {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const token = decoded.slice(colon + 1);
  return token === '' ? null : { token, basicUser: decoded.slice(0, colon) };
}

function headerCredentials(header: string | undefined): Credentials | null {
  const bearer = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
  if (bearer !== undefined) return { token: bearer };
  const basic = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header ?? '')?.[1];
  return basic === undefined ? null : basicCredentials(basic);
}

/** The token of a request: the Authorization header wins over `?token=`; a repeated `?token=` is no token. */
export function credentialsOf(request: FastifyRequest): Credentials | null {
  const fromHeader = headerCredentials(request.headers.authorization);
  if (fromHeader) return fromHeader;
  const query = request.url.indexOf('?');
  if (query === -1) return null;
  const tokens = new URLSearchParams(request.url.slice(query + 1)).getAll('token');
  return tokens.length === 1 && tokens[0] ? { token: tokens[0] } : null;
}

/**
 * OwnTracks takes the user from the Basic user name, so it must name the token's user; in `user/device` mode the
 * token belongs to `alice/phone` while the app's user name is `alice`. Admin tokens may name anyone.
 */
function basicUserMatches(basicUser: string, access: Access): boolean {
  // User ids are compared in Unicode NFC, the form points are stored under (src/ingest/compose.ts).
  const user = normalUserId(basicUser);
  return access.userId === null || user === access.userId || access.userId.startsWith(`${user}/`);
}

function unauthorized(reply: FastifyReply, detail: string, invalidToken: boolean): FastifyReply {
  reply.header('www-authenticate', invalidToken ? `${REALM}, error="invalid_token"` : REALM);
  return sendProblem(reply, problem('unauthorized', detail));
}

type Authenticated = { access: Access; untilMs: number } | { refuse: (reply: FastifyReply) => FastifyReply };

async function authenticate(request: FastifyRequest, verifier: TokenVerifier): Promise<Authenticated> {
  const credentials = credentialsOf(request);
  if (!credentials) {
    return {
      refuse: (reply) =>
        unauthorized(reply, 'Send a token: Authorization: Bearer TOKEN, or ?token=TOKEN.', false),
    };
  }
  const verified = await verifier.check(credentials.token);
  if (!verified) {
    return { refuse: (reply) => unauthorized(reply, 'The token is not valid (unknown or revoked).', true) };
  }
  const { access, untilMs } = verified;
  if (credentials.basicUser !== undefined && !basicUserMatches(credentials.basicUser, access)) {
    return {
      refuse: (reply) =>
        unauthorized(reply, 'The user name of the Basic credentials is not the token’s user.', true),
    };
  }
  return { access, untilMs };
}

type Limiter = ReturnType<LocusApp['createRateLimit']>;

async function installRateLimit(app: LocusApp, limit: RateLimit): Promise<Limiter> {
  // global: false, so the plugin adds no hooks of its own: the one hook below runs it after authentication,
  // which the key needs, and answers 429 itself, as problem+json.
  await app.register(rateLimit, { global: false, cache: 10_000 });
  return app.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: (request) =>
      request.access?.tokenId ? `token:${request.access.tokenId}` : `ip:${request.ip}`,
  });
}

/** Answers 429 when the request is over the limit; sets the limit headers either way. */
async function applyRateLimit(limiter: Limiter, request: FastifyRequest, reply: FastifyReply) {
  const result = await limiter(request);
  if (result.isAllowed) return null;
  reply
    .header('x-ratelimit-limit', result.max)
    .header('x-ratelimit-remaining', result.remaining)
    .header('x-ratelimit-reset', result.ttlInSeconds);
  if (!result.isExceeded) return null;
  reply.header('retry-after', result.ttlInSeconds);
  const detail = `At most ${result.max} requests per ${result.timeWindow / 1000} s; retry in ${result.ttlInSeconds} s.`;
  return sendProblem(reply, problem('rate-limited', detail));
}

/** Adds authentication and the rate limit to every route registered after it. */
export async function installAuth(app: LocusApp, auth: AuthOptions, limit: RateLimit | null): Promise<void> {
  app.decorateRequest('access', null);
  app.decorateRequest('accessUntilMs', null);
  const verifier = new TokenVerifier(auth.tokens, {
    ttlMs: auth.tokenCacheTtlMs,
    maxEntries: auth.tokenCacheMaxEntries,
    now: auth.now,
  });
  const limiter = limit ? await installRateLimit(app, limit) : null;
  if (!auth.required && !limiter) {
    // The quick start's case: nothing to check, and no promise per request on the ingest path.
    app.addHook('onRequest', (request, _reply, done) => {
      request.access = OPEN_ACCESS;
      done();
    });
    return;
  }
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url ?? '';
    const needsToken = auth.required && !PUBLIC_ROUTES.has(route);
    const authenticated: Authenticated | null = needsToken ? await authenticate(request, verifier) : null;
    if (!auth.required) request.access = OPEN_ACCESS;
    else if (authenticated && 'access' in authenticated) {
      request.access = authenticated.access;
      request.accessUntilMs = authenticated.untilMs;
    }
    // Counted before a refusal, so that a client guessing tokens is limited by its address.
    if (limiter && !RATE_LIMIT_EXEMPT.has(route)) {
      const limited = await applyRateLimit(limiter, request, reply);
      if (limited) return limited;
    }
    if (authenticated && 'refuse' in authenticated) return authenticated.refuse(reply);
  });
}

/** What the request may do; only for routes that are not public (the hook has set it). */
export function accessOf(request: FastifyRequest): Access {
  if (!request.access)
    throw new Error(`${request.routeOptions.url ?? request.url.split('?', 1)[0]} was reached without access`);
  return request.access;
}

/** How many foreign user ids a 403 names; a batch could hold thousands. */
const NAMED_FOREIGN_USERS = 10;

/**
 * Answers 403 when `userIds` (of the points a request would store) include a user the token may not write as, and
 * returns the reply; returns null when all are allowed. Called before anything is stored, so nothing is.
 */
export function refuseForeignPoints(
  request: FastifyRequest,
  reply: FastifyReply,
  userIds: Iterable<string>,
): FastifyReply | null {
  const access = accessOf(request);
  const foreign = foreignUserIds(access, userIds);
  if (foreign.length === 0) return null;
  const named = foreign.slice(0, NAMED_FOREIGN_USERS);
  const more = foreign.length - named.length;
  const list = named.map((u) => JSON.stringify(u)).join(', ') + (more > 0 ? ` and ${more} more` : '');
  const detail = `The token may write only user ${JSON.stringify(access.userId)}; the request has points of ${list}. Nothing was stored.`;
  const errors = named.map((u) => ({
    field: 'user_id',
    message: `${JSON.stringify(u)} is not the token’s user`,
  }));
  return sendProblem(reply, problem('forbidden', detail, errors));
}

/** Answers 403 when the request may not read `userId`'s data, and returns the reply; null when it may. */
export function refuseForeignRead(
  request: FastifyRequest,
  reply: FastifyReply,
  userId: string,
): FastifyReply | null {
  const access = accessOf(request);
  if (mayActAs(access, userId)) return null;
  const detail = `The token may read only user ${JSON.stringify(access.userId)}, not ${JSON.stringify(userId)}.`;
  return sendProblem(reply, problem('forbidden', detail));
}

/** The members of `items` whose user the request may read. */
export function visibleTo<T extends { userId: string }>(access: Access, items: readonly T[]): T[] {
  return access.userId === null ? [...items] : items.filter((item) => item.userId === access.userId);
}
