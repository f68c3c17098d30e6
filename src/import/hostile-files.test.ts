/*
 * Hostile values through the real import (issue #14, item 2): a few hundred KB of .gz that unpack to a value nested
 * tens of millions deep, or to hundreds of MB of text in one element. Each file must stop with one line naming the
 * problem while memory stays flat, and the files after it are still imported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Readable } from 'node:stream';
import { importFiles, exitCodeOf, type ImportDeps } from './engine.js';
import { IMPORT_DEPS } from './deps.js';
import type { ImportDestination } from './destinations.js';
import { longTextGpx, nestedGeoJson, nestedTakeout } from '../../test/support/hostile-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'locus-hostile-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loosely: what Node, the readers and one gzip chunk take is far below it; the values unbounded are gigabytes. */
const RSS_GROWTH_BOUND = 256 * 2 ** 20;

function countingDestination() {
  const stored = { points: 0 };
  const destination: ImportDestination = {
    name: 'test',
    maxBatchSize: 100_000,
    needsFixes: false,
    concurrency: 1,
    write: ({ points }) => {
      stored.points += points.length;
      return Promise.resolve({ stored: points.length, duplicates: 0, rejected: [] });
    },
    close: () => Promise.resolve(),
  };
  return { destination, stored };
}

/**
 * The real dependencies, watched: RSS is sampled while the files are read, and a file whose reading grows it past
 * the bound is cut off (its stream destroyed), so that a regression fails here with a clear message rather than
 * taking the machine's memory.
 */
function watchedDeps() {
  const base = process.memoryUsage().rss;
  let peak = base;
  let input: Readable | undefined;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    if (rss - base > RSS_GROWTH_BOUND) input?.destroy(new Error(`RSS grew by ${rss - base} bytes`));
  };
  const timer = setInterval(sample, 10);
  const deps: ImportDeps = {
    ...IMPORT_DEPS,
    async open(file) {
      const opened = await IMPORT_DEPS.open(file);
      input = opened.input;
      return opened;
    },
  };
  return {
    deps,
    growth: () => {
      sample();
      clearInterval(timer);
      return peak - base;
    },
  };
}

describe('locus import of hostile files (engine, real readers)', () => {
  it('stops a deeply nested GeoJSON or Takeout value with one line, memory flat, and reads on', async () => {
    // 60 MB of `[…]` (61 KB gzipped), and 40 MB of `{"a":…}` inside a Takeout location.
    const geojson = path.join(dir, 'nested.geojson.gz');
    const takeout = path.join(dir, 'nested-records.json.gz');
    await nestedGeoJson(geojson, 30);
    await nestedTakeout(takeout, 40);
    const good = path.join(dir, 'good.geojson');
    writeFileSync(
      good,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            geometry: { type: 'Point', coordinates: [-73.916, 40.701] },
            properties: { timestamp: '2017-01-01T18:05:12Z' },
          },
        ],
      }),
    );
    const { destination, stored } = countingDestination();
    const watch = watchedDeps();
    const report = await importFiles([geojson, takeout, good], destination, watch.deps, { user: 'me' });
    const growth = watch.growth();
    assert.deepEqual(
      report.files.map((file) => [file.status, file.error]),
      [
        [
          'unreadable',
          `${geojson}: JSON nested deeper than 64 levels at line 1, column 103: not a location file`,
        ],
        [
          'unreadable',
          `${takeout}: JSON nested deeper than 64 levels at line 1, column 381: not a location file`,
        ],
        ['done', null],
      ],
    );
    assert.equal(report.outcome, 'unreadable');
    assert.equal(exitCodeOf(report), 1);
    assert.equal(stored.points, 1);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${growth} bytes`);
  });

  it('stops a GPX file with hundreds of MB of text in one element or comment with one line, memory flat', async () => {
    // 300 MB of text each, about 300 KB gzipped.
    const time = path.join(dir, 'long-time.gpx.gz');
    const comment = path.join(dir, 'long-comment.gpx.gz');
    await longTextGpx(time, 300, 'time');
    await longTextGpx(comment, 300, 'comment');
    const { destination } = countingDestination();
    const watch = watchedDeps();
    const report = await importFiles([time, comment], destination, watch.deps, { user: 'me' });
    const growth = watch.growth();
    assert.equal(report.outcome, 'unreadable');
    assert.deepEqual(
      report.files.map((file) => file.status),
      ['unreadable', 'unreadable'],
    );
    assert.match(
      report.files[0]!.error!,
      new RegExp(`^${time}: a <time> longer than 64 KiB, at line 2, column \\d+: not a GPX value$`),
    );
    assert.match(
      report.files[1]!.error!,
      new RegExp(
        `^${comment}: more than 16 MiB of text, comment or attribute without a tag, at line 2, column \\d+: not a GPX file$`,
      ),
    );
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${growth} bytes`);
  });
});
