import cliProgress from 'cli-progress';

export interface Progress {
  update: (done: number) => void;
  stop: () => void;
}

const PLAIN_INTERVAL_MS = 5000;

/** A bar on a terminal; elsewhere (CI, pipes) a plain line every few seconds. */
export function startProgress(total: number, writeLine: (text: string) => void): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: '{bar} {percentage}% | {value}/{total} points | {speed} points/s | ETA {eta}s',
      },
      cliProgress.Presets.shades_classic,
    );
    const began = performance.now();
    bar.start(total, 0, { speed: 0 });
    return {
      update: (done) =>
        bar.update(done, { speed: Math.round(done / ((performance.now() - began) / 1000 || 1)) }),
      stop: () => bar.stop(),
    };
  }
  let last = performance.now();
  return {
    update: (done) => {
      const now = performance.now();
      if (now - last < PLAIN_INTERVAL_MS) return;
      last = now;
      writeLine(`sent ${done}/${total} (${Math.round((done / total) * 100)}%)\n`);
    },
    stop: () => {},
  };
}
