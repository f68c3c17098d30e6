/*
 * The live feed: a Server-Sent Events stream that tells open dashboard pages which users changed.
 *
 * One poll serves every open stream: it asks the store for the users changed since its last marker (an index read,
 * not a summary of every user), so a thousand open pages cost what one does, and nothing is read while none is
 * open. Polling the store rather than hooking the ingest path also sees points written by other Locus instances
 * sharing the database.
 */
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { Access } from '../../../auth/access.js';
import { DEFAULT_TOKEN_CACHE_TTL_MS } from '../../../auth/verifier.js';
import { ProblemSchema, type Problem } from '../../../schemas/problem.js';
import type { ChangeMarker, Store, UserSummary } from '../../../store/store.js';
import { accessOf, authProblems, visibleTo, type AuthFlags } from '../../plugins/auth.js';
import { problem, RETRY_AFTER_SECONDS, sendProblem } from '../../problem.js';
import type { LocusApp } from '../../types.js';
import { userBody } from './users.js';

/** Where the feed is served; the dashboard page is told this URL. */
export const LIVE_FEED_PATH = '/events';

export const DEFAULT_MAX_FEEDS = 1_000;
export const DEFAULT_MAX_FEEDS_PER_TOKEN = 10;

export interface LiveFeedOptions extends Partial<AuthFlags> {
  store: Pick<Store, 'changedUsers'>;
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
  /** Streams open at once, in all; one more is answered 503. Default 1,000. */
  maxFeeds?: number;
  /** Streams open at once with one token; one more is answered 429. Default 10. */
  maxFeedsPerToken?: number;
  /** The clock of the token cache (the app's clock). Default Date.now. */
  now?: () => number;
}

interface FeedSettings {
  intervalMs: number;
  heartbeatMs: number;
  tokenStreamMaxMs: number;
  maxFeeds: number;
  maxFeedsPerToken: number;
  now: () => number;
}

const READY_EVENT = 'event: ready\ndata: {}\n\n';

function usersEvent(users: readonly UserSummary[]): string {
  return `event: users\ndata: ${JSON.stringify({ users: users.map(userBody) })}\n\n`;
}

/** An open stream, the users it may see, and when its token check runs out. */
interface Client {
  access: Access;
  /** On the feed's clock; null for a stream without a token (authentication off). */
  endsMs: number | null;
}

/** The open event streams and the one poller they share; each stream sees only the users its token may read. */
class LiveFeed {
  readonly #clients = new Map<PassThrough, Client>();
  readonly #perToken = new Map<string, number>();
  readonly #store: Pick<Store, 'changedUsers'>;
  readonly #settings: FeedSettings;
  readonly #log: LocusApp['log'];
  #poller: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Where the next poll reads from; set while any stream is open, so the first poll sends only what is new. */
  #marker: Promise<ChangeMarker> | null = null;
  /** The summaries the last poll found, to send a user again only when it changed (a store may repeat one). */
  #lastFound = new Map<string, string>();
  #polling = false;

  constructor(store: Pick<Store, 'changedUsers'>, settings: FeedSettings, log: LocusApp['log']) {
    this.#store = store;
    this.#settings = settings;
    this.#log = log;
  }

