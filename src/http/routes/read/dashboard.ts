/*
 * The dashboard: a single page built from web/ into dist/web/ (npm run build:web), served by Locus itself so it
 * works on closed networks, and a Server-Sent Events feed that tells open pages when the user list changes.
 *
 * The feed polls the store's user summaries (only while a page is connected) rather than hooking the ingest path,
 * so it sees points written by any Locus instance sharing the database, and costs nothing when nobody watches.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from '../../../auth/access.js';
import type { Store, UserSummary } from '../../../store/store.js';
import type { LocusApp } from '../../app.js';
import { accessOf, authProblems, visibleTo, type AuthFlags } from '../../plugins/auth.js';
import { DEFAULT_TOKEN_CACHE_TTL_MS } from '../../../auth/verifier.js';
import { userList } from './users.js';
import { problem, sendProblem } from '../../problem.js';

export interface DashboardOptions extends Partial<AuthFlags> {
  store: Pick<Store, 'users'>;
  /** Base-map tile URL template (`{z}`, `{x}`, `{y}`, optional `{s}`, `{r}`); absent or null draws a grid. */
  tileUrl?: string | null;
  /** Attribution shown with the tiles (HTML is not interpreted). */
  tileAttribution?: string | null;
  /** The built assets: index.html, app.js, app.css, track-worker.js. Default: dist/web of this package. */
  webRoot?: string;
  /** How often the live feed asks the store for changes while a page is open. Default 2,000 ms. */
  liveIntervalMs?: number;
  /** How often an idle feed sends a comment so proxies keep it open. Default 15,000 ms. */
  heartbeatMs?: number;
  /**
   * How long a stream opened with a token lasts before the server ends it, so that the browser's reconnect shows
   * the token again and a revoked one is refused. The token cache's lifetime; default 30,000 ms.
   */
  tokenStreamMaxMs?: number;
}

/** What the page is told at load time, as JSON inside index.html. */
export interface DashboardConfig {
  tileUrl: string | null;
  tileAttribution: string | null;
  liveUrl: string;
}

const ASSETS: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'track-worker.js': 'text/javascript; charset=utf-8',
};

const CONFIG_PLACEHOLDER = '<!-- locus-config -->';

/** The package root: the nearest folder up from this module with a package.json (src/… or dist/src/…). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function defaultWebRoot(): string {
  return join(packageRoot(), 'dist', 'web');
}

/**
 * The origins the page may load tiles from, as a CSP source: `https://{s}.tile.example.org/…` becomes
 * `https://*.tile.example.org`. Null when the template is not an http(s) URL.
 */
export function tileSource(tileUrl: string): string | null {
  const probe = tileUrl.replace(/\{s\}/g, 'tile-subdomain').replace(/\{[a-z]+\}/gi, '0');
  if (!URL.canParse(probe)) return null;
  const url = new URL(probe);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  return `${url.protocol}//${url.host.replace('tile-subdomain', '*')}`;
}

/**
 * Everything the page needs comes from Locus itself; the only exception is the tile server, when one is set. The
 * policy makes that a guarantee rather than a habit: a stray external URL in a bundle would be refused.
 */
