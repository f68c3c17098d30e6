/*
 * The dashboard page: the user list, and for the chosen user the map, the charts, the date range and the
 * downloads, all kept current by the live feed. Everything it loads comes from the Locus that served it.
 *
 * Nothing it reads grows with the data: the user list comes a page at a time, and a track comes merged by the
 * server into about one point per pixel (GET /users/{id}/track); zooming in asks for the zoomed range again, in
 * finer points, down to the stored minutes.
 */
import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  exportUrl,
  fetchTrack,
  fetchUser,
  fetchUserPage,
  type ExportFormat,
  type TimeRange,
  type UserSummary,
  withToken,
} from './api.js';
import { Charts } from './charts.js';
import { formatCount, formatMinute, fromInputValue, toInputValue } from './format.js';
import { connectLive, type LiveStatus } from './live.js';
import { TrackMap } from './map.js';
import { initialState, watchLongTasks, type PageState } from './state.js';
import {
  canAppend,
  isExact,
  mergeTrack,
  nearestIndex,
  pointAt,
  sliceIndices,
  trackMinutes,
  type Track,
} from './track.js';
import { UserList } from './user-list.js';
import { newerSummary, UserPager, type UserListView } from './user-pages.js';
import { covers, maxPointsFor, zoomRange, type LoadedTrack } from './zoom.js';

interface PageConfig {
  tileUrl: string | null;
  tileAttribution: string | null;
  liveUrl: string;
}

function readConfig(): PageConfig {
  const text = document.getElementById('locus-config')?.textContent;
  const given = text ? (JSON.parse(text) as Partial<PageConfig>) : {};
  return {
    tileUrl: given.tileUrl ?? null,
    tileAttribution: given.tileAttribution ?? null,
    liveUrl: given.liveUrl ?? '/events',
  };
}

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

const LIVE_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
};

const FORMATS: readonly ExportFormat[] = ['geojson', 'csv', 'gpx'];

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** "means of up to 100 minutes" for merged points; empty for exact minutes. */
function bucketText(track: Track): string {
  return isExact(track) ? '' : `means of up to ${formatCount(track.bucketSeconds / 60)} minutes each`;
}

class Dashboard {
  readonly #state: PageState;
  readonly #pager: UserPager;
  readonly #list: UserList;
  readonly #map: TrackMap;
  readonly #charts: Charts;
  #userId: string | null = null;
  /** The chosen user's latest summary: from the list, the live feed, or asked for when the list lacks it. */
  #summary: UserSummary | undefined;
  /** The summary the loaded track matches; a newer one from the live feed means there is more to fetch. */
  #loadedSummary: UserSummary | undefined;
  #range: TimeRange = {};
  /** The chosen range's track. */
  #overview: LoadedTrack | null = null;
  /** The charts' zoom, both ends inclusive; null shows the whole range. */
  #view: [number, number] | null = null;
  /** A finer track fetched for the zoom, when the overview's points are merged minutes. */
  #detail: LoadedTrack | null = null;
  #loading: AbortController | null = null;
  #zooming: AbortController | null = null;
  #refreshing = false;
  #refreshAgain = false;

