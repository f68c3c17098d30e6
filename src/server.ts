import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError, type Config } from './config.js';
import { buildApp } from './http/app.js';
import type { LocusApp } from './http/types.js';
import type { MqttIngest } from './mqtt/owntracks-ingest.js';
import { createMetrics } from './metrics/registry.js';
import { GroupCommitter } from './store/group-commit.js';
import { openStore } from './store/backends.js';
import type { Store } from './store/store.js';

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export interface RunningServer {
  app: LocusApp;
  store: Store;
  /** Stops accepting, finishes in-flight requests and their commits, then closes the store. */
  close: () => Promise<void>;
}

const LOG_FLUSH_INTERVAL_MS = 1000;

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

/*
 * Every connection holds a file descriptor. Past the process's limit (RLIMIT_NOFILE; 1024 by default under
 * systemd) nothing can open a file: not the database, not a log, not /proc for a metric. So connections are
 * bounded below the limit, leaving the rest for what Locus itself opens; Node closes a connection beyond the
 * bound as soon as it is accepted.
 */
/** Descriptors kept for all but client connections: the database and its WAL, the writer thread, logs, MQTT. */
const RESERVED_DESCRIPTORS = 64;
/** The fewest connections allowed, however low the limit: a server that takes none is of no use. */
const MIN_CONNECTIONS = 16;

/** The soft limit on open files (Linux, from /proc/self/limits); null when unknown or unlimited. */
export function softFileLimit(limits?: string): number | null {
  let text = limits;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const value = Number(soft);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** How many connections to take at once under a soft file limit; null (unbounded) when there is none. */
export function connectionBound(fileLimit: number | null): number | null {
  if (fileLimit === null) return null;
  return Math.max(MIN_CONNECTIONS, fileLimit - RESERVED_DESCRIPTORS);
}

/** Bounds the server's connections by the file limit; returns the bound, null for none. */
function boundConnections(app: LocusApp): number | null {
  const bound = connectionBound(softFileLimit());
  if (bound !== null) app.server.maxConnections = bound;
  return bound;
}

/**
 * A listening server's errors are failed accepts (EMFILE when something else used the descriptors up): that one
 * connection is lost, the server goes on. Without a listener the error would end the process.
 */
function surviveFailedAccepts(app: LocusApp): void {
  app.server.on('error', (error) => app.log.warn({ err: error }, 'accepting a connection failed'));
}

// The usual reasons a port cannot be had are the operator's to fix, so they are reported like a bad setting.
function listenProblem(error: unknown, config: Config): ConfigError | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return null;
  return new ConfigError('PORT', `cannot listen on ${config.host}:${config.port} (${code})`);
}

async function startMqtt(url: string, config: Config, committer: GroupCommitter, app: LocusApp) {
  const { startMqttIngest } = await import('./mqtt/owntracks-ingest.js');
  const { retentionMs } = config;
  return startMqttIngest({
    url,
    ingest: (points) => committer.submit(points, 'mqtt'),
    logger: app.log.child({ component: 'mqtt' }),
    userIdMode: config.owntracksUserId,
    oldestAcceptedMs: retentionMs === null ? undefined : () => Date.now() - retentionMs,
  });
}

/**
 * Standard output for the logs, written in blocks of 4 KiB rather than a write(2) per line: with an access line per
 * request, those writes cost PUT /location about 6 % of its CPU (BENCHMARKS.md). A quiet server's lines still go out
 * within a second, and pino writes what is left when the process exits, crash included (not on SIGKILL).
 */
function bufferedStdout(): { stream: ReturnType<typeof pino.destination>; flushing: NodeJS.Timeout } {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const flushing = setInterval(() => stream.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  return { stream, flushing };
}

export async function startServer(config: Config): Promise<RunningServer> {
  const logs = bufferedStdout();
  // The store comes first (it migrates the schema, and a database that cannot be reached stops start-up), but
  // its connection events are logged by the app's logger, which exists only once the app does.
  const late: { log?: LocusApp['log'] } = {};
  const store = await openStore(config.database, {
    onConnectionError: (error) =>
      late.log?.warn({ err: error }, 'an idle database connection failed; reconnecting'),
    onRetry: (error, attempt) =>
      late.log?.warn({ err: error, attempt }, 'transaction conflict; running it again'),
  });
  // One group commit for HTTP and MQTT alike, so their points share transactions and first-wins order.
  const metrics = createMetrics();
  const committer = new GroupCommitter(store, { observer: metrics.commitObserver });
  let mqtt: MqttIngest | null = null;
  const app = await buildApp({
    store,
    committer,
    metrics,
    retentionMs: config.retentionMs,
    logger: { level: config.logLevel, stream: logs.stream },
    owntracksUserId: config.owntracksUserId,
    notReadyReason: () => (mqtt && !mqtt.ready() ? 'Not connected to the MQTT broker.' : null),
    dashboard: { tileUrl: config.tileUrl, tileAttribution: config.tileAttribution },
    auth: { required: config.auth },
    rateLimit: config.rateLimit,
    corsOrigins: config.corsOrigins,
  });
  late.log = app.log;
  if (config.mqttUrl) mqtt = await startMqtt(config.mqttUrl, config, committer, app);
  const pruning = config.retentionMs === null ? null : startPruning(app, store, config.retentionMs);
  const close = async () => {
    if (pruning) clearInterval(pruning);
    clearInterval(logs.flushing);
    // MQTT first: messages being committed still get their PUBACK; then HTTP, then the database.
    await mqtt?.close();
    await app.close();
    await store.close();
  };
  const maxConnections = boundConnections(app);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await close();
    throw listenProblem(error, config) ?? error;
  }
  surviveFailedAccepts(app);
  app.log.info(
    {
      database: config.databaseUrl,
      maxConnections,
      dedupeRetentionMs: config.retentionMs,
      auth: config.auth ? 'on' : 'off',
      rateLimit: config.rateLimit,
    },
    'Locus is ready',
  );
  if (!config.auth && config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1') {
    app.log.warn(
      { host: config.host },
      'authentication is off: anyone who can reach this port may write and read every user (set AUTH=on)',
    );
  }
  return { app, store, close };
}
