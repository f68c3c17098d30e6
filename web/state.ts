import type { TrackPoint } from './track.js';

/**
 * What the page shows, in numbers, published as `window.__locus` so that tests (and curious operators, from the
 * console) can check what was drawn without reading pixels.
 */
export interface PageState {
  /** The page has started and read its configuration. */
  ready: boolean;
  live: 'connecting' | 'open' | 'reconnecting';
  /** The ids the user list shows, in order. */
  users: string[];
  /** The server has more users for the list than it shows (the next page). */
  usersMore: boolean;
  selectedUser: string | null;
  loading: boolean;
  error: string | null;
  /** Minutes of the selected user in the chosen range (the drawn points may each merge several). */
  minutes: number;
  /** What the map and charts draw: points, and how many seconds each may merge (60: exact minutes). */
  track: { bucketSeconds: number; points: number } | null;
  /** The point under the charts' cursor, as loaded; null when the cursor is elsewhere. */
  hovered: TrackPoint | null;
  /** The date-range picker, ISO instants; null ends are open. */
  range: { from: string | null; to: string | null };
  /** The chart zoom the map follows; null shows everything loaded. */
  view: { from: string; to: string; minutes: number } | null;
  map: {
    base: 'tiles' | 'grid';
    markers: number;
    lineVertices: number;
    bounds: [[number, number], [number, number]] | null;
    zoom: number;
    center: [number, number];
  };
  /** Points drawn by each chart: speed, accuracy, samples. */
  charts: number[];
  /** Live refreshes of the selected user applied so far. */
  liveUpdates: number;
  /** Completed renders of the selected user; tests wait for it to move. */
  renders: number;
  /** The longest main-thread task (PerformanceObserver 'longtask') since the user was chosen, ms. */
  longestTaskMs: number;
}

declare global {
  interface Window {
    __locus: PageState;
  }
}

export function initialState(base: PageState['map']['base']): PageState {
  return {
    ready: false,
    live: 'connecting',
    users: [],
    usersMore: false,
    selectedUser: null,
    loading: false,
    error: null,
    minutes: 0,
    track: null,
    hovered: null,
    range: { from: null, to: null },
    view: null,
    map: { base, markers: 0, lineVertices: 0, bounds: null, zoom: 0, center: [0, 0] },
    charts: [0, 0, 0],
    liveUpdates: 0,
    renders: 0,
    longestTaskMs: 0,
  };
}

/** Records the longest task, where the browser reports them. */
export function watchLongTasks(state: PageState): void {
  if (!PerformanceObserver.supportedEntryTypes.includes('longtask')) return;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      state.longestTaskMs = Math.max(state.longestTaskMs, entry.duration);
  }).observe({ type: 'longtask' });
}
