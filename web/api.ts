/** The Locus API as the page uses it. */
import { trackFromAnswer, type Track } from './track.js';
import { parseUserPage, type UserPageAnswer, type UserPageQuery, type UserSummary } from './user-pages.js';
import type { TimeRange } from './zoom.js';

export type { UserSummary } from './user-pages.js';
export type { TimeRange } from './zoom.js';

export type ExportFormat = 'geojson' | 'csv' | 'gpx';

/**
 * The token the page was opened with (`/?token=…`) when Locus runs with AUTH=on; null without one. The page
 * itself loads without a token, its data calls do not.
 */
export function pageToken(): string | null {
  return new URLSearchParams(location.search).get('token') || null;
}

/** `url` with the page's token as `?token=`, for what cannot send a header: EventSource, links. */
export function withToken(url: string): string {
  const token = pageToken();
  if (token === null) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/** The problem's `detail` when the answer is problem+json, else the status line. */
async function problemDetail(response: Response): Promise<string> {
  const status = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { detail?: unknown };
    return typeof body.detail === 'string' ? body.detail : status;
  } catch {
    return status;
  }
}

/** GET `url` as JSON with the page's token; rejects with the problem's detail when the answer is not 2xx. */
async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  const token = pageToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { signal, headers });
  if (!response.ok) throw new Error(await problemDetail(response));
  return response.json();
}

function isoQuery(range: TimeRange): URLSearchParams {
  const query = new URLSearchParams();
  if (range.fromMs !== undefined) query.set('from', new Date(range.fromMs).toISOString());
  if (range.toMs !== undefined) query.set('to', new Date(range.toMs).toISOString());
  return query;
}

/** One page of the user list, in id order. */
export async function fetchUserPage(page: UserPageQuery, signal: AbortSignal): Promise<UserPageAnswer> {
  const query = new URLSearchParams({ limit: String(page.limit) });
  if (page.prefix !== '') query.set('prefix', page.prefix);
  if (page.cursor !== undefined) query.set('cursor', page.cursor);
  return parseUserPage(await getJson(`/users?${query.toString()}`, signal));
}

/**
 * One user's summary, whether or not the list shows it: the first id with the user's id as prefix is the id
 * itself when that user exists. Undefined for a user without data.
 */
export async function fetchUser(userId: string, signal?: AbortSignal): Promise<UserSummary | undefined> {
  const query = new URLSearchParams({ limit: '1', prefix: userId });
  const page = parseUserPage(await getJson(`/users?${query.toString()}`, signal));
  return page.users.find((u) => u.user_id === userId);
}

/** A user's minutes in `range`, merged by the server into at most `maxPoints` points. */
export async function fetchTrack(
  userId: string,
  range: TimeRange,
  maxPoints: number,
  signal?: AbortSignal,
): Promise<Track> {
  const query = isoQuery(range);
  query.set('max_points', String(maxPoints));
  const url = `/users/${encodeURIComponent(userId)}/track?${query.toString()}`;
  return trackFromAnswer(await getJson(url, signal));
}

/** The file URL of an export (with the page's token): the same one the download buttons offer. */
export function exportUrl(userId: string, format: ExportFormat, range: TimeRange): string {
  const query = isoQuery(range);
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return withToken(`/users/${encodeURIComponent(userId)}/locations.${format}${search}`);
}
