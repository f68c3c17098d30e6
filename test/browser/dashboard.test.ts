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

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => Boolean(path && existsSync(path)),
);
if (!CHROMIUM) {
  console.warn('SKIPPING the dashboard browser test: no Chromium (Debian: apt-get install -y chromium)');
}

const ROOT = new URL('../../', import.meta.url).pathname;
const RESULTS = join(ROOT, 'test-results');
const BIG_USER_MINUTES = 100_000;
const MAX_MARKERS = 2_500; // web/map.ts

/** What the test reads of `window.__locus` (web/state.ts). */
interface PageState {
  ready: boolean;
  live: string;
  users: string[];
  selectedUser: string | null;
  loading: boolean;
  error: string | null;
  minutes: number;
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

  const locations = async (query: string): Promise<Location[]> =>
    (await app.inject(`/users/u2/locations?limit=10000${query}`)).json<{ locations: Location[] }>().locations;

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
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) offsite.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(base);
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as Partial<PageGlobals>).__locus;
      return s?.ready === true && s.users.length === 4;
    });
  });

  after(async () => {
    await context?.close();
    await app?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists the users with their minutes, and connects the live feed', async () => {
    const rows = await page.locator('#users tbody tr').allInnerTexts();
    assert.equal(rows.length, 4);
    assert.match(rows[0]!, /^\s*big\s+100,000\s+100,000\s+2017-01-01 00:00\s+2017-03-11 10:39/);
    await until(page, () => (globalThis as unknown as PageGlobals).__locus.live === 'open');
    assert.equal(await page.locator('#live').innerText(), 'Live');
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
    const box = await page.locator('.chart .u-over').first().boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
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

  it('draws 100,000 minutes without holding up the page', async () => {
    const before = await state(page);
    await page.click('#range-clear');
    await rendered(page, before.renders);
    const started = Date.now();
    const current = (await state(page)).renders;
    await page.click('#users button[data-user="big"]');
    const s = await rendered(page, current, 60_000);
    const elapsed = Date.now() - started;
    console.log(`100,000 minutes: drawn in ${elapsed} ms, longest task ${Math.round(s.longestTaskMs)} ms`);
    assert.equal(s.minutes, BIG_USER_MINUTES);
    assert.equal(s.map.markers, MAX_MARKERS);
    assert.ok(s.map.lineVertices <= 20_000);
    assert.ok(
      s.charts.every((n) => n > 100 && n < 4_000),
      `chart points ${s.charts.join(', ')}`,
    );
    // Parsing runs in a worker and drawing is capped, so the page never stops answering for long.
    assert.ok(s.longestTaskMs < 2_000, `the page was blocked for ${Math.round(s.longestTaskMs)} ms`);
    await page.screenshot({ path: join(RESULTS, 'dashboard-100k.png'), fullPage: true });
  });

  it('loaded nothing from elsewhere and logged no errors', () => {
    assert.deepEqual(offsite, []);
    assert.deepEqual(problems, []);
  });
});
