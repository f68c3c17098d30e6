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

/** Rows per store round trip: large enough that paging costs little, small enough to bound memory. */
export const EXPORT_PAGE_SIZE = 5_000;

export function toExportMinute(row: MinuteAggregate): ExportMinute {
  return { minuteMs: row.minuteMs, ...means(row.sums) };
}

async function* readPages(
  store: Pick<Store, 'minutes'>,
  userId: string,
  range: MinuteRange,
  pageSize: number,
  firstPage: MinutePage | null,
): AsyncGenerator<readonly ExportMinute[]> {
  let page = firstPage ?? (await store.minutes(userId, range, { limit: pageSize }));
  while (page) {
    if (page.rows.length > 0) yield page.rows.map(toExportMinute);
    if (page.nextAfterMinuteMs === null) return;
    page = await store.minutes(userId, range, { limit: pageSize, afterMinuteMs: page.nextAfterMinuteMs });
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
  pageSize = EXPORT_PAGE_SIZE,
): Promise<MinuteReader | null> {
  let firstPage = await store.minutes(userId, range, { limit: pageSize });
  if (firstPage === null) return null;
  return (beforeMs) => {
    // The page read up front serves the first full read only; later reads see whatever has been stored since.
    const prefetched = beforeMs === undefined ? firstPage : null;
    firstPage = null;
    return readPages(store, userId, narrow(range, beforeMs), pageSize, prefetched);
  };
}
