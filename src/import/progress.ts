import cliProgress from 'cli-progress';
import type { ImportProgress } from './engine.js';

/*
 * Import progress on stderr. It follows src/tools/simulate/progress.ts (a bar on a terminal, a plain line every few
 * seconds elsewhere), but measures bytes of the files, which are known up front, rather than points, which are
 * not: the ETA comes from the bytes, the speed from the points.
 */

export interface ImportProgressView {
  update(progress: ImportProgress): void;
  stop(): void;
}

export const PLAIN_INTERVAL_MS = 5000;

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A bar when `stream` is a terminal, else a line every PLAIN_INTERVAL_MS; `totalBytes` is all files together. */
export function startImportProgress(
  totalBytes: number,
  stream: NodeJS.WriteStream | { isTTY?: boolean; write(text: string): unknown },
  now: () => number = () => performance.now(),
): ImportProgressView {
  const began = now();
  const speed = (records: number) => Math.round(records / Math.max((now() - began) / 1000, 1e-3));
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WriteStream,
        format:
          '{bar} {percentage}% | {done} of {all} | {records} points | {speed} points/s | ETA {eta_formatted}',
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(totalBytes, 1), 0, {
      done: megabytes(0),
      all: megabytes(totalBytes),
      records: 0,
      speed: 0,
    });
    return {
      update: (p) =>
        bar.update(Math.min(p.bytes, totalBytes), {
          done: megabytes(p.bytes),
          records: p.records.toLocaleString('en-US'),
          speed: speed(p.records).toLocaleString('en-US'),
        }),
      stop: () => bar.stop(),
    };
  }
  let last = began;
  return {
    update: (p) => {
      if (now() - last < PLAIN_INTERVAL_MS) return;
      last = now();
      const percent = totalBytes > 0 ? Math.round((Math.min(p.bytes, totalBytes) / totalBytes) * 100) : 100;
      stream.write(
        `locus import: ${megabytes(p.bytes)} of ${megabytes(totalBytes)} (${percent}%), ` +
          `${p.records} points, ${speed(p.records)} points/s\n`,
      );
    },
    stop: () => {},
  };
}
