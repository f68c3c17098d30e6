/*
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser download). Skips,
 * loudly, where no Chromium is installed; .ci/run installs it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { generateTrace } from '../../src/tools/generate/trace.js';
import { buildApp } from '../../src/http/app.js';
import type { LocusApp } from '../../src/http/types.js';
import type { Point } from '../../src/ingest/point.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import type { TrackPoint } from '../../src/http/routes/read/track.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => Boolean(path && existsSync(path)),
);
if (!CHROMIUM) {
  console.warn('SKIPPING the dashboard browser test: no Chromium (Debian: apt-get install -y chromium)');
}

const ROOT = new URL('../../', import.meta.url).pathname;
const RESULTS = join(ROOT, 'test-results');
const BIG_USER_MINUTES = 100_000;
const PAGE_SIZE = 1_000; // web/user-pages.ts
const MAX_POINTS = 2_000; // web/zoom.ts
/** Users beyond the first page of the list: `w0000`… sort after big, u1, u2 and u3. */
const MANY_USERS = 1_050;

/** What the test reads of `window.__locus` (web/state.ts). */
interface PageState {
  ready: boolean;
  live: string;
  users: string[];
  usersMore: boolean;
  selectedUser: string | null;
  loading: boolean;
  error: string | null;
  minutes: number;
  track: { bucketSeconds: number; points: number } | null;
  hovered: TrackPoint | null;
  view: { from: string; to: string; minutes: number } | null;
  map: {
    base: string;
    markers: number;
    lineVertices: number;
    bounds: [[number, number], [number, number]] | null;
  };
  charts: number[];
  liveUpdates: number;
  renders: number;
  longestTaskMs: number;
}

interface Location {
  minute: string;
  lat: number;
  long: number;
  accuracy: number | null;
  speed: number | null;
  samples: number;
}

interface TrackAnswer {
  bucket_seconds: number;
  points: TrackPoint[];
}

/**
 * Ten weeks of one point a minute: loops round a city, fast and slow stretches, some minutes without a speed,
 * accuracy that drifts with the odd spike.
 */
function bigUser(minutes: number): Point[] {
  const start = Date.UTC(2017, 0, 1);
  return Array.from({ length: minutes }, (_, i) => ({
    userId: 'big',
    tsMs: start + i * 60_000 + 7_000,
    lat: 51.5 + 0.12 * Math.sin(i / 9_000) + 0.02 * Math.sin(i / 700),
    long: -0.12 + 0.2 * Math.cos(i / 9_000) + 0.03 * Math.cos(i / 500),
    accuracy: 8 + 6 * Math.sin(i / 900) + (i % 997 === 0 ? 300 : 0),
    speed: i % 1440 < 60 ? null : Math.max(0, 12 * Math.sin(i / 240) + 3 * Math.sin(i / 17)),
  }));
}

/** One point each for `count` users named w0000, w0001…: enough for a second page of the user list. */
function manyUsers(count: number): Point[] {
  return Array.from({ length: count }, (_, i) => ({
    userId: `w${String(i).padStart(4, '0')}`,
    tsMs: Date.UTC(2017, 0, 2) + i * 60_000,
    lat: 48.8,
    long: 2.3,
    accuracy: 10,
    speed: null,
  }));
}

async function put(app: LocusApp, body: unknown): Promise<void> {
  const response = await app.inject({ method: 'PUT', url: '/location', payload: body as object });
  assert.equal(response.statusCode, 200, response.body);
}

/*
 * Functions passed to the page run there, not here: they reach the page through `globalThis`, since this file is
 * type-checked without the DOM library. (Strings would be eval'd, which the page's CSP rightly refuses.)
 */
type PageGlobals = { __locus: PageState };

function state(page: Page): Promise<PageState> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__locus);
}

/** Waits until `predicate` (run in the page, so self-contained) holds, and answers the page state then. */
async function until(
  page: Page,
  predicate: (n: number) => boolean,
  n = 0,
  timeout = 20_000,
): Promise<PageState> {
  await page.waitForFunction(predicate, n, { timeout });
  return state(page);
}

