import { setTimeout as sleep } from 'node:timers/promises';
import type { ItemError } from '../ingest/apps/fix.js';
import { MAX_BATCH_POINTS } from '../ingest/limits.js';
import type { Point, RawFix } from '../ingest/point.js';
import type { Store } from '../store/store.js';

/*
 * Where imported points go: straight into a Store, or to a running Locus through POST /locations. The engine hands
 * a destination whole batches, in file order, already checked with the PUT /location rules.
 */

/** Points checked and resolved, and the fixes they came from when the destination sends those (same order, same length). */
export interface ImportBatch {
  points: Point[];
  /** Empty unless the destination's `needsFixes`. */
  fixes: RawFix[];
}

/** What became of a batch. `rejected` indexes are positions in the batch (the server may refuse points too). */
export interface DestinationResult {
  stored: number;
  duplicates: number;
  rejected: ItemError[];
}

export interface ImportDestination {
  /** Where the points go, for messages. */
  readonly name: string;
  /** The largest batch it takes. */
  readonly maxBatchSize: number;
  /**
   * Whether it sends the fixes as read (the API one) rather than the points. Otherwise the engine does not keep
   * them: fixes that die young are cheap to collect, fixes kept until their batch commits are not.
   */
  readonly needsFixes: boolean;
  /**
   * How many batches may be in flight at once. The engine never has two in flight that share a (user, instant) key,
   * so which copy of a point comes first is the file's order whatever order they commit in.
   */
  readonly concurrency: number;
  /** Stores one batch, whole or not at all; rejects with DestinationError when it cannot. */
  write(batch: ImportBatch): Promise<DestinationResult>;
  close(): Promise<void>;
}

/** The store or the server failed: the import stops. What committed before stays, each batch whole. */
export class DestinationError extends Error {
  override name = 'DestinationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A Store's batch ingest takes this many points per transaction well; more only adds latency and memory. */
export const STORE_MAX_BATCH = 50_000;

/** Straight into a store. One transaction per batch. */
export function storeDestination(store: Store, name: string): ImportDestination {
  return {
    name,
    maxBatchSize: STORE_MAX_BATCH,
    needsFixes: false,
    // One batch commits while the engine reads and checks the next: the store's writer works in parallel with the
    // parser, and a failure stops the import with everything before it committed and nothing after.
    concurrency: 1,
    async write({ points }) {
      let outcomes;
      try {
        outcomes = await store.ingest(points);
      } catch (error) {
        throw new DestinationError(`the database failed: ${(error as Error).message}`, { cause: error });
      }
      const stored = outcomes.reduce((n, o) => (o === 'stored' ? n + 1 : n), 0);
      return { stored, duplicates: outcomes.length - stored, rejected: [] };
    },
    close: () => store.close(),
  };
}

export interface ApiDestinationOptions {
  /** The server's base URL, e.g. `http://localhost:5000`. */
  url: string;
  /** Sent as `Authorization: Bearer TOKEN`. */
  token?: string;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Attempts per batch while the server answers 503. */
  attempts?: number;
  /** Longest wait before a retry, whatever Retry-After says. */
  maxRetryDelayMs?: number;
  fetch?: typeof fetch;
}

interface BatchAnswer {
  stored: number;
  duplicates: number;
  rejected: number;
  errors: ItemError[];
}

/**
 * Through a running Locus: each batch is one POST /locations in NDJSON, so the server runs the same pipeline and
 * commits the batch in one transaction. A 503 is retried after Retry-After (nothing of the batch was stored, so
 * resending it is safe); any other failure stops the import.
 */
export function apiDestination(options: ApiDestinationOptions): ImportDestination {
  const endpoint = `${options.url.replace(/\/+$/, '')}/locations`;
  const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const attempts = options.attempts ?? 5;
  const maxDelayMs = options.maxRetryDelayMs ?? 30_000;
  const send = options.fetch ?? fetch;

  async function post(body: string): Promise<Response> {
    try {
      return await send(endpoint, { method: 'POST', headers, body });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new DestinationError(`cannot reach ${endpoint}: ${cause}`, { cause: error });
    }
  }

  return {
    name: endpoint,
    maxBatchSize: MAX_BATCH_POINTS,
    needsFixes: true,
    concurrency: options.concurrency ?? 4,
    async write({ fixes }) {
      const body = fixes.map((fix) => JSON.stringify(fix)).join('\n');
      for (let attempt = 1; ; attempt++) {
        const response = await post(body);
        if (response.status === 200) return resultOf(await batchAnswer(response, endpoint));
        const problem = await problemText(response);
        // Both say "later": the server is overloaded or unavailable (503), or this token is over its limit (429).
        if ((response.status !== 503 && response.status !== 429) || attempt >= attempts) {
          throw new DestinationError(`${endpoint} answered ${response.status}${problem}`);
        }
        await sleep(retryDelayMs(response.headers.get('retry-after'), maxDelayMs));
      }
    },
    close: () => Promise.resolve(),
  };
}

/** The answer of POST /locations, or a DestinationError for a 200 that is not one (a proxy's page, a wrong URL). */
async function batchAnswer(response: Response, endpoint: string): Promise<BatchAnswer> {
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  const fields = answer as Partial<BatchAnswer> | undefined;
  if (
    typeof fields?.stored !== 'number' ||
    typeof fields.duplicates !== 'number' ||
    !Array.isArray(fields.errors)
  ) {
    throw new DestinationError(
      `${endpoint} answered 200 with something that is not a Locus batch answer: ${text.slice(0, 120)}`,
    );
  }
  return fields as BatchAnswer;
}

function resultOf(answer: BatchAnswer): DestinationResult {
  return { stored: answer.stored, duplicates: answer.duplicates, rejected: answer.errors };
}

async function problemText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as { title?: unknown; detail?: unknown };
    const words = [problem.title, problem.detail].filter((w) => typeof w === 'string');
    return words.length > 0 ? `: ${words.join(' ')}` : '';
  } catch {
    return text ? `: ${text.slice(0, 200)}` : '';
  }
}

/** Retry-After in seconds or as an HTTP date; one second when absent or unreadable. */
export function retryDelayMs(header: string | null, maxMs: number): number {
  if (header === null) return Math.min(1000, maxMs);
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), maxMs) : Math.min(1000, maxMs);
}
