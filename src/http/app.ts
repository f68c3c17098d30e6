import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import type { OwnTracksUserIdMode } from '../ingest/apps/owntracks.js';
import { createAjv } from '../schemas/ajv.js';
import { GroupCommitter } from '../store/group-commit.js';
import type { Store } from '../store/store.js';
import { registerMetrics } from './plugins/metrics.js';
import { createMetrics, type LocusMetrics } from '../metrics/registry.js';
import { installAuth, SECURITY, type RateLimit } from './plugins/auth.js';
import {
  notFoundSecurityHeaders,
  registerCors,
  registerSecurityHeaders,
} from './plugins/browser-security.js';
import { clientErrorHandler, errorHandler } from './errors.js';
import {
  DEFAULT_OVERLOAD_LIMITS,
  registerOverloadShedding,
  type OverloadLimits,
} from './plugins/overload.js';
import { bufferParser, parseJsonBody } from './strict-body.js';
import { DEFAULT_SERVER_TIMEOUTS, timeoutOptions, type ServerTimeouts } from './plugins/timeouts.js';
import { notFoundHandler } from './not-found.js';
import { registerDashboard, type DashboardOptions } from './routes/read/dashboard.js';
import { registerLiveFeed, type LiveFeedOptions } from './routes/read/events.js';
import { registerExportRoutes } from './routes/read/export.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerIngestRoutes } from './routes/ingest/index.js';
import { registerTrackRoute } from './routes/read/track.js';
import { registerUserRoutes } from './routes/read/users.js';
import type { LocusApp, LocusDeps } from './types.js';

export interface AppAuthOptions {
  /** Require a token on every route but the health checks, the API description and the dashboard's page. */
  required: boolean;
  /**
   * How long a valid token is remembered; a revocation reaches the server (and its live feeds) within it. 30 s.
   * A refused token is remembered for 5 s, or this when shorter.
   */
  tokenCacheTtlMs?: number;
  /** Most valid tokens remembered, and apart from them most refused ones. Default 10,000 each. */
  tokenCacheMaxEntries?: number;
}

export interface AppOptions {
  store: Store;
  /** Dedupe retention window; null or absent keeps every key forever. */
  retentionMs?: number | null;
  logger?: FastifyServerOptions['logger'];
  now?: () => number;
  /** Shared with other ingest paths (the MQTT subscriber), so that all points go through one group commit. */
  committer?: GroupCommitter;
  /** User id of OwnTracks points: the OwnTracks user (default) or `user/device`. */
  owntracksUserId?: OwnTracksUserIdMode;
  /** Readiness beyond the store, for /readyz: a reason when not ready, null when ready. */
  notReadyReason?: () => string | null;
  /**
   * Dashboard settings: the base map (`tileUrl`, without which it draws a grid), where its assets are, and how
   * often its live feed polls and keeps idle streams open.
   */
  dashboard?: DashboardOptions &
    Pick<LiveFeedOptions, 'liveIntervalMs' | 'heartbeatMs' | 'maxFeeds' | 'maxFeedsPerToken'>;
  /** Tokens; off (anyone may do anything) when absent. */
  auth?: AppAuthOptions;
  /** Requests per token (per client address without one); none when absent or null. */
  rateLimit?: RateLimit | null;
  /** Prometheus metrics; a new set when absent. A `committer` passed in should report to `metrics.commitObserver`. */
  metrics?: LocusMetrics;
  /** When to refuse work with 503 rather than queue it. */
  overload?: OverloadLimits;
  /** Deadlines for slow or stalled clients. */
  timeouts?: ServerTimeouts;
  /** Origins whose web pages may call the API (CORS); none when absent. */
  corsOrigins?: readonly string[];
}

// Never log a token: not the Authorization header (redacted should anything log headers), and no query string
// in any request line (`?token=`).
const LOG_REDACT = ['req.headers.authorization', 'headers.authorization', 'authorization'];

function requestLogLine(request: { method: string; url: string; id: string }) {
  return { method: request.method, path: request.url.split('?', 1)[0], reqId: request.id };
}

function loggerOptions(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || typeof logger === 'boolean') return logger ?? false;
  return { ...logger, redact: LOG_REDACT, serializers: { req: requestLogLine, ...logger.serializers } };
}

function securitySchemes() {
  return {
    [SECURITY.bearer]: {
      type: 'http' as const,
      scheme: 'bearer',
      description: 'A token from `locus token create`, as `Authorization: Bearer TOKEN`.',
    },
    [SECURITY.query]: {
      type: 'apiKey' as const,
      in: 'query' as const,
      name: 'token',
      description:
        'The same token as a query parameter, for apps that can only set a URL (OsmAnd, GPSLogger).',
    },
    [SECURITY.basic]: {
      type: 'http' as const,
      scheme: 'basic',
      description: 'OwnTracks HTTP mode: the user name is the token’s user, the password is the token.',
    },
  };
}

