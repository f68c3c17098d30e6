import { laneByUser, type SimRow } from './rows.js';

export type SendMode = 'put' | 'batch';

export interface SendOptions {
  api: string;
  mode: SendMode;
  batchSize: number;
  concurrency: number;
  /** Sent as `Authorization: Bearer TOKEN`. */
  token?: string;
  /** Called after every request with the number of rows answered so far. */
  onProgress?: (rowsDone: number) => void;
}

export interface SendReport {
  sent: number;
  stored: number;
  duplicates: number;
  rejected: number;
  /** Rows whose request failed: no answer, or a status other than 200 and 400. */
  errors: number;
  /** One line per kind of failure, with how often it happened. */
  failures: Map<string, number>;
  elapsedMs: number;
  /** One per request. */
  latenciesMs: number[];
  /** Set when the server refused the token (401) or its rights (403): the replay stopped there. */
  refused: { status: number; problem: string } | null;
}

/** The server said no to the credentials: sending the rest would only get the same answer (and a 429). */
class Refused extends Error {
  constructor(
    readonly status: number,
    readonly problem: string,
  ) {
    super(`HTTP ${status}`);
  }
}

interface Tally {
  stored: number;
  duplicates: number;
  rejected: number;
  errors: number;
}

interface BatchAnswer {
  stored: number;
  duplicates: number;
  rejected: number;
}

function emptyReport(): SendReport {
  return {
    sent: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    errors: 0,
    failures: new Map(),
    elapsedMs: 0,
    latenciesMs: [],
    refused: null,
  };
}

/** The request headers: JSON, and the token when there is one. */
export function requestHeaders(token: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return headers;
}

async function problemText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as { detail?: unknown; title?: unknown };
    const words = [problem.title, problem.detail].filter((w) => typeof w === 'string');
    return words.join(' ');
  } catch {
    return text.slice(0, 200);
  }
}

async function request(options: SendOptions, rows: readonly SimRow[]): Promise<Tally> {
  const single = options.mode === 'put';
  const response = await fetch(`${options.api}/${single ? 'location' : 'locations'}`, {
    method: single ? 'PUT' : 'POST',
    headers: requestHeaders(options.token),
    body: JSON.stringify(single ? rows[0] : rows),
  });
  if (response.status === 401 || response.status === 403) {
    throw new Refused(response.status, await problemText(response));
  }
  const none = { stored: 0, duplicates: 0, rejected: 0, errors: 0 };
  if (response.status === 400 && single) {
    await response.body?.cancel();
    return { ...none, rejected: 1 };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  if (single) {
    const { status } = (await response.json()) as { status: string };
    return { ...none, stored: status === 'stored' ? 1 : 0, duplicates: status === 'duplicate' ? 1 : 0 };
  }
  const answer = (await response.json()) as BatchAnswer;
  return { ...none, stored: answer.stored, duplicates: answer.duplicates, rejected: answer.rejected };
}

/** Why a fetch failed, in a word where possible: fetch hides the system error (ECONNREFUSED…) in `cause`. */
export function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

async function sendLane(lane: readonly SimRow[], options: SendOptions, report: SendReport): Promise<void> {
  const step = options.mode === 'put' ? 1 : options.batchSize;
  for (let start = 0; start < lane.length && report.refused === null; start += step) {
    const rows = lane.slice(start, start + step);
    const began = performance.now();
    try {
      const tally = await request(options, rows);
      report.stored += tally.stored;
      report.duplicates += tally.duplicates;
      report.rejected += tally.rejected;
    } catch (error) {
      if (error instanceof Refused) {
        report.refused ??= { status: error.status, problem: error.problem };
        return;
      }
      report.errors += rows.length;
      const kind = describeFailure(error);
      report.failures.set(kind, (report.failures.get(kind) ?? 0) + rows.length);
    }
    report.latenciesMs.push(performance.now() - began);
    report.sent += rows.length;
    options.onProgress?.(report.sent);
  }
}

/** Sends every row; each user's rows in order, users spread over `concurrency` connections. */
export async function sendRows(rows: readonly SimRow[], options: SendOptions): Promise<SendReport> {
  const report = emptyReport();
  const began = performance.now();
  await Promise.all(laneByUser(rows, options.concurrency).map((lane) => sendLane(lane, options, report)));
  report.elapsedMs = performance.now() - began;
  return report;
}

/** The value below which the given share of the samples fall (nearest rank). */
export function percentile(samples: readonly number[], share: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1));
  return sorted[rank] ?? 0;
}