  /** Why a stream for `access` may not open now; null when it may. */
  refusal(access: Access): Problem | null {
    if (
      access.tokenId !== null &&
      (this.#perToken.get(access.tokenId) ?? 0) >= this.#settings.maxFeedsPerToken
    ) {
      return problem(
        'too-many-feeds',
        `This token already has ${this.#settings.maxFeedsPerToken} live feeds open; close one (a page or tab) first.`,
      );
    }
    if (this.#clients.size >= this.#settings.maxFeeds) {
      return problem(
        'feeds-full',
        `Locus serves ${this.#settings.maxFeeds} live feeds at once; try again later.`,
      );
    }
    return null;
  }

  /**
   * A new stream. It starts with a `ready` event once the feed knows where the store's changes stand, so a page
   * that loads the user list on `ready` misses no change after it. `untilMs` is when the token check behind
   * `access` runs out (the end of its cache entry), null when no token was checked.
   */
  async open(access: Access, untilMs: number | null): Promise<PassThrough> {
    const stream = new PassThrough();
    this.#add(stream, access, untilMs);
    try {
      await this.#start();
    } catch (error) {
      this.#remove(stream);
      throw error;
    }
    // A browser reconnects after `retry` ms when the connection drops (a restart, a proxy timeout).
    stream.write(`retry: 3000\n${READY_EVENT}`);
    return stream;
  }

  /** Ends every stream, so that closing the server does not wait for pages that never hang up. */
  close(): void {
    for (const stream of [...this.#clients.keys()]) this.#end(stream);
    this.#stop();
  }

  #add(stream: PassThrough, access: Access, untilMs: number | null): void {
    let endsMs: number | null = null;
    if (access.tokenId !== null) {
      // A token is checked when a stream opens, not while it runs: ending the stream makes the browser reconnect
      // and show its token again, so a revoked token loses the feed as it loses every other request. The stream
      // ends when the cache entry it was opened from expires (its lookup's time plus the cache time, not the
      // stream's opening time plus the cache time), so no feed outlives a revocation by more than the cache time.
      const now = this.#settings.now();
      endsMs = Math.min(untilMs ?? Infinity, now + this.#settings.tokenStreamMaxMs);
      const expiry = setTimeout(() => this.#end(stream), Math.max(0, endsMs - now)).unref();
      stream.once('close', () => clearTimeout(expiry));
      this.#perToken.set(access.tokenId, (this.#perToken.get(access.tokenId) ?? 0) + 1);
    }
    stream.once('close', () => this.#remove(stream));
    this.#clients.set(stream, { access, endsMs });
  }

  /** The marker to poll from, read once for every stream that opens while the feed runs. */
  #start(): Promise<ChangeMarker> {
    if (this.#marker === null) {
      const marker = this.#store.changedUsers(null).then((changes) => changes.marker);
      this.#marker = marker;
      // A failed first read leaves the feed to try again with the next stream.
      marker.catch(() => {
        if (this.#marker === marker) this.#marker = null;
      });
    }
    this.#poller ??= setInterval(() => this.#poll(), this.#settings.intervalMs).unref();
    this.#heartbeat ??= setInterval(
      () => this.#broadcast(': keep-alive\n\n'),
      this.#settings.heartbeatMs,
    ).unref();
    return this.#marker;
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
    const now = this.#settings.now();
    for (const [stream, client] of this.#clients) {
      if (client.endsMs !== null && client.endsMs <= now) this.#end(stream);
    }
  }

  #remove(stream: PassThrough): void {
    const client = this.#clients.get(stream);
    if (!client) return;
    this.#clients.delete(stream);
    const tokenId = client.access.tokenId;
    if (tokenId !== null) {
      const open = (this.#perToken.get(tokenId) ?? 1) - 1;
      if (open > 0) this.#perToken.set(tokenId, open);
      else this.#perToken.delete(tokenId);
    }
    if (this.#clients.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#poller);
    clearInterval(this.#heartbeat);
    this.#poller = undefined;
    this.#heartbeat = undefined;
    this.#marker = null;
    this.#lastFound = new Map();
  }

  #poll(): void {
    this.#endExpired();
    const current = this.#marker;
    if (this.#polling || current === null) return; // a slow store must not pile up queries
    this.#polling = true;
    current
      .then((since) => this.#store.changedUsers(since))
      .then((changes) => {
        // Streams that all closed meanwhile stopped the feed; a feed started since has its own marker.
        if (this.#marker !== current) return;
        this.#marker = Promise.resolve(changes.marker);
        this.#sendChanges(changes.users);
      })
      .catch((error: unknown) =>
        this.#log.warn({ err: error }, 'live feed could not read changes; will retry'),
      )
      .finally(() => {
        this.#polling = false;
      });
  }

  /** The users found that differ from what the last poll found, for a store that may repeat unchanged ones. */
  #news(users: readonly UserSummary[]): UserSummary[] {
    const found = new Map(users.map((user) => [user.userId, JSON.stringify(user)]));
    const news = users.filter((user) => this.#lastFound.get(user.userId) !== found.get(user.userId));
    this.#lastFound = found;
    return news;
  }

  #sendChanges(users: readonly UserSummary[]): void {
    const news = this.#news(users);
    if (news.length === 0) return;
    const everyone = usersEvent(news);
    for (const [stream, client] of this.#clients) {
      if (client.access.userId === null) {
        stream.write(everyone);
        continue;
      }
      const own = visibleTo(client.access, news);
      if (own.length > 0) stream.write(usersEvent(own));
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
      maxFeeds: options.maxFeeds ?? DEFAULT_MAX_FEEDS,
      maxFeedsPerToken: options.maxFeedsPerToken ?? DEFAULT_MAX_FEEDS_PER_TOKEN,
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
          'text/event-stream. A `ready` event once the feed is following changes (load the user list then), then ' +
          'a `users` event whenever users gain data, carrying those users only, as GET /users shows them. ' +
          'Comments keep idle connections open. With authentication on, pass the token as `?token=` ' +
          '(EventSource cannot set headers); a user token sees only its user. At most 10 feeds per token ' +
          '(429) and 1,000 in all (503) are open at once.',
        response: {
          200: {
            description: 'An event stream',
            content: { 'text/event-stream': { schema: Type.Unknown() } },
          },
          429: ProblemSchema,
          503: ProblemSchema,
          ...authProblems(options),
        },
      },
    },
    async (request, reply) => {
      const access = accessOf(request);
      const refused = feed.refusal(access);
      if (refused) return sendProblem(reply.header('retry-after', String(RETRY_AFTER_SECONDS)), refused);
      const stream = await feed.open(access, request.accessUntilMs);
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
