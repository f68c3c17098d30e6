import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import { means, type MinuteAggregate, type MinuteMeans } from '../store/minutes.js';
import type { MinutePage, MinuteRange, Store } from '../store/store.js';

/** One exported minute: the means a reader sees, and the start of the UTC minute. */
export interface ExportMinute extends MinuteMeans {
  minuteMs: number;
}

/**
 * Reads the minutes of one export, ascending, a page at a time: formatters work through a page synchronously,
 * because an await per minute costs more than formatting it. Each call starts a fresh read from the store, so a
 * formatter that needs two passes (GeoJSON) can call it twice; `beforeMs` narrows the end of the range
 * (exclusive) for such a second pass.
 */
export type MinuteReader = (beforeMs?: number) => AsyncIterable<readonly ExportMinute[]>;

/**
 * Rows per store round trip: large enough that paging costs little, small enough that formatting one page (a few
 * microseconds a row) holds the event loop for a few milliseconds at most, and that memory stays small.
 */
export const EXPORT_PAGE_SIZE = 1_000;

/**
 * While ingest is busy an export is background work: after each page it pauses for this many times as long as
 * the page took to format, so that it takes at most a tenth of the main thread from the points coming in. Measured
 * with bench/reads-at-scale.ts on 2 cores (BENCHMARKS.md): a quarter (3) left PUT at about 0.55 of its rate alone
 * while a client read exports in a loop, a tenth about 0.8. When ingest is idle, an export runs at full speed.
 */
export const BUSY_PAUSE_FACTOR = 9;
/** The longest pause: the time between pages also counts a slow client's reading, which needs no pause. */
export const MAX_BUSY_PAUSE_MS = 50;

export interface MinuteReaderOptions {
  pageSize?: number;
  /** Whether ingest is busy now (points waiting for their commit); exports then pace themselves. */
  ingestBusy?: () => boolean;
}

/** How long to pause before the next page, after one that the consumer took `spentMs` to handle. */
export function busyPauseMs(spentMs: number, ingestBusy: boolean): number {
  return ingestBusy ? Math.min(MAX_BUSY_PAUSE_MS, spentMs * BUSY_PAUSE_FACTOR) : 0;
}

export function toExportMinute(row: MinuteAggregate): ExportMinute {
  return { minuteMs: row.minuteMs, ...means(row.sums) };
}

async function* readPages(
  store: Pick<Store, 'minutes'>,
  userId: string,
  range: MinuteRange,
  options: Required<MinuteReaderOptions>,
  firstPage: MinutePage | null,
): AsyncGenerator<readonly ExportMinute[]> {
  const limit = options.pageSize;
  let page = firstPage ?? (await store.minutes(userId, range, { limit }));
  while (page) {
    if (page.rows.length > 0) {
      const yieldedAt = performance.now();
      yield page.rows.map(toExportMinute);
      // Every page gives the event loop a turn: a store that answers at once and a client on a fast link that
      // never pushes back would otherwise run the whole export without one, and no request would be read meanwhile.
      const pauseMs = busyPauseMs(performance.now() - yieldedAt, options.ingestBusy());
      await (pauseMs > 0 ? delay(pauseMs) : nextTurn());
    }
    if (page.nextAfterMinuteMs === null) return;
    page = await store.minutes(userId, range, { limit, afterMinuteMs: page.nextAfterMinuteMs });
  }
}

function narrow(range: MinuteRange, beforeMs: number | undefined): MinuteRange {
  if (beforeMs === undefined) return range;
  return { ...range, toMs: range.toMs === undefined ? beforeMs : Math.min(range.toMs, beforeMs) };
}

/**
 * A reader over a user's minutes in `range`, or null when the user has no minutes at all. The first page is read
 * here, before anything is sent, so that an unknown user or an unavailable store is still answered with a proper
 * status instead of a 200 cut short.
 */
export async function openMinuteReader(
  store: Pick<Store, 'minutes'>,
  userId: string,
  range: MinuteRange,
  options: MinuteReaderOptions = {},
): Promise<MinuteReader | null> {
  const settings = {
    pageSize: options.pageSize ?? EXPORT_PAGE_SIZE,
    ingestBusy: options.ingestBusy ?? (() => false),
  };
  let firstPage = await store.minutes(userId, range, { limit: settings.pageSize });
  if (firstPage === null) return null;
  return (beforeMs) => {
    // The page read up front serves the first full read only; later reads see whatever has been stored since.
    const prefetched = beforeMs === undefined ? firstPage : null;
    firstPage = null;
    return readPages(store, userId, narrow(range, beforeMs), settings, prefetched);
  };
}