export function contentSecurityPolicy(tileUrl: string | null): string {
  const tiles = tileUrl === null ? null : tileSource(tileUrl);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${tiles ? ` ${tiles}` : ''}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

interface Asset {
  body: Buffer;
  etag: string;
}

function asset(body: Buffer): Asset {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** The page with its configuration inlined; `<` is escaped so no value can close the script element. */
function renderIndex(html: string, config: DashboardConfig): Buffer {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const script = `<script id="locus-config" type="application/json">${json}</script>`;
  return Buffer.from(html.replace(CONFIG_PLACEHOLDER, script));
}

/** Reads the built files once, on first use; null when the dashboard has not been built. */
function assetLoader(webRoot: string, config: DashboardConfig): () => Promise<Map<string, Asset> | null> {
  let loading: Promise<Map<string, Asset> | null> | undefined;
  const load = async () => {
    try {
      const assets = new Map<string, Asset>();
      assets.set(
        'index.html',
        asset(renderIndex(await readFile(join(webRoot, 'index.html'), 'utf8'), config)),
      );
      for (const name of Object.keys(ASSETS)) assets.set(name, asset(await readFile(join(webRoot, name))));
      return assets;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
  return () => {
    // A missing build is not cached, so building while the server runs makes the page appear.
    loading ??= load().then((assets) => {
      if (!assets) loading = undefined;
      return assets;
    });
    return loading;
  };
}

function sendAsset(
  request: FastifyRequest,
  reply: FastifyReply,
  found: Asset,
  contentType: string,
  csp: string,
) {
  // no-cache: revalidate every time (a 304 costs a round trip, not the bundle), so a new build is never stale.
  // The policy goes on every file: a worker takes its policy from its own script's response, not the page's.
  reply
    .header('cache-control', 'no-cache')
    .header('etag', found.etag)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', csp);
  if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
  return reply.type(contentType).send(found.body);
}

function usersEvent(users: UserSummary[]): string {
  return `event: users\ndata: ${JSON.stringify(userList(users))}\n\n`;
}

/** An open stream, the users it may see, and the last event it was sent. */
interface Client {
  access: Access;
  last: string;
}

/** The open event streams, and the one poller they share; each stream sees only the users its token may read. */
class LiveFeed {
  readonly #clients = new Map<PassThrough, Client>();
  readonly #store: Pick<Store, 'users'>;
  readonly #intervalMs: number;
  readonly #heartbeatMs: number;
  readonly #log: LocusApp['log'];
  #poller: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #polling = false;

  readonly #tokenStreamMaxMs: number;

  constructor(
    store: Pick<Store, 'users'>,
    timing: { intervalMs: number; heartbeatMs: number; tokenStreamMaxMs: number },
    log: LocusApp['log'],
  ) {
    this.#store = store;
    this.#intervalMs = timing.intervalMs;
    this.#heartbeatMs = timing.heartbeatMs;
    this.#tokenStreamMaxMs = timing.tokenStreamMaxMs;
    this.#log = log;
  }

  /** A new stream, starting with the current user list; it leaves the feed when ended. */
  async open(access: Access): Promise<PassThrough> {
    const event = usersEvent(visibleTo(access, await this.#store.users()));
    const stream = new PassThrough();
    // A browser reconnects after `retry` ms when the connection drops (a restart, a proxy timeout).
    stream.write(`retry: 3000\n${event}`);
    if (access.tokenId !== null) {
      // A token is checked when a stream opens, not while it runs: ending the stream makes the browser reconnect
      // and show its token again, so a revoked token loses the feed as it loses every other request.
      const expiry = setTimeout(() => stream.end(), this.#tokenStreamMaxMs).unref();
      stream.once('close', () => clearTimeout(expiry));
    }
    stream.once('close', () => this.#remove(stream));
    this.#clients.set(stream, { access, last: event });
    this.#poller ??= setInterval(() => this.#poll(), this.#intervalMs).unref();
    this.#heartbeat ??= setInterval(() => this.#broadcast(': keep-alive\n\n'), this.#heartbeatMs).unref();
    return stream;
  }

  /** Ends every stream, so that closing the server does not wait for pages that never hang up. */
  close(): void {
    for (const stream of this.#clients.keys()) stream.end();
    this.#clients.clear();
    this.#stop();
  }

  #remove(stream: PassThrough): void {
    this.#clients.delete(stream);
    if (this.#clients.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#poller);
    clearInterval(this.#heartbeat);
    this.#poller = undefined;
    this.#heartbeat = undefined;
  }

  #poll(): void {
    if (this.#polling) return; // a slow store must not pile up queries
    this.#polling = true;
    this.#store
      .users()
      .then((users) => {
        for (const [stream, client] of this.#clients) {
          const event = usersEvent(visibleTo(client.access, users));
          if (event === client.last) continue;
          client.last = event;
          stream.write(event);
        }
      })
      .catch((error: unknown) => this.#log.warn({ err: error }, 'live feed could not read users; will retry'))
      .finally(() => {
        this.#polling = false;
      });
  }

  #broadcast(text: string): void {
    for (const stream of this.#clients.keys()) stream.write(text);
  }
}

const HIDDEN = { hide: true } as const;

export function registerDashboard(app: LocusApp, options: DashboardOptions): void {
  const tileUrl = options.tileUrl ?? null;
  const config: DashboardConfig = {
    tileUrl,
    tileAttribution: options.tileAttribution ?? null,
    liveUrl: '/events',
  };
  const assets = assetLoader(options.webRoot ?? defaultWebRoot(), config);
  const feed = new LiveFeed(
    options.store,
    {
      intervalMs: options.liveIntervalMs ?? 2_000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      tokenStreamMaxMs: options.tokenStreamMaxMs ?? DEFAULT_TOKEN_CACHE_TTL_MS,
    },
    app.log,
  );
  const csp = contentSecurityPolicy(tileUrl);
  const notBuilt = (reply: FastifyReply) =>
    sendProblem(
      reply,
      problem('not-found', 'The dashboard is not built: run `npm run build` (or `npm run build:web`).'),
    );

  app.get('/', { schema: HIDDEN }, async (request, reply) => {
    const index = (await assets())?.get('index.html');
    if (!index) return notBuilt(reply);
    reply.header('referrer-policy', 'no-referrer');
    return sendAsset(request, reply, index, 'text/html; charset=utf-8', csp);
  });

  app.get<{ Params: { name: string } }>('/assets/:name', { schema: HIDDEN }, async (request, reply) => {
    const contentType = ASSETS[request.params.name];
    const found = contentType ? (await assets())?.get(request.params.name) : undefined;
    if (!contentType || !found) {
      return found === undefined && contentType
        ? notBuilt(reply)
        : sendProblem(reply, problem('not-found', 'No such asset.'));
    }
    return sendAsset(request, reply, found, contentType, csp);
  });

  app.get(
    '/events',
    {
      schema: {
        summary: 'Live updates for the dashboard (Server-Sent Events)',
        description:
          'text/event-stream. A `users` event carries the same body as GET /users: once on connect, then whenever ' +
          'a user gains minutes or samples. Comments keep idle connections open. With authentication on, ' +
          'pass the token as `?token=` (EventSource cannot set headers); a user token sees only its user.',
        response: {
          200: {
            description: 'An event stream',
            content: { 'text/event-stream': { schema: Type.Unknown() } },
          },
          ...authProblems(options),
        },
      },
    },
    async (request, reply) => {
      const stream = await feed.open(accessOf(request));
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no') // nginx would otherwise hold events back
        .send(stream);
    },
  );

  app.addHook('preClose', (done) => {
    feed.close();
    done();
  });
}
