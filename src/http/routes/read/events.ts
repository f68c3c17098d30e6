/*
 * The live feed: a Server-Sent Events stream that tells open dashboard pages when the user list changes.
 *
 * The feed polls the store's user summaries (only while a page is connected) rather than hooking the ingest path,
 * so it sees points written by any Locus instance sharing the database, and costs nothing when nobody watches.
 */
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { Access } from '../../../auth/access.js';
import { DEFAULT_TOKEN_CACHE_TTL_MS } from '../../../auth/verifier.js';
import type { Store, UserSummary } from '../../../store/store.js';
import { accessOf, authProblems, visibleTo, type AuthFlags } from '../../plugins/auth.js';
import type { LocusApp } from '../../types.js';
import { userList } from './users.js';

/** Where the feed is served; the dashboard page is told this URL. */
export const LIVE_FEED_PATH = '/events';

export interface LiveFeedOptions extends Partial<AuthFlags> {
  store: Pick<Store, 'users'>;
  /** How often the live feed asks the store for changes while a page is open. Default 2,000 ms. */
  liveIntervalMs?: number;
  /** How often an idle feed sends a comment so proxies keep it open. Default 15,000 ms. */
  heartbeatMs?: number;
  /**
   * The longest a stream opened with a token lasts before the server ends it, so that the browser's reconnect shows
   * the token again and a revoked one is refused. The token cache's lifetime; default 30,000 ms. A stream ends
   * sooner when the cache entry its token was checked from expires first.
   */
  tokenStreamMaxMs?: number;
  /** The clock of the token cache (the app's clock). Default Date.now. */
  now?: () => number;
}

interface FeedTiming {
  intervalMs: number;
  heartbeatMs: number;
  tokenStreamMaxMs: number;
  now: () => number;
}

function usersEvent(users: UserSummary[]): string {
  return `event: users\ndata: ${JSON.stringify(userList(users))}\n\n`;
}

/** An open stream, the users it may see, the last event it was sent, and when its token check runs out. */
interface Client {
  access: Access;
  last: string;
  /** On the feed's clock; null for a stream without a token (authentication off). */
  endsMs: number | null;
}

/** The open event streams, and the one poller they share; each stream sees only the users its token may read. */
class LiveFeed {
  readonly #clients = new Map<PassThrough, Client>();
  readonly #store: Pick<Store, 'users'>;
  readonly #timing: FeedTiming;
  readonly #log: LocusApp['log'];
  #poller: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(store: Pick<Store, 'users'>, timing: FeedTiming, log: LocusApp['log']) {
    this.#store = store;
    this.#timing = timing;
    this.#log = log;
  }

  /**
   * A new stream, starting with the current user list; it leaves the feed when ended. `untilMs` is when the token
   * check behind `access` runs out (the end of its cache entry), null when no token was checked.
   */
  async open(access: Access, untilMs: number | null): Promise<PassThrough> {
    const event = usersEvent(visibleTo(access, await this.#store.users()));
    const stream = new PassThrough();
    // A browser reconnects after `retry` ms when the connection drops (a restart, a proxy timeout).
    stream.write(`retry: 3000\n${event}`);
    let endsMs: number | null = null;
    if (access.tokenId !== null) {
      // A token is checked when a stream opens, not while it runs: ending the stream makes the browser reconnect
      // and show its token again, so a revoked token loses the feed as it loses every other request. The stream
      // ends when the cache entry it was opened from expires (its lookup's time plus the cache time, not the
      // stream's opening time plus the cache time), so no feed outlives a revocation by more than the cache time.
      const now = this.#timing.now();
      endsMs = Math.min(untilMs ?? Infinity, now + this.#timing.tokenStreamMaxMs);
      const expiry = setTimeout(() => this.#end(stream), Math.max(0, endsMs - now)).unref();
      stream.once('close', () => clearTimeout(expiry));
    }
    stream.once('close', () => this.#remove(stream));
    this.#clients.set(stream, { access, last: event, endsMs });
    this.#poller ??= setInterval(() => this.#poll(), this.#timing.intervalMs).unref();
    this.#heartbeat ??= setInterval(
      () => this.#broadcast(': keep-alive\n\n'),
      this.#timing.heartbeatMs,
    ).unref();
    return stream;
  }

  /** Ends every stream, so that closing the server does not wait for pages that never hang up. */
  close(): void {
    for (const stream of this.#clients.keys()) stream.end();
    this.#clients.clear();
    this.#stop();
  }

  /** Ends a stream and stops writing to it. */
  #end(stream: PassThrough): void {
    this.#remove(stream);
    stream.end();
  }

  /**
   * Ends the streams whose token check has run out on the feed's clock. The timer set at opening does so on time;
   * this also honours a clock that jumps ahead of the timers (a suspended machine, a test's clock).
   */
  #endExpired(): void {
    const now = this.#timing.now();
    for (const [stream, client] of this.#clients) {
      if (client.endsMs !== null && client.endsMs <= now) this.#end(stream);
    }
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
    this.#endExpired();
    if (this.#polling || this.#clients.size === 0) return; // a slow store must not pile up queries
    this.#polling = true;
    this.#store
      .users()
      .then((users) => this.#sendChanges(users))
      .catch((error: unknown) => this.#log.warn({ err: error }, 'live feed could not read users; will retry'))
      .finally(() => {
        this.#polling = false;
      });
  }

  #sendChanges(users: UserSummary[]): void {
    for (const [stream, client] of this.#clients) {
      const event = usersEvent(visibleTo(client.access, users));
      if (event === client.last) continue;
      client.last = event;
      stream.write(event);
    }
  }

  #broadcast(text: string): void {
    this.#endExpired();
    for (const stream of this.#clients.keys()) stream.write(text);
  }
}

export function registerLiveFeed(app: LocusApp, options: LiveFeedOptions): void {
  const feed = new LiveFeed(
    options.store,
    {
      intervalMs: options.liveIntervalMs ?? 2_000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      tokenStreamMaxMs: options.tokenStreamMaxMs ?? DEFAULT_TOKEN_CACHE_TTL_MS,
      now: options.now ?? Date.now,
    },
    app.log,
  );

  app.get(
    LIVE_FEED_PATH,
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
      const stream = await feed.open(accessOf(request), request.accessUntilMs);
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
