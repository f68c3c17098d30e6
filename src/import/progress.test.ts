import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLAIN_INTERVAL_MS, startImportProgress } from './progress.js';

describe('startImportProgress', () => {
  it('writes a plain line at most every few seconds when not on a terminal', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = startImportProgress(
      10_000_000,
      { isTTY: false, write: (t: string) => lines.push(t) },
      () => now,
    );
    now = PLAIN_INTERVAL_MS - 1;
    progress.update({ fileIndex: 0, bytes: 1_000_000, records: 1000 });
    assert.deepEqual(lines, []);
    now = PLAIN_INTERVAL_MS;
    progress.update({ fileIndex: 0, bytes: 2_500_000, records: 50_000 });
    now += 1;
    progress.update({ fileIndex: 0, bytes: 2_600_000, records: 51_000 });
    assert.deepEqual(lines, ['locus import: 2.5 MB of 10.0 MB (25%), 50000 points, 10000 points/s\n']);
    progress.stop();
  });

  it('does not divide by zero for empty files', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = startImportProgress(0, { write: (t: string) => lines.push(t) }, () => now);
    now = PLAIN_INTERVAL_MS;
    progress.update({ fileIndex: 0, bytes: 0, records: 0 });
    assert.deepEqual(lines, ['locus import: 0.0 MB of 0.0 MB (100%), 0 points, 0 points/s\n']);
  });
});
