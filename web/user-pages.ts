/*
 * The user list as the server pages it (GET /users: ordered by id, `prefix`, `next_cursor`), kept current by the
 * live feed's changed users. Pure (no DOM): the tests run it under Node with a fake server.
 */

export interface UserSummary {
  user_id: string;
  minutes: number;
  samples: number;
  first_minute: string;
  last_minute: string;
}

/** The body of GET /users. */
export interface UserPageAnswer {
  users: UserSummary[];
  next_cursor: string | null;
}

export interface UserPageQuery {
  limit: number;
  /** Empty for every user. */
  prefix: string;
  cursor?: string;
}

export type FetchUserPage = (query: UserPageQuery, signal: AbortSignal) => Promise<UserPageAnswer>;

/** What the list shows: users in id order, all of those with the prefix up to the last one. */
export interface UserListView {
  users: readonly UserSummary[];
  prefix: string;
  /** The server holds more users with the prefix after the last one shown. */
  more: boolean;
  /** A page is being fetched. */
  loading: boolean;
}

/** The server's page size: GET /users answers up to this many users by default. */
export const PAGE_SIZE = 1_000;
/** The most one GET /users answers; a reload of several loaded pages asks for them in one request up to this. */
export const MAX_PAGE = 10_000;
/** How long the search box waits for typing to pause before it asks the server. */
export const SEARCH_DEBOUNCE_MS = 250;

/**
 * Compares ids in code point order, the order the server pages them in (UTF-8 byte order). JavaScript's `<`
 * compares UTF-16 code units, which puts U+10000 and above (surrogate pairs, 0xD800–0xDFFF) before U+E000–U+FFFF;
 * shifting the surrogates above the rest of the code units at the first difference restores code point order.
 */
export function compareIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** The server matches the prefix against the id in NFC, and normalises the prefix the same way. */
export function normalPrefix(text: string): string {
  return text.normalize('NFC');
}

/**
 * The later of two summaries of one user. A user's totals only grow: every change stores points, so the one with
 * more samples is the newer, whichever arrived last (a page fetched before a live event can answer after it).
 */
export function newerSummary(a: UserSummary, b: UserSummary): UserSummary {
  return a.samples > b.samples ? a : b;
}

/**
 * `shown` with the live feed's `changed` users merged in, in id order. A shown user is updated; a new one is added
 * only when it has the prefix and sorts within the loaded range (anywhere when `complete`, i.e. the server has no
 * more pages; before the last shown otherwise): one after it arrives with the next page, from the cursor.
 */
export function mergeUsers(
  shown: readonly UserSummary[],
  changed: readonly UserSummary[],
  prefix: string,
  complete: boolean,
): UserSummary[] {
  const last = shown.at(-1)?.user_id;
  const inRange = (id: string) =>
    id.startsWith(prefix) && (complete || (last !== undefined && compareIds(id, last) < 0));
  const incoming = [...changed].sort((a, b) => compareIds(a.user_id, b.user_id));
  const merged: UserSummary[] = [];
  let i = 0;
  for (const user of incoming) {
    while (i < shown.length && compareIds(shown[i]!.user_id, user.user_id) < 0) merged.push(shown[i++]!);
    const previous = merged.at(-1);
    // The same user twice in `changed` (changes gathered over several events): the newer of them stays.
    if (previous?.user_id === user.user_id) merged[merged.length - 1] = newerSummary(previous, user);
    else if (shown[i]?.user_id === user.user_id) merged.push(newerSummary(shown[i++]!, user));
    else if (inRange(user.user_id)) merged.push(user);
  }
  while (i < shown.length) merged.push(shown[i++]!);
  return merged;
}

function isUserSummary(value: unknown): value is UserSummary {
  const u = value as Partial<Record<keyof UserSummary, unknown>> | null;
  return (
    typeof u?.user_id === 'string' &&
    typeof u.minutes === 'number' &&
    typeof u.samples === 'number' &&
    typeof u.first_minute === 'string' &&
    typeof u.last_minute === 'string'
  );
}

/** The users of a GET /users answer or a live `users` event; throws when the body is not one. */
export function parseUsers(body: unknown): UserSummary[] {
  const users = (body as { users?: unknown } | null)?.users;
  if (!Array.isArray(users) || !users.every(isUserSummary)) throw new Error('not a list of users');
  return users;
}

