import type { TokenStore } from '../store/store.js';
import type { Access } from './access.js';
import { hashToken } from './tokens.js';

export interface VerifierOptions {
  /**
   * How long a lookup (found, unknown or revoked) is trusted. Revoking a token therefore takes effect on a running
   * server within this time. Default 30 s.
   */
  ttlMs?: number;
  /** Most tokens remembered at once; the oldest entry goes first. Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

export const DEFAULT_TOKEN_CACHE_TTL_MS = 30_000;
const DEFAULT_MAX_ENTRIES = 10_000;

interface Entry {
  expiresMs: number;
  access: Promise<Access | null>;
}

/**
 * Turns a presented token into what it allows, remembering the answer for a short time: at ingest rates a
 * phone sends a point every few seconds, and each one costing a database round trip just to look up its token
 * would double the database's work. Concurrent requests with the same uncached token share one lookup.
 */
export class TokenVerifier {
  readonly #tokens: Pick<TokenStore, 'findByHash'>;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** By token hash (never the token itself), in insertion order, which makes the first entry the oldest. */
  readonly #cache = new Map<string, Entry>();

  constructor(tokens: Pick<TokenStore, 'findByHash'>, options: VerifierOptions = {}) {
    this.#tokens = tokens;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TOKEN_CACHE_TTL_MS;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /** What the token allows, or null when it is unknown or revoked. Rejects when the store cannot be asked. */
  verify(token: string): Promise<Access | null> {
    const hash = hashToken(token);
    const now = this.#now();
    const cached = this.#cache.get(hash);
    if (cached && cached.expiresMs > now) return cached.access;
    this.#cache.delete(hash);
    const access = this.#lookup(hash);
    this.#remember(hash, { expiresMs: now + this.#ttlMs, access });
    // A failed lookup (database down) is not an answer about the token: the next request asks again.
    access.catch(() => {
      if (this.#cache.get(hash)?.access === access) this.#cache.delete(hash);
    });
    return access;
  }

  /** How many lookups are remembered; for tests of the bound. */
  get size(): number {
    return this.#cache.size;
  }

  async #lookup(hash: string): Promise<Access | null> {
    const record = await this.#tokens.findByHash(hash);
    if (!record || record.revokedMs !== null) return null;
    if (record.scope === 'admin') return { tokenId: record.id, userId: null };
    // A user token always has a user (the schema checks it); without one it must not turn into an admin.
    // NFC, the form points are stored under (src/ingest/compose.ts), also for a token made before ids were normalised.
    return record.userId === null ? null : { tokenId: record.id, userId: record.userId.normalize('NFC') };
  }

  #remember(hash: string, entry: Entry): void {
    while (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(hash, entry);
  }
}
