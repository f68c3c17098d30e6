/*
 * The dashboard: a single page built from web/ into dist/web/ (npm run build:web), served by Locus itself so it
 * works on closed networks. The page learns of new points from the live feed (events.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LocusApp } from '../../types.js';
import { problem, sendProblem } from '../../problem.js';
import { LIVE_FEED_PATH } from './events.js';

export interface DashboardOptions {
  /** Base-map tile URL template (`{z}`, `{x}`, `{y}`, optional `{s}`, `{r}`); absent or null draws a grid. */
  tileUrl?: string | null;
  /** Attribution shown with the tiles (HTML is not interpreted). */
  tileAttribution?: string | null;
  /** The built assets: index.html, app.js, app.css. Default: dist/web of this package. */
  webRoot?: string;
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
    "worker-src 'none'",
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

const HIDDEN = { hide: true } as const;

export function registerDashboard(app: LocusApp, options: DashboardOptions): void {
  const tileUrl = options.tileUrl ?? null;
  const config: DashboardConfig = {
    tileUrl,
    tileAttribution: options.tileAttribution ?? null,
    liveUrl: LIVE_FEED_PATH,
  };
  const assets = assetLoader(options.webRoot ?? defaultWebRoot(), config);
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
}
