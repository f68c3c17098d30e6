import type { ExportMinute, MinuteReader } from '../../src/export/minutes.js';

/** Fixtures shared by the export unit tests (src/export/*.test.ts). */

export const T0 = Date.UTC(2017, 0, 1, 18, 5);

/** A minute `index` minutes after T0, with plain values unless overridden. */
export function minute(index: number, overrides: Partial<ExportMinute> = {}): ExportMinute {
  return {
    minuteMs: T0 + index * 60_000,
    lat: 40.7 + index / 1000,
    long: -73.9 - index / 1000,
    accuracy: 10 + index,
    speed: index / 2,
    samples: 1 + (index % 3),
    ...overrides,
  };
}

/** `minutes` in pages of `size`, as a reader yields them; small pages exercise what spans two pages. */
export async function* pagesOf(
  minutes: readonly ExportMinute[],
  size = 2,
): AsyncGenerator<readonly ExportMinute[]> {
  for (let i = 0; i < minutes.length; i += size) {
    await Promise.resolve(); // each page arrives later, as from the store
    yield minutes.slice(i, i + size);
  }
}

/** A reader over fixed minutes that honours `beforeMs`, as the store-backed one does. */
export function readerOf(minutes: readonly ExportMinute[], size = 2): MinuteReader {
  return (beforeMs?: number) =>
    pagesOf(beforeMs === undefined ? minutes : minutes.filter((m) => m.minuteMs < beforeMs), size);
}

export async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}
