/*
 * The clients of bench/reads-at-scale.ts, each on plain node:http so that what they cost is small and known: a
 * PUT /location loop on kept-alive connections, an open-loop /healthz probe, a CSV export read in a loop, a crowd of
 * /events streams that reconnect as a browser does, timed single requests, and the server's memory from /proc.
 */
import http from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The p-th percentile (0-100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/** A port nobody listens on now, from the OS. */
export async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Resident memory of process `pid` now (VmRSS), MiB; NaN once it is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; answers the first sample and the highest. */
export function watchRss(pid: number, everyMs = 20): () => { startMiB: number; peakMiB: number } {
  const startMiB = rssMiB(pid);
  let peakMiB = startMiB;
  const timer = setInterval(() => {
    const now = rssMiB(pid);
    if (now > peakMiB) peakMiB = now;
  }, everyMs);
  return () => {
    clearInterval(timer);
    peakMiB = Math.max(peakMiB, rssMiB(pid) || 0);
    return { startMiB, peakMiB };
  };
}

/** CPU time of process `pid` so far (user + system), seconds; NaN once it is gone. Assumes 100 ticks a second. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Starts measuring CPU use; the stop function answers the server's and this process's, in % of one core. */
export function measureCpu(serverPid: number): () => { serverPercent: number; benchPercent: number } {
  const began = performance.now();
  const server = cpuSeconds(serverPid);
  const bench = process.cpuUsage();
  return () => {
    const seconds = (performance.now() - began) / 1000;
    const used = process.cpuUsage(bench);
    return {
      serverPercent: ((cpuSeconds(serverPid) - server) / seconds) * 100,
      benchPercent: ((used.user + used.system) / 1e6 / seconds) * 100,
    };
  };
}

const bearer = (token: string | undefined): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` };

interface Answer {
  status: number;
  bytes: number;
  /** Newlines in the body (the rows of a CSV, header included). */
  lines: number;
  ms: number;
  /** The body's first 300 bytes, for saying what an error answer was. */
  head: string;
}

/** One request, its body read and counted, not kept. Rejects on a network error or after `timeoutMs`. */
export function request(
  url: string,
  options: { method?: string; token?: string; body?: string; agent?: http.Agent | false; timeoutMs?: number },
): Promise<Answer> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...bearer(options.token) };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers, agent: options.agent },
      (res) => {
        let bytes = 0;
        let lines = 0;
        let head = '';
        res.on('data', (chunk: Buffer) => {
          if (bytes < 300) head += chunk.subarray(0, 300 - bytes).toString('utf8');
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, bytes, lines, ms: performance.now() - began, head }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.timeoutMs !== undefined)
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)),
      );
    req.end(options.body);
  });
}

export interface PutResult {
  requestsPerSecond: number;
  ok: number;
  non2xx: number;
  /** The non-2xx answers by status. */
  statuses: Record<number, number>;
  errors: number;
  p50: number;
  p99: number;
}

/**
 * PUT /location from `connections` kept-alive connections for `durationMs`, each connection sending its next
 * request when the last is answered; `body()` gives each request's body. Counts the answers that arrive in time.
 */
export async function putLoad(options: {
  url: string;
  token?: string;
  connections: number;
  durationMs: number;
  body: () => string;
}): Promise<PutResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let non2xx = 0;
  const statuses: Record<number, number> = {};
  let errors = 0;
  const began = performance.now();
  const deadline = began + options.durationMs;
  const target = `${options.url}/location`;
  const loop = async () => {
    while (performance.now() < deadline) {
      try {
        const answer = await request(target, {
          method: 'PUT',
          token: options.token,
          body: options.body(),
          agent,
        });
        if (performance.now() > deadline) break;
        if (answer.status >= 200 && answer.status < 300) latencies.push(answer.ms);
        else {
          non2xx++;
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        }
      } catch {
        errors++;
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  agent.destroy();
  return {
    requestsPerSecond: latencies.length / (options.durationMs / 1000),
    ok: latencies.length,
    non2xx,
    statuses,
    errors,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** PUT /location bodies, every one a new point: `users` new users, one point a second each, round-robin. */
export function putBodies(prefix: string, users: number): () => string {
  let n = 0;
  const startMs = Date.UTC(2026, 5, 1); // a wall-clock time in New York: June, far from a DST change
  return () => {
    const user = n % users;
    const second = Math.floor(n / users);
    n++;
    const timestamp = new Date(startMs + second * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const angle = second / 600 + user;
    return JSON.stringify({
      timestamp,
      lat: +(40.7 + 0.05 * Math.sin(angle) + user * 1e-4).toFixed(6),
      long: +(-74.0 + 0.05 * Math.cos(angle)).toFixed(6),
      accuracy: 5 + (second % 30),
      speed: +(3 + 2 * Math.sin(second / 60)).toFixed(2),
      user_id: `${prefix}${user}`,
    });
  };
}

export interface LatencySummary {
  count: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(latencies: readonly number[], failed = 0): LatencySummary {
  return {
    count: latencies.length,
    failed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : NaN,
  };
}

/**
 * GET /healthz `perSecond` times a second on a schedule, whether or not earlier probes have been answered (as a
 * load balancer probes), each timed from when it was due: a stall of the server shows as every probe sent during it
 * being late, not as one slow probe.
 */
export function probeHealth(url: string, perSecond = 20): () => Promise<LatencySummary> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  let failed = 0;
  const everyMs = 1000 / perSecond;
  const began = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    // Catch up on ticks the bench's own loop missed, timing each from when it was due.
    while (began + sent * everyMs <= performance.now()) {
      const due = began + sent * everyMs;
      sent++;
      const probe = request(`${url}/healthz`, { agent, timeoutMs: 120_000 }).then(
        (answer) => {
          if (answer.status === 200) latencies.push(performance.now() - due);
          else failed++;
        },
        () => {
          failed++;
        },
      );
      pending.add(probe);
      void probe.finally(() => pending.delete(probe));
    }
  }, everyMs / 2);
  return async () => {
    clearInterval(timer);
    await Promise.all(pending);
    agent.destroy();
    return summarize(latencies, failed);
  };
}

export interface ExportLoopResult {
  /** Exports read to their end. */
  completed: number;
  rows: number;
  /** Exports answered other than 200, by status; 0 for a network error. */
  failed: Record<number, number>;
}

/**
 * Reads `path` (an export) to its end, again and again, one at a time, until stopped; stopping abandons the
 * export in flight. `started` resolves when the first bytes of the first export have arrived.
 */
export function exportLoop(
  url: string,
  path: string,
  token: string | undefined,
): { started: Promise<void>; stop: () => Promise<ExportLoopResult> } {
  let stopped = false;
  let current: http.ClientRequest | undefined;
  const result: ExportLoopResult = { completed: 0, rows: 0, failed: {} };
  let failures = 0;
  const failed = (status: number) => {
    failures++;
    result.failed[status] = (result.failed[status] ?? 0) + 1;
  };
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const one = () =>
    new Promise<void>((resolve) => {
      current = http.get(`${url}${path}`, { headers: bearer(token), agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => {
          markStarted();
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) result.rows++;
        });
        res.on('end', () => {
          if (res.statusCode === 200) result.completed++;
          else failed(res.statusCode ?? 0);
          resolve();
        });
        res.on('error', () => resolve());
      });
      current.on('error', () => {
        if (!stopped) failed(0);
        resolve();
      });
    });
  const running = (async () => {
    while (!stopped) {
      const before = failures;
      await one();
      if (failures > before && !stopped) await sleep(500);
    }
  })();
  return {
    started,
    stop: async () => {
      stopped = true;
      markStarted();
      current?.destroy();
      await running;
      return result;
    },
  };
}

export interface StreamCrowd {
  /** Resolves when every stream has had its first answer (open or refused), or after `timeoutMs`. */
  settled: (timeoutMs: number) => Promise<void>;
  stats: () => StreamStats;
  close: () => void;
}

export interface StreamStats {
  /** Streams open right now. */
  open: number;
  /** Times a stream was answered 200 (first opens and reconnects). */
  opened: number;
  /** Answers other than 200, by status. */
  refused: Record<number, number>;
  errors: number;
  events: number;
  /** Time to the response headers of each open, ms. */
  openMs: number[];
}

/**
 * `count` GET /events streams, `perToken` on each token (in order), each on its own connection. A stream that
 * ends or is refused opens again after the `retry` the server sent (3 s), as EventSource does.
 */
export function openStreams(
  url: string,
  tokens: readonly string[],
  count: number,
  perToken: number,
): StreamCrowd {
  let closed = false;
  const stats: StreamStats = { open: 0, opened: 0, refused: {}, errors: 0, events: 0, openMs: [] };
  const requests = new Set<http.ClientRequest>();
  const firstAnswers: Array<Promise<void>> = [];
  const connect = (token: string | undefined, first?: () => void) => {
    if (closed) return;
    const began = performance.now();
    let over = false;
    /** This connection is over (ended, refused or failed): once, open the next one after the retry. */
    const again = () => {
      first?.();
      if (over) return;
      over = true;
      requests.delete(req);
      if (!closed) setTimeout(() => connect(token), 3000).unref();
    };
    const req = http.get(
      `${url}/events`,
      { headers: { accept: 'text/event-stream', ...bearer(token) }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          stats.refused[res.statusCode ?? 0] = (stats.refused[res.statusCode ?? 0] ?? 0) + 1;
          res.resume();
          res.on('end', again);
          return;
        }
        stats.opened++;
        stats.open++;
        stats.openMs.push(performance.now() - began);
        first?.();
        res.on('data', (chunk: Buffer) => {
          for (let i = chunk.indexOf('event:'); i !== -1; i = chunk.indexOf('event:', i + 1)) stats.events++;
        });
        res.on('close', () => {
          stats.open--;
          again();
        });
      },
    );
    requests.add(req);
    req.on('error', () => {
      if (!closed && !over) stats.errors++;
      again();
    });
  };
  for (let i = 0; i < count; i++) {
    const token = tokens.length ? tokens[Math.floor(i / perToken) % tokens.length] : undefined;
    firstAnswers.push(new Promise<void>((resolve) => connect(token, resolve)));
  }
  return {
    settled: async (timeoutMs) => {
      await Promise.race([Promise.all(firstAnswers), sleep(timeoutMs)]);
    },
    stats: () => ({ ...stats, refused: { ...stats.refused }, openMs: [...stats.openMs] }),
    close: () => {
      closed = true;
      for (const req of requests) req.destroy();
      requests.clear();
    },
  };
}

/**
 * Waits until the server answers /healthz within `quickMs` twice in a row (a stalled server catching up on work
 * queued by an earlier phase), at most `timeoutMs`; answers how long that took.
 */
export async function settle(url: string, quickMs = 100, timeoutMs = 600_000): Promise<number> {
  const began = performance.now();
  let quick = 0;
  while (quick < 2 && performance.now() - began < timeoutMs) {
    const answer = await request(`${url}/healthz`, { agent: false, timeoutMs }).catch(() => null);
    quick = answer && answer.status === 200 && answer.ms < quickMs ? quick + 1 : 0;
    if (quick < 2) await sleep(100);
  }
  return performance.now() - began;
}

/** What the dashboard showed when it was drawn (a few fields of window.__locus, web/state.ts). */
export interface DashboardLoad {
  ms: number;
  timedOut: boolean;
  error: string | null;
  minutes: number;
  markers: number;
  charts: number[];
}

interface PageState {
  selectedUser: string | null;
  renders: number;
  loading: boolean;
  error: string | null;
  minutes: number;
  map: { markers: number };
  charts: number[];
}

type PageGlobals = { __locus?: PageState };

/**
 * Headless Chromium (playwright-core driving the system's browser) opening the dashboard on one user: the time
 * from navigation until the page says the user's map and charts are drawn (window.__locus: the user selected, a
 * render done, nothing loading), polled on animation frames so that the frame with them has been produced.
 */
export async function startDashboard(executablePath: string) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  return {
    open: async (
      url: string,
      token: string | undefined,
      user: string,
      timeoutMs: number,
    ): Promise<DashboardLoad> => {
      const page = await context.newPage();
      const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
      const began = performance.now();
      let timedOut = false;
      try {
        await page.goto(`${url}/${query}#user=${encodeURIComponent(user)}`, { timeout: timeoutMs });
        await page
          .waitForFunction(
            (id) => {
              const s = (globalThis as unknown as PageGlobals).__locus;
              return !!s && (s.error !== null || (s.selectedUser === id && s.renders > 0 && !s.loading));
            },
            user,
            { timeout: timeoutMs, polling: 'raf' },
          )
          .catch(() => {
            timedOut = true;
          });
        const ms = performance.now() - began;
        const s = await page.evaluate(() => (globalThis as unknown as PageGlobals).__locus ?? null);
        return {
          ms,
          timedOut,
          error: s?.error ?? (s ? null : 'no window.__locus'),
          minutes: s?.minutes ?? 0,
          markers: s?.map.markers ?? 0,
          charts: s?.charts ?? [],
        };
      } finally {
        await page.close();
      }
    },
    close: () => browser.close(),
  };
}
