/*
 * The dashboard page: the user list, and for the chosen user the map, the charts, the date range and the
 * downloads, all kept current by the live feed. Everything it loads comes from the Locus that served it.
 */
import 'leaflet/dist/leaflet.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  exportUrl,
  fetchUsers,
  TrackLoader,
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
import { emptyTrack, mergeTrack, nearestIndex, sliceIndices, trackLength, type Track } from './track.js';
import { UserList } from './user-list.js';

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

class Dashboard {
  readonly #state: PageState;
  readonly #list: UserList;
  readonly #map: TrackMap;
  readonly #charts: Charts;
  readonly #loader = new TrackLoader();
  #userId: string | null = null;
  /** The summary the loaded track matches; a different one from the live feed means there is more to fetch. */
  #loadedSummary: UserSummary | undefined;
  #range: TimeRange = {};
  #view: [number, number] | null = null;
  #track: Track = emptyTrack();
  #loading: AbortController | null = null;
  #refreshing = false;
  #refreshAgain = false;

  constructor(config: PageConfig) {
    this.#state = initialState(config.tileUrl ? 'tiles' : 'grid');
    window.__locus = this.#state;
    watchLongTasks(this.#state);
    this.#list = new UserList(byId('users'), byId('user-filter'), byId('users-empty'), (id) =>
      this.select(id),
    );
    this.#map = new TrackMap(byId('map'), config);
    this.#charts = new Charts(byId('charts'), {
      onZoom: (range) => this.#zoom(range),
      onHover: (ms) => this.#map.highlight(ms === null ? -1 : nearestIndex(this.#track, ms)),
    });
    this.#bindRange();
    byId('reset-zoom').addEventListener('click', () => this.#charts.reset());
    connectLive(
      withToken(config.liveUrl),
      (users) => this.#onUsers(users),
      (status) => this.#onLive(status),
    );
    this.#state.ready = true;
  }

  async start(): Promise<void> {
    this.#onUsers(await fetchUsers());
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
    const summary = this.#list.summary(userId);
    if (summary) this.#setRangeLimits(summary);
    this.#view = null;
    this.#report(this.#load());
  }

  /** Reads the user's minutes in the chosen range from scratch. */
  async #load(): Promise<void> {
    const userId = this.#userId;
    if (userId === null) return;
    this.#loading?.abort();
    const loading = new AbortController();
    this.#loading = loading;
    const summary = this.#list.summary(userId);
    this.#state.loading = true;
    this.#message(`Loading ${summary ? formatCount(summary.minutes) : ''} minutes of ${userId}…`);
    try {
      const track = await this.#loader.load(userId, this.#range, loading.signal);
      if (loading.signal.aborted) return;
      this.#track = track;
      this.#loadedSummary = summary;
      this.#render(true);
      this.#message(`Showing ${formatCount(trackLength(track))} minutes of ${userId}.`);
    } finally {
      if (this.#loading === loading) {
        this.#loading = null;
        this.#state.loading = false;
      }
    }
  }

  /**
   * Fetches what changed since the loaded track: the minutes from its last one on (that one may have gained
   * points). When that does not account for every minute the server counts (points arrived for older minutes),
   * the whole range is read again.
   */
  async #refresh(): Promise<void> {
    if (this.#refreshing || this.#loading) {
      this.#refreshAgain = true;
      return;
    }
    const userId = this.#userId;
    const last = this.#track.minuteMs.at(-1);
    if (userId === null) return;
    this.#refreshing = true;
    try {
      const summary = this.#list.summary(userId);
      if (last === undefined) return await this.#load();
      const fromMs = Math.max(last, this.#range.fromMs ?? -Infinity);
      const update = await this.#loader.load(userId, { fromMs, toMs: this.#range.toMs });
      if (userId !== this.#userId) return;
      this.#track = mergeTrack(this.#track, update);
      this.#loadedSummary = summary;
      const whole = this.#range.fromMs === undefined && this.#range.toMs === undefined;
      if (whole && summary && trackLength(this.#track) !== summary.minutes) return await this.#load();
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

  /** Draws the loaded track: charts at the current zoom, the map on that slice. */
  #render(fit: boolean): void {
    this.#charts.setTrack(this.#track, this.#view);
    this.#drawMap(fit);
    this.#state.minutes = trackLength(this.#track);
    this.#state.charts = this.#charts.drawnPoints();
    this.#updateSummary();
    this.#updateDownloads();
    this.#state.renders += 1;
  }

  #drawMap(fit: boolean): void {
    const [start, end] = this.#view
      ? sliceIndices(this.#track, ...this.#view)
      : [0, trackLength(this.#track)];
    const stats = this.#map.show(this.#track, start, end, fit);
    this.#state.map = { ...this.#state.map, ...stats, ...this.#map.view() };
    this.#state.view = this.#view && {
      from: new Date(this.#view[0]).toISOString(),
      to: new Date(this.#view[1]).toISOString(),
      minutes: end - start,
    };
    const status = byId('view-status');
    const reset = byId('reset-zoom');
    reset.hidden = this.#view === null;
    status.textContent = this.#view
      ? `Map and charts show ${formatMinute(this.#view[0])} – ${formatMinute(this.#view[1])} UTC: ` +
        `${formatCount(end - start)} minutes. Drag across a chart to zoom further.`
      : 'Drag across a chart to show that time on the map; double-click a chart to zoom out.';
  }

  #zoom(range: [number, number] | null): void {
    this.#view = range;
    this.#drawMap(true);
    this.#state.charts = this.#charts.drawnPoints();
    this.#state.renders += 1;
  }

  #onUsers(users: UserSummary[]): void {
    this.#list.update(users);
    this.#state.users = users.map((u) => u.user_id);
    if (this.#userId === null) return;
    const summary = users.find((u) => u.user_id === this.#userId);
    const loaded = this.#loadedSummary;
    if (summary) this.#setRangeLimits(summary);
    if (!summary || !loaded || this.#loading) return;
    if (
      summary.minutes !== loaded.minutes ||
      summary.samples !== loaded.samples ||
      summary.last_minute !== loaded.last_minute
    ) {
      this.#report(this.#refresh());
    }
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
    this.#view = null;
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
    const summary = this.#userId === null ? undefined : this.#list.summary(this.#userId);
    if (!summary) return;
    const inRange = this.#range.fromMs !== undefined || this.#range.toMs !== undefined;
    byId('summary').textContent =
      `${formatCount(summary.minutes)} minutes, ${formatCount(summary.samples)} samples, ` +
      `${formatMinute(Date.parse(summary.first_minute))} – ${formatMinute(Date.parse(summary.last_minute))} UTC` +
      (inRange ? ` · ${formatCount(trackLength(this.#track))} minutes in the chosen range` : '');
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
      if (error instanceof DOMException && error.name === 'AbortError') return;
      this.#message(`Could not load: ${error instanceof Error ? error.message : String(error)}`, true);
    });
  }
}

const dashboard = new Dashboard(readConfig());
dashboard.start().catch((error: unknown) => {
  const message = byId('message');
  message.textContent = `Could not load the user list: ${error instanceof Error ? error.message : String(error)}`;
  message.classList.add('error');
});
