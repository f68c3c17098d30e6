import { ConfigError, type Config } from './config.js';
import { buildApp, type LocusApp } from './http/app.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export interface RunningServer {
  app: LocusApp;
  store: Store;
  /** Stops accepting, finishes in-flight requests and their commits, then closes the store. */
  close: () => Promise<void>;
}

function startPruning(app: LocusApp, store: Store, retentionMs: number): NodeJS.Timeout {
  const prune = () => {
    store
      .pruneDedupeKeys(Date.now() - retentionMs)
      .then((removed) => app.log.info({ removed }, 'pruned dedupe keys older than the retention window'))
      .catch((error: unknown) => app.log.warn({ err: error }, 'pruning dedupe keys failed; will retry'));
  };
  prune();
  return setInterval(prune, PRUNE_INTERVAL_MS).unref();
}

// The usual reasons a port cannot be had are the operator's to fix, so they are reported like a bad setting.
function listenProblem(error: unknown, config: Config): ConfigError | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return null;
  return new ConfigError('PORT', `cannot listen on ${config.host}:${config.port} (${code})`);
}

export async function startServer(config: Config): Promise<RunningServer> {
  const store = openStore(config.database);
  const app = await buildApp({
    store,
    retentionMs: config.retentionMs,
    logger: { level: config.logLevel },
  });
  const pruning = config.retentionMs === null ? null : startPruning(app, store, config.retentionMs);
  const close = async () => {
    if (pruning) clearInterval(pruning);
    await app.close();
    await store.close();
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await close();
    throw listenProblem(error, config) ?? error;
  }
  app.log.info({ database: config.databaseUrl, dedupeRetentionMs: config.retentionMs }, 'Locus is ready');
  return { app, store, close };
}
