/*
 * The types every route and plugin is written against. They live apart from app.ts, which imports every route, so
 * that a route needs nothing from the module that registers it (no import cycle through the app).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { OwnTracksUserIdMode } from '../ingest/apps/owntracks.js';
import type { LocusMetrics } from '../metrics/registry.js';
import type { GroupCommitter } from '../store/group-commit.js';
import type { Store } from '../store/store.js';

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
  /** The ingest routes count the points they refuse here, from their own results. */
  metrics: LocusMetrics;
  /** The oldest event time still accepted (dedupe retention), or undefined when everything is kept. */
  oldestAcceptedMs: () => number | undefined;
  /** OwnTracks points belong to the user (`alice`) or to each of the user's devices (`alice/phone`). */
  owntracksUserId: OwnTracksUserIdMode;
  /** Why Locus cannot take points right now apart from the store (e.g. no MQTT broker), or null. */
  notReadyReason: () => string | null;
  /** Whether requests need a token (the API description says so). */
  authRequired: boolean;
  /** Whether requests are rate limited (the API description says so). */
  rateLimited: boolean;
}