  constructor(config: PageConfig) {
    this.#state = initialState(config.tileUrl ? 'tiles' : 'grid');
    window.__locus = this.#state;
    watchLongTasks(this.#state);
    this.#pager = new UserPager({
      fetchPage: fetchUserPage,
      onView: (view) => this.#showUsers(view),
      onError: (error) => this.#message(`Could not load the user list: ${error.message}`, true),
    });
    this.#list = new UserList(
      {
        table: byId('users'),
        filter: byId('user-filter'),
        empty: byId('users-empty'),
        status: byId('users-status'),
        more: byId('users-more'),
      },
      {
        onSelect: (id) => this.select(id),
        onSearch: (text) => this.#pager.search(text),
        onMore: () => void this.#pager.more(),
      },
    );
    this.#map = new TrackMap(byId('map'), config);
    this.#charts = new Charts(byId('charts'), {
      onZoom: (range) => this.#zoom(range),
      onHover: (ms) => this.#hover(ms),
    });
    this.#bindRange();
    byId('reset-zoom').addEventListener('click', () => this.#charts.reset());
    connectLive(withToken(config.liveUrl), {
      onReady: () => this.#onReady(),
      onUsers: (users) => this.#onUsers(users),
      onStatus: (status) => this.#onLive(status),
    });
    this.#state.ready = true;
  }

  /**
   * Loads the list at once rather than waiting for the feed's `ready` (which loads it again), so the page shows
   * users even when the feed is refused.
   */
  start(): void {
    void this.#pager.reload();
    const linked = /^#user=(.+)$/.exec(location.hash)?.[1];
    if (linked) this.select(decodeURIComponent(linked));
  }

  select(userId: string): void {
    if (userId === this.#userId) return;
    this.#userId = userId;
    this.#state.selectedUser = userId;
    this.#state.longestTaskMs = 0;
    this.#list.select(userId);
    history.replaceState(null, '', `#user=${encodeURIComponent(userId)}`);
    byId('track-heading').textContent = userId;
    byId('track-panel').hidden = false;
    byId('charts').hidden = false;
    this.#summary = this.#pager.summary(userId);
    this.#loadedSummary = undefined;
    // The previous user's tracks must not be zoomed or refreshed under this user's id while this one loads.
    this.#overview = null;
    this.#detail = null;
    this.#view = null;
    this.#report(this.#open(userId));
  }

  /** A newly chosen user: its summary, when the list does not show it, then its track. */
  async #open(userId: string): Promise<void> {
    if (this.#summary === undefined) {
      const summary = await fetchUser(userId);
      if (userId !== this.#userId) return;
      this.#summary = summary;
    }
    if (this.#summary) this.#setRangeLimits(this.#summary);
    await this.#load();
  }

  /** About one point per device pixel of the charts or the map, whichever is wider. */
  #maxPoints(): number {
    const width = Math.max(byId('charts').clientWidth, byId('map').clientWidth);
    return maxPointsFor(width * devicePixelRatio);
  }

  /** Reads the chosen range's track from scratch, and zooms out. */
  async #load(): Promise<void> {
    const userId = this.#userId;
    if (userId === null) return;
    this.#loading?.abort();
    this.#zooming?.abort();
    const loading = new AbortController();
    this.#loading = loading;
    const summary = this.#summary;
    const range = this.#range;
    this.#busy();
    this.#message(`Loading ${summary ? `${formatCount(summary.minutes)} ` : ''}minutes of ${userId}…`);
    try {
      const track = await fetchTrack(userId, range, this.#maxPoints(), loading.signal);
      this.#zooming?.abort(); // a zoom into the track this one replaces
      this.#overview = { track, range };
      this.#loadedSummary = summary;
      this.#view = null;
      this.#detail = null;
      this.#render(true);
      const merged = bucketText(track);
      this.#message(
        `Showing ${formatCount(trackMinutes(track))} minutes of ${userId}` +
          (merged ? `, as ${merged}; zoom into a chart for every minute.` : '.'),
      );
    } finally {
      if (this.#loading === loading) this.#loading = null;
      this.#busy();
    }
  }

  /**
   * The charts zoomed to `view` (or out, null). What is loaded is drawn at once; when its points merge minutes,
   * the zoomed range is fetched again in finer points, and drawn when it comes.
   */
  #zoom(view: [number, number] | null): void {
    this.#zooming?.abort();
    this.#view = view;
    const overview = this.#overview;
    if (!overview) return;
    if (view === null) this.#detail = null;
    const wanted = view && zoomRange(view, this.#range);
    const source = wanted && [this.#detail, overview].find((l) => l !== null && covers(l, wanted));
    if (source === overview) this.#detail = null;
    this.#render(true);
    if (wanted && !source) this.#report(this.#loadDetail(wanted));
  }

  async #loadDetail(range: Required<TimeRange>): Promise<void> {
    const userId = this.#userId;
    if (userId === null) return;
    const zooming = new AbortController();
    this.#zooming = zooming;
    this.#busy();
    try {
      const track = await fetchTrack(userId, range, this.#maxPoints(), zooming.signal);
      this.#detail = { track, range };
      this.#render(true);
    } finally {
      if (this.#zooming === zooming) this.#zooming = null;
      this.#busy();
    }
  }

  #busy(): void {
    this.#state.loading = this.#loading !== null || this.#zooming !== null;
  }

  /**
   * Fetches what changed in what is loaded (the range's track, and the zoom's when there is one); see #updated.
   * One refresh at a time: changes that arrive meanwhile are fetched by one more after it.
   */
  async #refresh(): Promise<void> {
    if (this.#refreshing || this.#loading) {
      this.#refreshAgain = true;
      return;
    }
    const userId = this.#userId;
    const overview = this.#overview;
    if (userId === null || !overview) return;
    this.#refreshing = true;
    try {
      const summary = this.#summary;
      const whole = overview.range.fromMs === undefined && overview.range.toMs === undefined;
      const track = await this.#updated(userId, overview, whole ? summary?.minutes : undefined);
      if (userId !== this.#userId || overview !== this.#overview) return; // a new load replaced it meanwhile
      this.#overview = { track, range: overview.range };
      this.#loadedSummary = summary;
      const detail = this.#detail;
      if (detail) {
        const finer = await this.#updated(userId, detail);
        if (detail === this.#detail) this.#detail = { track: finer, range: detail.range };
      }
      this.#state.liveUpdates += 1;
      this.#render(false);
    } finally {
      this.#refreshing = false;
      if (this.#refreshAgain) {
        this.#refreshAgain = false;
        this.#report(this.#refresh());
      }
    }
  }

  /**
   * `loaded` with what changed. Exact minutes fetch only the minutes from their last one on (that one may have
   * gained points) and append them, unless that cannot account for the user's minute count (`expectedMinutes`:
   * points arrived for older minutes) or outgrows a screen; merged points are read again, since every bucket
   * may have moved.
   */
  async #updated(userId: string, loaded: LoadedTrack, expectedMinutes?: number): Promise<Track> {
    const { track, range } = loaded;
    const maxPoints = this.#maxPoints();
    const last = track.startMs.at(-1);
    if (isExact(track) && last !== undefined) {
      const fromMs = Math.max(last, range.fromMs ?? -Infinity);
      const merged = mergeTrack(track, await fetchTrack(userId, { fromMs, toMs: range.toMs }, maxPoints));
      if (canAppend(merged, maxPoints, expectedMinutes)) return merged;
    }
    return fetchTrack(userId, range, maxPoints);
  }

  /** The track the charts and the map draw: the zoom's when fetched, else the range's. */
  #shown(): Track | null {
    return (this.#view && this.#detail?.track) ?? this.#overview?.track ?? null;
  }

  /** Draws the shown track: charts at the current zoom, the map on that slice. */
  #render(fit: boolean): void {
    const shown = this.#shown();
    if (!shown || !this.#overview) return;
    this.#charts.setTrack(shown, this.#view);
    this.#drawMap(shown, fit);
    this.#state.minutes = trackMinutes(this.#overview.track);
    this.#state.charts = this.#charts.drawnPoints();
    this.#state.hovered = null;
    this.#updateSummary();
    this.#updateDownloads();
    this.#state.renders += 1;
  }

  #drawMap(shown: Track, fit: boolean): void {
    const view = this.#view;
    const [start, end] = view ? sliceIndices(shown, ...view) : [0, shown.timeMs.length];
    const stats = this.#map.show(shown, start, end, fit);
    this.#state.map = { ...this.#state.map, ...stats, ...this.#map.view() };
    this.#state.track = { bucketSeconds: shown.bucketSeconds, points: end - start };
    const minutes = trackMinutes(shown, start, end);
    this.#state.view = view && {
      from: new Date(view[0]).toISOString(),
      to: new Date(view[1]).toISOString(),
      minutes,
    };
    byId('reset-zoom').hidden = view === null;
    const merged = bucketText(shown);
    byId('view-status').textContent = view
      ? `Map and charts show ${formatMinute(view[0])} – ${formatMinute(view[1])} UTC: ` +
        `${formatCount(minutes)} minutes${merged ? `, as ${merged}` : ''}. Drag across a chart to zoom further.`
      : 'Drag across a chart to show that time on the map; double-click a chart to zoom out.';
  }

  /** The charts' cursor is near `ms`: the map marks that point, and the page state holds its values. */
  #hover(ms: number | null): void {
    const shown = this.#shown();
    const i = ms === null || !shown ? -1 : nearestIndex(shown, ms);
    this.#map.highlight(i);
    this.#state.hovered = shown && i >= 0 ? pointAt(shown, i) : null;
  }

  #showUsers(view: UserListView): void {
    this.#list.show(view);
    this.#state.users = view.users.map((u) => u.user_id);
    this.#state.usersMore = view.more;
  }

  /** The feed (re)connected: what changed while it was away was not sent, so the list and the user are read again. */
  #onReady(): void {
    void this.#pager.reload();
    const userId = this.#userId;
    if (userId === null) return;
    this.#report(
      fetchUser(userId).then((summary) => {
        if (summary && userId === this.#userId) this.#onSummary(summary);
      }),
    );
  }

  #onUsers(users: UserSummary[]): void {
    this.#pager.applyChanges(users);
    const mine = users.find((u) => u.user_id === this.#userId);
    if (mine) this.#onSummary(mine);
  }

  /** A summary of the chosen user: more samples than the loaded track had means there is more to fetch. */
  #onSummary(summary: UserSummary): void {
    this.#summary = this.#summary ? newerSummary(this.#summary, summary) : summary;
    this.#setRangeLimits(this.#summary);
    this.#updateSummary();
    const loaded = this.#loadedSummary;
    if (!loaded || this.#loading) return;
    if (this.#summary.samples > loaded.samples) this.#report(this.#refresh());
  }

  #onLive(status: LiveStatus): void {
    this.#state.live = status;
    const element = byId('live');
    element.textContent = LIVE_TEXT[status];
    element.dataset.status = status;
  }

  #bindRange(): void {
    const form = byId<HTMLFormElement>('range');
    const from = byId<HTMLInputElement>('range-from');
    const to = byId<HTMLInputElement>('range-to');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const fromMs = fromInputValue(from.value) ?? undefined;
      const toMs = fromInputValue(to.value) ?? undefined;
      if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
        this.#message('The end of the range must be after its start.', true);
        to.focus();
        return;
      }
      this.#setRange({ fromMs, toMs });
    });
    byId('range-clear').addEventListener('click', () => {
      from.value = '';
      to.value = '';
      this.#setRange({});
    });
  }

  #setRange(range: TimeRange): void {
    this.#range = range;
    this.#state.range = {
      from: range.fromMs === undefined ? null : new Date(range.fromMs).toISOString(),
      to: range.toMs === undefined ? null : new Date(range.toMs).toISOString(),
    };
    this.#report(this.#load());
  }

  #setRangeLimits(summary: UserSummary): void {
    for (const id of ['range-from', 'range-to']) {
      const input = byId<HTMLInputElement>(id);
      input.min = toInputValue(Date.parse(summary.first_minute));
      input.max = toInputValue(Date.parse(summary.last_minute) + 60_000);
    }
  }

  #updateSummary(): void {
    const summary = this.#summary;
    if (!summary) return;
    const inRange = this.#range.fromMs !== undefined || this.#range.toMs !== undefined;
    const rangeMinutes = this.#overview ? trackMinutes(this.#overview.track) : 0;
    byId('summary').textContent =
      `${formatCount(summary.minutes)} minutes, ${formatCount(summary.samples)} samples, ` +
      `${formatMinute(Date.parse(summary.first_minute))} – ${formatMinute(Date.parse(summary.last_minute))} UTC` +
      (inRange ? ` · ${formatCount(rangeMinutes)} minutes in the chosen range` : '');
  }

  #updateDownloads(): void {
    for (const format of FORMATS) {
      const link = byId<HTMLAnchorElement>(`download-${format}`);
      if (this.#userId === null) continue;
      link.href = exportUrl(this.#userId, format, this.#range);
      link.removeAttribute('aria-disabled');
    }
  }

  #message(text: string, isError = false): void {
    const element = byId('message');
    element.textContent = text;
    element.classList.toggle('error', isError);
    if (isError) this.#state.error = text;
  }

  /** Async work started from an event: a failure is shown on the page rather than lost. */
  #report(work: Promise<void>): void {
    work.catch((error: unknown) => {
      if (isAbort(error)) return;
      this.#message(`Could not load: ${error instanceof Error ? error.message : String(error)}`, true);
    });
  }
}

new Dashboard(readConfig()).start();
