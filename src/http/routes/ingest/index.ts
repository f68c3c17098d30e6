import type { LocusApp, LocusDeps } from '../../types.js';
import { registerLocationRoutes } from './location.js';
import { registerBatchRoutes } from './locations-batch.js';
import { registerOsmAndRoutes } from './osmand.js';
import { registerOverlandRoutes } from './overland.js';
import { registerOwnTracksRoutes } from './owntracks.js';

/*
 * Every door over HTTP. A door is its payload's mapper (src/ingest/apps/), a route file here built with
 * ingestRoute (ingest-route.ts), and one line in this list.
 */
const INGEST_ROUTES: ReadonlyArray<(app: LocusApp, deps: LocusDeps) => void | Promise<void>> = [
  registerLocationRoutes,
  registerBatchRoutes,
  registerOwnTracksRoutes,
  registerOverlandRoutes,
  registerOsmAndRoutes,
];

export async function registerIngestRoutes(app: LocusApp, deps: LocusDeps): Promise<void> {
  for (const register of INGEST_ROUTES) await register(app, deps);
}
