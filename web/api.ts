/** The Locus API as the page uses it. */
import type { Track } from './track.js';
import type { WorkerReply, WorkerRequest } from './track-protocol.js';

export interface UserSummary {
  user_id: string;
  minutes: number;
  samples: number;
  first_minute: string;
  last_minute: string;
}

export type ExportFormat = 'geojson' | 'csv' | 'gpx';

/** Milliseconds, UTC; either end may be open. */
export interface TimeRange {
  fromMs?: number;
  toMs?: number;
}

/**
 * The token the page was opened with (`/?token=…`) when Locus runs with AUTH=on; null without one. The page
 * itself loads without a token, its data calls do not.
 */
export function pageToken(): string | null {
  return new URLSearchParams(location.search).get('token') || null;
}

/** `url` with the page's token as `?token=`, for what cannot send a header: EventSource, links, the worker. */
export function withToken(url: string): string {
  const token = pageToken();
  if (token === null) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

export async function fetchUsers(signal?: AbortSignal): Promise<UserSummary[]> {
  const token = pageToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/users', { signal, headers });
  if (!response.ok) throw new Error(`the user list answered ${response.status} ${response.statusText}`);
  return ((await response.json()) as { users: UserSummary[] }).users;
}

/** The file URL of an export (with the page's token): the same one the download buttons offer. */
export function exportUrl(userId: string, format: ExportFormat, range: TimeRange): string {
  const query = new URLSearchParams();
  if (range.fromMs !== undefined) query.set('from', new Date(range.fromMs).toISOString());
  if (range.toMs !== undefined) query.set('to', new Date(range.toMs).toISOString());
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return withToken(`/users/${encodeURIComponent(userId)}/locations.${format}${search}`);
}

/** Loads tracks from the GeoJSON export through a worker; see track-worker.ts for why. */
export class TrackLoader {
  readonly #worker = new Worker('/assets/track-worker.js', { type: 'module' });
  readonly #pending = new Map<number, { resolve: (track: Track) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  constructor() {
    this.#worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => this.#settle(event.data));
  }

  /** A user's minutes in `range`; rejects with an AbortError DOMException when `signal` aborts first. */
  load(userId: string, range: TimeRange, signal?: AbortSignal): Promise<Track> {
    const id = this.#nextId++;
    const request: WorkerRequest = { type: 'load', id, url: exportUrl(userId, 'geojson', range) };
    return new Promise<Track>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      signal?.addEventListener('abort', () => {
        this.#pending.delete(id);
        this.#worker.postMessage({ type: 'abort', id } satisfies WorkerRequest);
        reject(new DOMException('The load was superseded', 'AbortError'));
      });
      this.#worker.postMessage(request);
    });
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return; // aborted: nobody waits for it
    this.#pending.delete(reply.id);
    if (reply.track) pending.resolve(reply.track);
    else pending.reject(new Error(reply.error ?? 'the track could not be loaded'));
  }
}
