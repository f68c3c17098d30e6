import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { OwnTracksUserIdMode } from '../pipeline/formats/owntracks.js';
import { createAjv } from '../schemas/ajv.js';
import { GroupCommitter } from '../store/group-commit.js';
import type { Store } from '../store/store.js';
import { errorHandler } from './errors.js';
import { problem, sendProblem } from './problem.js';
import { registerDashboard, type DashboardOptions } from './routes/dashboard.js';
import { registerExportRoutes } from './routes/export.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLocationRoutes } from './routes/location.js';
import { registerBatchRoutes } from './routes/locations-batch.js';
import { registerOsmAndRoutes } from './routes/osmand.js';
import { registerOverlandRoutes } from './routes/overland.js';
import { registerOwnTracksRoutes } from './routes/owntracks.js';
import { registerUserRoutes } from './routes/users.js';

export type LocusApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What the routes need, built once per app. */
export interface LocusDeps {
  store: Store;
  committer: GroupCommitter;
  /** The oldest event time still accepted (dedupe retention), or undefined when everything is kept. */
  oldestAcceptedMs: () => number | undefined;
  /** OwnTracks points belong to the user (`alice`) or to each of the user's devices (`alice/phone`). */
  owntracksUserId: OwnTracksUserIdMode;
  /** Why Locus cannot take points right now apart from the store (e.g. no MQTT broker), or null. */
  notReadyReason: () => string | null;
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
  /** Dashboard settings: the base map (`tileUrl`, without which it draws a grid), where its assets are. */
  dashboard?: Omit<DashboardOptions, 'store'>;
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
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    /^application\/[\w.+-]+\+json$/,
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
}

export async function buildApp(options: AppOptions): Promise<LocusApp> {
  const app: LocusApp = Fastify({
    logger: options.logger ?? false,
    // Keep-alive clients should not be cut while a commit is in flight; the server closes them on shutdown.
    forceCloseConnections: 'idle',
    // A proxy's or client's request id ties their logs to ours.
    requestIdHeader: 'x-request-id',
    // One access line per request (below) instead of Fastify's two: at ingest rates logging is a real cost.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionMs ?? null;
  const deps: LocusDeps = {
    store: options.store,
    committer: options.committer ?? new GroupCommitter(options.store),
    oldestAcceptedMs: () => (retentionMs === null ? undefined : now() - retentionMs),
    owntracksUserId: options.owntracksUserId ?? 'user',
    notReadyReason: options.notReadyReason ?? (() => null),
  };

  installValidators(app);
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
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('not-found', `${request.method} ${request.url} is not a Locus endpoint.`)),
  );
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Locus',
        version: '0.1.0',
        description: 'Location telemetry: exact one-minute averages per user, stored in UTC.',
      },
    },
  });
  registerLocationRoutes(app, deps);
  await registerBatchRoutes(app, deps);
  await registerOwnTracksRoutes(app, deps);
  registerOverlandRoutes(app, deps);
  await registerOsmAndRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerExportRoutes(app, deps);
  registerDashboard(app, { ...options.dashboard, store: options.store });
  registerHealthRoutes(app, deps);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // Requests already answered have committed; this waits for the ones whose commit is still in flight.
  app.addHook('onClose', () => deps.committer.drain());
  return app;
}