/** Waits until the page has rendered past `renders` and is idle again. */
function rendered(page: Page, renders: number, timeout = 20_000): Promise<PageState> {
  return until(
    page,
    (n) => {
      const s = (globalThis as unknown as PageGlobals).__locus;
      return s.renders > n && !s.loading;
    },
    renders,
    timeout,
  );
}

interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

/** How many pixels of the canvases under `selector` are painted, per canvas. */
function inkedPixels(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, (elements) =>
    (elements as unknown as CanvasLike[]).map((canvas) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) inked++;
      return inked;
    }),
  );
}

/** [[south, west], [north, east]] of locations. */
function boundsOf(locations: Location[]): [[number, number], [number, number]] {
  const lats = locations.map((l) => l.lat);
  const longs = locations.map((l) => l.long);
  return [
    [Math.min(...lats), Math.min(...longs)],
    [Math.max(...lats), Math.max(...longs)],
  ];
}

/** Drags across the first chart from `from` to `to`, fractions of its width. */
async function dragChart(page: Page, from: number, to: number): Promise<void> {
  const box = await page.locator('.chart .u-over').first().boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width * from, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
}

function assertBoundsClose(
  actual: PageState['map']['bounds'],
  expected: [[number, number], [number, number]],
) {
  assert.ok(actual, 'the map has bounds');
  actual.flat().forEach((value, i) => {
    assert.ok(
      Math.abs(value - expected.flat()[i]!) < 1e-6,
      `bounds ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`,
    );
  });
}

