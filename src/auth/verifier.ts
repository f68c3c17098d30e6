import type { TokenStore } from '../store/store.js';
import type { Access } from './access.js';
import { hashToken } from './tokens.js';
import { normalUserId } from '../schemas/ajv.js';

export interface VerifierOptions {
  /**
   * How long a token found valid is trusted. Revoking a token therefore takes effect on a running server within
   * this time. Default 30 s.
   */
  ttlMs?: number;
  /**
   * How long a token found unknown or revoked stays refused without asking the store again. Short, so that a token
   * created after a failed try soon works; never longer than `ttlMs`. Default 5 s.
   */
  refusedTtlMs?: number;
  /** Most valid tokens remembered at once; the oldest entry goes first. Default 10,000. */
  maxEntries?: number;
  /**
   * Most refused tokens remembered at once, apart from the valid ones, so that a flood of made-up tokens pushes out
   * only other made-up tokens. Default `maxEntries`.
   */
  maxRefusedEntries?: number;
  now?: () => number;
}

export const DEFAULT_TOKEN_CACHE_TTL_MS = 30_000;
export const DEFAULT_REFUSED_TOKEN_TTL_MS = 5_000;
const DEFAULT_MAX_ENTRIES = 10_000;

/** A token found valid: what it allows, and until when that answer is trusted (on the verifier's clock). */
export interface Verified {
  access: Access;
  /** The lookup's time plus the cache time: after it, the token is looked up again. */
  untilMs: number;
}

/** A bounded map that forgets its oldest entry first (Map keeps insertion order, so the first key is the oldest). */
class Remembered<V> {
  readonly #entries = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    this.#entries.delete(key); // a refreshed entry becomes the newest
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * Turns a presented token into what it allows, remembering the answer for a short time: at ingest rates a
 * phone sends a point every few seconds, and each one costing a database round trip just to look up its token
 * would double the database's work. Concurrent requests with the same uncached token share one lookup.
 *
 * Valid and refused tokens are remembered apart, each list bounded: a client sending ever new made-up tokens costs
 * a lookup each (the rate limit bounds those) but cannot push valid tokens out, and a client repeating a bad token
 * costs one lookup per `refusedTtlMs`.
 */
export class TokenVerifier {
  readonly #tokens: Pick<TokenStore, 'findByHash'>;
  readonly #ttlMs: number;
  readonly #refusedTtlMs: number;
  readonly #now: () => number;
  /** All by token hash, never the token itself. */
  readonly #valid: Remembered<Verified>;
  /** When each refusal stops being trusted. */
  readonly #refused: Remembered<number>;
  readonly #pending = new Map<string, Promise<Verified | null>>();

  constructor(tokens: Pick<TokenStore, 'findByHash'>, options: VerifierOptions = {}) {
    this.#tokens = tokens;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TOKEN_CACHE_TTL_MS;
    this.#refusedTtlMs = Math.min(options.refusedTtlMs ?? DEFAULT_REFUSED_TOKEN_TTL_MS, this.#ttlMs);
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#valid = new Remembered(maxEntries);
    this.#refused = new Remembered(options.maxRefusedEntries ?? maxEntries);
    this.#now = options.now ?? Date.now;
  }

  /** What the token allows, or null when it is unknown or revoked. Rejects when the store cannot be asked. */
  async verify(token: string): Promise<Access | null> {
    return (await this.check(token))?.access ?? null;
  }

  /**
   * What the token allows and until when that answer holds, or null when it is unknown or revoked. Rejects when the
   * store cannot be asked.
   */
  check(token: string): Promise<Verified | null> {
    const hash = hashToken(token);
    const now = this.#now();
    const valid = this.#valid.get(hash);
    if (valid) {
      if (valid.untilMs > now) return Promise.resolve(valid);
      this.#valid.delete(hash);
    }
    const refusedUntil = this.#refused.get(hash);
    if (refusedUntil !== undefined) {
      if (refusedUntil > now) return Promise.resolve(null);
      this.#refused.delete(hash);
    }
    const pending = this.#pending.get(hash);
    if (pending) return pending;
    const lookup = this.#lookup(hash, now);
    this.#pending.set(hash, lookup);
    // A failed lookup (database down) is not an answer about the token: nothing is remembered, and the next request
    // asks again.
    const forget = () => {
      if (this.#pending.get(hash) === lookup) this.#pending.delete(hash);
    };
    lookup.then(forget, forget);
    return lookup;
  }

  /** How many lookups are remembered, valid and refused; for tests of the bounds. */
  get size(): number {
    return this.#valid.size + this.#refused.size;
  }

  /** Looks the hash up and remembers the answer, counting its age from `startedMs`, when the store was asked. */
  async #lookup(hash: string, startedMs: number): Promise<Verified | null> {
    const access = await this.#find(hash);
    if (!access) {
      this.#valid.delete(hash);
      this.#refused.set(hash, startedMs + this.#refusedTtlMs);
      return null;
    }
    const verified: Verified = { access, untilMs: startedMs + this.#ttlMs };
    this.#refused.delete(hash);
    this.#valid.set(hash, verified);
    return verified;
  }

  async #find(hash: string): Promise<Access | null> {
    const record = await this.#tokens.findByHash(hash);
    if (!record || record.revokedMs !== null) return null;
    if (record.scope === 'admin') return { tokenId: record.id, userId: null };
    // A user token always has a user (the schema checks it); without one it must not turn into an admin.
    // NFC, the form points are stored under (src/ingest/compose.ts), also for a token made before ids were normalised.
    return record.userId === null ? null : { tokenId: record.id, userId: normalUserId(record.userId) };
  }
}