export function parseUserPage(body: unknown): UserPageAnswer {
  const cursor = (body as { next_cursor?: unknown } | null)?.next_cursor;
  if (cursor !== null && typeof cursor !== 'string') throw new Error('the user page has no next_cursor');
  return { users: parseUsers(body), next_cursor: cursor };
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

export interface UserPagerOptions {
  fetchPage: FetchUserPage;
  /** Called after every change of what the list shows. */
  onView: (view: UserListView) => void;
  onError: (error: Error) => void;
  debounceMs?: number;
  pageSize?: number;
}

/**
 * The loaded pages of the user list. One request at a time: a search or a reload aborts whatever is in flight;
 * "more" waits its turn. Live changes that arrive while a page is on its way are merged into its answer as well,
 * since that answer may have been read before them.
 */
export class UserPager {
  readonly #options: Required<UserPagerOptions>;
  #users: UserSummary[] = [];
  #prefix = '';
  /** The prefix last searched for; ahead of `#prefix` while its answer is awaited. */
  #wanted = '';
  #cursor: string | null = null;
  #request: AbortController | null = null;
  #changedMeanwhile: UserSummary[] = [];
  #debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(options: UserPagerOptions) {
    this.#options = { debounceMs: SEARCH_DEBOUNCE_MS, pageSize: PAGE_SIZE, ...options };
  }

  get view(): UserListView {
    return {
      users: this.#users,
      prefix: this.#prefix,
      more: this.#cursor !== null,
      loading: this.#request !== null,
    };
  }

  summary(userId: string): UserSummary | undefined {
    return this.#users.find((u) => u.user_id === userId);
  }

  /** Shows the users whose id starts with `text` once typing pauses; an answer for older text is not waited for. */
  search(text: string): void {
    clearTimeout(this.#debounce);
    this.#request?.abort();
    const prefix = normalPrefix(text);
    this.#wanted = prefix;
    this.#debounce = setTimeout(
      () => void this.#replace(prefix, this.#options.pageSize),
      this.#options.debounceMs,
    );
  }

  /**
   * Reads the shown pages again (the live feed reconnected and may have missed changes): in one request of as many
   * users as are shown, so the list keeps its length and scroll position.
   */
  reload(): Promise<void> {
    clearTimeout(this.#debounce);
    // A search still waiting for typing to pause is done now, rather than lost.
    const shown = this.#wanted === this.#prefix ? this.#users.length : 0;
    const limit = Math.min(MAX_PAGE, Math.max(this.#options.pageSize, shown));
    return this.#replace(this.#wanted, limit);
  }

  /** The next page, appended; nothing when there is none or a request is in flight. */
  async more(): Promise<void> {
    const cursor = this.#cursor;
    if (cursor === null || this.#request !== null) return;
    const prefix = this.#prefix;
    const answer = await this.#fetch({ limit: this.#options.pageSize, prefix, cursor });
    this.#settle(answer && [...this.#users, ...answer.users], prefix, answer?.next_cursor ?? null);
  }

  /** Users the live feed says changed. */
  applyChanges(changed: readonly UserSummary[]): void {
    if (this.#request !== null) this.#changedMeanwhile.push(...changed);
    this.#settle(this.#users, this.#prefix, this.#cursor, changed);
  }

  async #replace(prefix: string, limit: number): Promise<void> {
    this.#request?.abort();
    const answer = await this.#fetch({ limit, prefix });
    this.#settle(answer?.users ?? null, prefix, answer?.next_cursor ?? null);
  }

  /** One request; null when it was aborted (a newer one replaced it) or failed (reported). */
  async #fetch(query: UserPageQuery): Promise<UserPageAnswer | null> {
    const request = new AbortController();
    this.#request = request;
    this.#changedMeanwhile = [];
    this.#options.onView(this.view);
    try {
      const answer = await this.#options.fetchPage(query, request.signal);
      return request.signal.aborted ? null : answer;
    } catch (error) {
      if (!request.signal.aborted && !isAbort(error)) {
        this.#options.onError(error instanceof Error ? error : new Error(String(error)));
      }
      return null;
    } finally {
      if (this.#request === request) this.#request = null;
    }
  }

  /** Shows `users` (null: keeps what is shown) with the changes gathered meanwhile merged in. */
  #settle(
    users: UserSummary[] | null,
    prefix: string,
    cursor: string | null,
    changed: readonly UserSummary[] = this.#changedMeanwhile,
  ): void {
    if (users !== null) {
      this.#users = mergeUsers(users, changed, prefix, cursor === null);
      this.#prefix = prefix;
      this.#cursor = cursor;
    }
    this.#options.onView(this.view);
  }
}