// Bodies are checked strictly (no type coercion: "40.7" is not a number); query strings and path parameters are
// text by nature, so they are coerced and get their defaults.
function installValidators(app: LocusApp): void {
  const strict = createAjv('strict');
  const coercing = createAjv('coerce');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? strict.compile(schema) : coercing.compile(schema),
  );
}

function installBodyParsers(app: LocusApp): void {
  // Only JSON is accepted: anything else (text/plain included) is answered 415, not parsed as a string.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = bufferParser(parseJsonBody);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'buffer' }, parseJson);
}

export async function buildApp(options: AppOptions): Promise<LocusApp> {
  const app: LocusApp = Fastify({
    logger: loggerOptions(options.logger),
    ...timeoutOptions(options.timeouts ?? DEFAULT_SERVER_TIMEOUTS),
    // Keep-alive clients should not be cut while a commit is in flight; the server closes them on shutdown.
    forceCloseConnections: 'idle',
    // Requests on kept-alive connections during shutdown are answered by the overload plugin: problem+json with
    // Retry-After, rather than Fastify's plain 503.
    return503OnClosing: false,
    // A user id may be 128 characters, each up to 12 once percent-encoded (a 4-byte UTF-8 character).
    routerOptions: { maxParamLength: 128 * 12 },
    // Errors before routing (a path that is not UTF-8) are answered like every other: problem+json.
    frameworkErrors: (error, request, reply) => {
      errorHandler(error, request, reply);
    },
    clientErrorHandler,
    // A proxy's or client's request id ties their logs to ours.
    requestIdHeader: 'x-request-id',
    // One access line per request (below) instead of Fastify's two: at ingest rates logging is a real cost.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionMs ?? null;
  const metrics = options.metrics ?? createMetrics();
  const committer =
    options.committer ?? new GroupCommitter(options.store, { observer: metrics.commitObserver });
  metrics.watchCommitter(committer);
  const deps: LocusDeps = {
    store: options.store,
    committer,
    metrics,
    oldestAcceptedMs: () => (retentionMs === null ? undefined : now() - retentionMs),
    owntracksUserId: options.owntracksUserId ?? 'user',
    notReadyReason: options.notReadyReason ?? (() => null),
    authRequired: options.auth?.required ?? false,
    rateLimited: Boolean(options.rateLimit),
  };

  installValidators(app);
  registerMetrics(app, metrics);
  registerOverloadShedding(app, () => committer.pending, options.overload ?? DEFAULT_OVERLOAD_LIMITS);
  registerSecurityHeaders(app);
  await registerCors(app, options.corsOrigins ?? []);
  app.addHook('onResponse', (request, reply, done) => {
    // The path without its query string: queries may carry tokens, and logs must not.
    const path = request.url.split('?', 1)[0];
    request.log.info(
      { method: request.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
    done();
  });
  installBodyParsers(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler({ preHandler: notFoundSecurityHeaders }, notFoundHandler(app));
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Locus',
        version: '0.1.0',
        description: 'Location telemetry: exact one-minute averages per user, stored in UTC.',
      },
      components: { securitySchemes: securitySchemes() },
      ...(deps.authRequired ? { security: [{ [SECURITY.bearer]: [] }, { [SECURITY.query]: [] }] } : {}),
    },
  });
  await installAuth(
    app,
    {
      required: deps.authRequired,
      tokens: options.store.tokens,
      tokenCacheTtlMs: options.auth?.tokenCacheTtlMs,
      tokenCacheMaxEntries: options.auth?.tokenCacheMaxEntries,
      now: options.now,
    },
    options.rateLimit ?? null,
  );
  await registerIngestRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerExportRoutes(app, deps);
  registerTrackRoute(app, deps);
  registerDashboard(app, options.dashboard ?? {});
  registerLiveFeed(app, {
    store: options.store,
    liveIntervalMs: options.dashboard?.liveIntervalMs,
    heartbeatMs: options.dashboard?.heartbeatMs,
    maxFeeds: options.dashboard?.maxFeeds,
    maxFeedsPerToken: options.dashboard?.maxFeedsPerToken,
    authRequired: deps.authRequired,
    rateLimited: deps.rateLimited,
    tokenStreamMaxMs: options.auth?.tokenCacheTtlMs,
    now: options.now,
  });
  registerHealthRoutes(app, deps);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // Requests already answered have committed; this waits for the ones whose commit is still in flight.
  app.addHook('onClose', () => deps.committer.drain());
  return app;
}