describe('dashboard in Chromium', { skip: !CHROMIUM && 'no Chromium installed', timeout: 240_000 }, () => {
  let dir: string;
  let store: Store;
  let app: LocusApp;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  const offsite: string[] = [];
  const problems: string[] = [];
  /** Every request the page made to Locus, as path and query. */
  const requested: string[] = [];

  const locations = async (query: string, user = 'u2'): Promise<Location[]> =>
    (await app.inject(`/users/${user}/locations?limit=10000${query}`)).json<{ locations: Location[] }>()
      .locations;

  /** The next answer of GET /users/{user}/track whose query matches. */
  const trackAnswer = (user: string, match: (query: URLSearchParams) => boolean) =>
    page.waitForResponse((response) => {
      const url = new URL(response.url());
      return url.pathname === `/users/${user}/track` && match(url.searchParams);
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locus-browser-'));
    // The bundle is built from the sources under test, not taken from whatever dist/ holds.
    await promisify(execFile)(process.execPath, [
      join(ROOT, 'scripts/build-web.js'),
      '--outdir',
      join(dir, 'web'),
    ]);
    store = openSqliteStore({ path: ':memory:' });
    app = await buildApp({ store, dashboard: { webRoot: join(dir, 'web'), liveIntervalMs: 200 } });
    for (const row of generateTrace({ seed: 5, users: 3, minutes: 90 })) await put(app, row);
    await store.ingest(bigUser(BIG_USER_MINUTES));
    await store.ingest(manyUsers(MANY_USERS));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1440, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => {
      if (request.url().startsWith(base)) requested.push(request.url().slice(base.length));
      else if (!request.url().startsWith('data:')) offsite.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(base);
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as Partial<PageGlobals>).__locus;
      return s?.ready === true && s.users.length === 1_000;
    });
  });

  after(async () => {
    await context?.close();
    await app?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the first page of users with their minutes, and connects the live feed', async () => {
    const rows = await page.locator('#users tbody tr').allInnerTexts();
    assert.equal(rows.length, PAGE_SIZE);
    assert.match(rows[0]!, /^\s*big\s+100,000\s+100,000\s+2017-01-01 00:00\s+2017-03-11 10:39/);
    assert.equal((await state(page)).usersMore, true);
    assert.ok(requested.includes(`/users?limit=${PAGE_SIZE}`), requested.join(' '));
    await until(page, () => (globalThis as unknown as PageGlobals).__locus.live === 'open');
    assert.equal(await page.locator('#live').innerText(), 'Live');
  });

  it('asks the server for the users whose id starts with what is typed', async () => {
    await page.fill('#user-filter', 'u');
    const found = await until(page, () => {
      const s = (globalThis as unknown as PageGlobals).__locus;
      return s.users.join() === 'u1,u2,u3' && !s.usersMore;
    });
    assert.deepEqual(found.users, ['u1', 'u2', 'u3']);
    assert.ok(requested.includes(`/users?limit=${PAGE_SIZE}&prefix=u`), requested.join(' '));
    assert.match(await page.locator('#users-status').innerText(), /3 users whose id starts with “u”/);
    await page.fill('#user-filter', 'nobody');
    await until(page, () => (globalThis as unknown as PageGlobals).__locus.users.length === 0);
    assert.match(await page.locator('#users-status').innerText(), /No user id starts with “nobody”/);
    await page.fill('#user-filter', '');
    await until(page, () => (globalThis as unknown as PageGlobals).__locus.users.length === 1_000);
  });

  it('adds a new user in order when it falls within the loaded pages, and loads the rest on scrolling', async () => {
    const point = { timestamp: '2017-01-03T00:00:00Z', lat: 1, long: 1, accuracy: 5, speed: 1 };
    await put(app, { ...point, user_id: 'v0' }); // between u3 and w0000: in the first page
    await put(app, { ...point, user_id: 'x0' }); // after the last user loaded: it comes with the next page
    const live = await until(page, () => (globalThis as unknown as PageGlobals).__locus.users.includes('v0'));
    assert.deepEqual(live.users.slice(0, 6), ['big', 'u1', 'u2', 'u3', 'v0', 'w0000']);
    assert.equal(live.users.length, PAGE_SIZE + 1);
    assert.ok(!live.users.includes('x0'));
    await page.locator('#users').evaluate((table) => {
      (
        table as unknown as { parentElement: { scrollTop: number; scrollHeight: number } }
      ).parentElement.scrollTop = 1e9;
    });
    const all = await until(page, () => !(globalThis as unknown as PageGlobals).__locus.usersMore);
    assert.equal(all.users.length, 4 + 1 + MANY_USERS + 1);
    assert.equal(all.users.at(-1), 'x0');
    assert.ok(
      requested.some((url) => /^\/users\?limit=1000&cursor=/.test(url)),
      'the next page, by cursor',
    );
    await page.locator('#users').evaluate((table) => {
      (table as unknown as { parentElement: { scrollTop: number } }).parentElement.scrollTop = 0;
    });
  });

  it('is chosen with the keyboard, and draws the whole track and the charts', async () => {
    await page.focus('#user-filter');
    await page.keyboard.press('Tab'); // the first user
    await page.keyboard.press('ArrowDown'); // u1
    await page.keyboard.press('ArrowDown'); // u2
    await page.keyboard.press('Enter');
    const s = await rendered(page, 0);
    const expected = await locations('');
    assert.equal(s.selectedUser, 'u2');
    assert.equal(await page.locator('#users button[aria-pressed="true"]').innerText(), 'u2');
    assert.equal(s.error, null);
    assert.equal(s.minutes, expected.length);
    assert.deepEqual(s.track, { bucketSeconds: 60, points: expected.length }, 'few minutes: every one');
    assert.equal(s.map.markers, expected.length);
    assert.equal(s.map.base, 'grid');
    assertBoundsClose(s.map.bounds, boundsOf(expected));
    assert.equal(s.charts.length, 3);
    assert.ok(
      s.charts.every((n) => n >= expected.length),
      `chart points ${s.charts.join(', ')}`,
    );
    const chartInk = await inkedPixels(page, '.chart canvas');
    assert.equal(chartInk.length, 3);
    assert.ok(
      chartInk.every((n) => n > 2_000),
      `chart pixels ${chartInk.join(', ')}`,
    );
    const mapInk = await inkedPixels(page, '#map .leaflet-overlay-pane canvas');
    assert.ok(
      mapInk.some((n) => n > 2_000),
      `map pixels ${mapInk.join(', ')}`,
    );
    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'dashboard.png'), fullPage: true });
  });

  it('shows a minute on the map when the chart is hovered', async () => {
    const chart = page.locator('.chart .u-over').first();
    const box = await chart.boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tooltip = page.locator('#map .leaflet-tooltip');
    await tooltip.waitFor();
    assert.match(await tooltip.innerText(), /2017-01-01 \d\d:\d\d UTC\nSpeed .*\nAccuracy .*sample/);
    await page.mouse.move(5, 5);
  });

  it('follows a chart zoom with the map, and zooms back out', async () => {
    const before = await state(page);
    const tracksBefore = requested.filter((url) => url.includes('/track')).length;
    await dragChart(page, 0.2, 0.45);
    const zoomed = await rendered(page, before.renders);
    assert.ok(zoomed.view, 'a view is set');
    const slice = await locations(`&from=${zoomed.view.from}&to=${zoomed.view.to}`);
    assert.ok(
      zoomed.view.minutes > 5 && zoomed.view.minutes < before.minutes / 2,
      `${zoomed.view.minutes} minutes`,
    );
    assert.ok(Math.abs(zoomed.view.minutes - slice.length) <= 1); // `to` of the view is inclusive
    assert.equal(zoomed.map.markers, zoomed.view.minutes);
    assert.notDeepEqual(zoomed.map.bounds, before.map.bounds);
    assert.equal(
      requested.filter((url) => url.includes('/track')).length,
      tracksBefore,
      'every minute was loaded already: the zoom needs no request',
    );
    await page.mouse.move(5, 5);
    await page.click('#reset-zoom');
    const reset = await rendered(page, zoomed.renders);
    assert.equal(reset.view, null);
    assert.deepEqual(reset.map.bounds, before.map.bounds);
  });

  it('adds new minutes as they arrive, without a reload', async () => {
    const before = await state(page);
    const last = (await locations('')).at(-1)!;
    const next = new Date(Date.parse(last.minute) + 3 * 60_000).toISOString().replace(/\.000Z$/, 'Z');
    await put(app, { timestamp: next, lat: last.lat, long: last.long, accuracy: 8, speed: 2, user_id: 'u2' });
    const after = await until(
      page,
      (n) => (globalThis as unknown as PageGlobals).__locus.minutes === n,
      before.minutes + 1,
      10_000,
    );
    assert.ok(after.liveUpdates >= 1);
    assert.equal(after.map.markers, before.minutes + 1);
  });

  it('loads the chosen date range, and the map and downloads follow it', async () => {
    const all = await locations('');
    const from = all[20]!.minute.slice(0, 16); // 2017-01-01T13:25, as a datetime-local input takes it
    const to = all[50]!.minute.slice(0, 16);
    const before = await state(page);
    await page.fill('#range-from', from);
    await page.fill('#range-to', to);
    await page.click('#range button[type="submit"]');
    const after = await rendered(page, before.renders);
    const expected = await locations(`&from=${from}:00Z&to=${to}:00Z`);
    assert.equal(after.minutes, expected.length);
    assert.equal(after.map.markers, expected.length);
    assertBoundsClose(after.map.bounds, boundsOf(expected));
    const href = await page.getAttribute('#download-gpx', 'href');
    const query = new URLSearchParams({ from: `${from}:00.000Z`, to: `${to}:00.000Z` });
    assert.equal(href, `/users/u2/locations.gpx?${query.toString()}`);
  });

  it('draws 100,000 minutes from a bounded answer, without holding up the page', async () => {
    const before = await state(page);
    await page.click('#range-clear');
    await rendered(page, before.renders);
    const started = Date.now();
    const current = (await state(page)).renders;
    const answered = trackAnswer('big', (query) => !query.has('from'));
    await page.click('#users button[data-user="big"]');
    const response = await answered;
    const s = await rendered(page, current, 60_000);
    const elapsed = Date.now() - started;
    console.log(`100,000 minutes: drawn in ${elapsed} ms, longest task ${Math.round(s.longestTaskMs)} ms`);
    const maxPoints = Number(new URL(response.url()).searchParams.get('max_points'));
    const body = (await response.json()) as TrackAnswer;
    assert.ok(maxPoints >= 200 && maxPoints <= MAX_POINTS, `max_points ${maxPoints}`);
    assert.ok(body.points.length <= maxPoints, `${body.points.length} points`);
    assert.ok(body.bucket_seconds > 60, `buckets of ${body.bucket_seconds} s`);
    assert.equal(s.minutes, BIG_USER_MINUTES);
    assert.deepEqual(s.track, { bucketSeconds: body.bucket_seconds, points: body.points.length });
    assert.equal(s.map.markers, body.points.length);
    assert.ok(
      s.charts.every((n) => n >= body.points.length && n < 2 * body.points.length),
      `chart points ${s.charts.join(', ')}`,
    );
    assert.ok(!requested.some((url) => url.includes('/locations')), 'no track comes from an export');
    assert.ok(s.longestTaskMs < 2_000, `the page was blocked for ${Math.round(s.longestTaskMs)} ms`);
    await page.screenshot({ path: join(RESULTS, 'dashboard-100k.png'), fullPage: true });
  });

  it('asks for finer points as the charts zoom in, down to the stored minutes', async () => {
    const opened = await state(page);
    // About 2% of 100,000 minutes: finer buckets, still merged.
    let answered = trackAnswer('big', (query) => query.has('from') && query.has('to'));
    await dragChart(page, 0.4, 0.42);
    const first = (await (await answered).json()) as TrackAnswer;
    const closer = await rendered(page, opened.renders);
    assert.ok(first.bucket_seconds < opened.track!.bucketSeconds, `${first.bucket_seconds} s`);
    assert.equal(closer.track?.bucketSeconds, first.bucket_seconds);
    // 2% of that: a few dozen minutes, each its own point.
    answered = trackAnswer('big', (query) => query.has('from') && query.has('to'));
    await dragChart(page, 0.4, 0.42);
    const response = await answered;
    const exact = (await response.json()) as TrackAnswer;
    const zoomed = await rendered(page, closer.renders);
    assert.equal(exact.bucket_seconds, 60);
    assert.ok(zoomed.view, 'a view is set');
    assert.ok(zoomed.view.minutes > 5 && zoomed.view.minutes < 200, `${zoomed.view.minutes} minutes`);
    assert.deepEqual(zoomed.track, { bucketSeconds: 60, points: zoomed.view.minutes });
    // The request asks for the minutes that start in the view.
    const query = new URL(response.url()).searchParams;
    const [from, to] = [Date.parse(query.get('from')!), Date.parse(query.get('to')!)];
    const [viewFrom, viewTo] = [Date.parse(zoomed.view.from), Date.parse(zoomed.view.to)];
    assert.ok(from >= viewFrom && from < viewFrom + 60_000, `from ${query.get('from')}`);
    assert.ok(to > viewTo && to <= viewTo + 60_000, `to ${query.get('to')}`);

    // The value under the cursor is the stored minute's own mean, not an average of several.
    const box = await page.locator('.chart .u-over').first().boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const hovered = (await until(page, () => (globalThis as unknown as PageGlobals).__locus.hovered !== null))
      .hovered!;
    const [stored] = await locations(`&from=${hovered.start}`, 'big');
    assert.ok(stored);
    assert.equal(hovered.minutes, 1);
    assert.equal(stored.minute, hovered.start);
    assert.deepEqual(
      [hovered.lat, hovered.long, hovered.speed, hovered.accuracy, hovered.samples],
      [stored.lat, stored.long, stored.speed, stored.accuracy, stored.samples],
    );
    const tooltip = await page.locator('#map .leaflet-tooltip').innerText();
    const speed = stored.speed === null ? 'not reported' : `${stored.speed.toFixed(1)} m/s`;
    assert.ok(tooltip.includes(`Speed ${speed}`), tooltip);
    await page.mouse.move(5, 5);
  });

  it('loaded nothing from elsewhere and logged no errors', () => {
    assert.deepEqual(offsite, []);
    assert.deepEqual(problems, []);
  });
});
