import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { IngestOutcome, Point, RawFix } from '../ingest/point.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { exitCodeOf, importFiles, type ImportDeps, type ImportOptions } from './engine.js';
import { BatchWriter } from './engine-writer.js';
import {
  DestinationError,
  storeDestination,
  type ImportBatch,
  type ImportDestination,
  type DestinationResult,
} from './destinations.js';
import { UnreadableFileError, type ImportRecord } from './types.js';
import { allUsers } from '../../test/support/users.js';

/** A valid fix `i` seconds after 2017-01-01 13:00:00 New York time, unless overridden. */
function fix(i: number, overrides: Partial<RawFix> = {}): RawFix {
  const s = 5 + i;
  const time = `13:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return {
    user_id: 'a1',
    timestamp: `2017-01-01 ${time}`,
    lat: 40.701,
    long: -73.916,
    accuracy: 10,
    speed: 1,
    ...overrides,
  };
}

function ok(f: RawFix, line: number): ImportRecord {
  return { ok: true, fix: f, at: { line } };
}

function lines(count: number, from = 0): ImportRecord[] {
  return Array.from({ length: count }, (_, i) => ok(fix(from + i), from + i + 2));
}

type FakeFile = ImportRecord[][] | { chunks: ImportRecord[][]; thenThrow: Error };

/** Opens the named fake files (records in chunks, as a reader yields them); `.csv` and `.gpx` are detected. */
function fakeDeps(files: Record<string, FakeFile>): ImportDeps {
  return {
    open: (path) => {
      if (!(path in files)) return Promise.reject(new UnreadableFileError(`${path}: no such file`));
      return Promise.resolve({ input: Readable.from([]), head: Buffer.alloc(0), bytesRead: () => 100 });
    },
    detect: (_head, path) => (path.endsWith('.csv') ? 'csv' : path.endsWith('.gpx') ? 'gpx' : null),
    reader: () =>
      async function* (_input, context) {
        const file = files[context.path]!;
        const chunks = Array.isArray(file) ? file : file.chunks;
        for (const chunk of chunks) {
          await Promise.resolve();
          yield chunk;
        }
        if (!Array.isArray(file)) throw file.thenThrow;
      },
  };
}

/** A destination that keeps every batch and says each point is new. */
function recordingDestination(options: { maxBatchSize?: number; failOnBatch?: number } = {}) {
  const batches: Point[][] = [];
  const destination: ImportDestination = {
    name: 'test',
    maxBatchSize: options.maxBatchSize ?? 100_000,
    needsFixes: false,
    concurrency: 1,
    write: ({ points }) => {
      if (batches.length + 1 === options.failOnBatch)
        return Promise.reject(new DestinationError('disk on fire'));
      batches.push([...points]);
      return Promise.resolve({ stored: points.length, duplicates: 0, rejected: [] });
    },
    close: () => Promise.resolve(),
  };
  return { destination, batches };
}

async function run(
  files: Record<string, FakeFile>,
  destination: ImportDestination,
  options: ImportOptions = {},
) {
  return importFiles(Object.keys(files), destination, fakeDeps(files), options);
}

describe('importFiles', () => {
  it('sends the points in file order, in batches of the batch size, the last one partial', async () => {
    const { destination, batches } = recordingDestination();
    const report = await run({ 'a.csv': [lines(7), lines(5, 7)] }, destination, { batchSize: 5 });
    assert.deepEqual(
      batches.map((b) => b.length),
      [5, 5, 2],
    );
    const instants = batches.flat().map((p) => p.tsMs);
    assert.deepEqual(
      instants,
      [...instants].sort((a, b) => a - b),
    );
    assert.equal(report.outcome, 'done');
    assert.equal(exitCodeOf(report), 0);
    const [file] = report.files;
    assert.equal(file?.read, 12);
    assert.equal(file?.stored, 12);
    assert.equal(file?.format, 'csv');
  });

  it('makes no empty batch when the points fill the last one exactly', async () => {
    const { destination, batches } = recordingDestination();
    await run({ 'a.csv': [lines(8)] }, destination, { batchSize: 4 });
    assert.deepEqual(
      batches.map((b) => b.length),
      [4, 4],
    );
  });

  it('caps the batch size at what the destination takes', async () => {
    const { destination, batches } = recordingDestination({ maxBatchSize: 3 });
    await run({ 'a.csv': [lines(7)] }, destination, { batchSize: 1000 });
    assert.deepEqual(
      batches.map((b) => b.length),
      [3, 3, 1],
    );
  });

  it('refuses a batch size below 1', async () => {
    const { destination } = recordingDestination();
    await assert.rejects(run({ 'a.csv': [lines(1)] }, destination, { batchSize: 0 }), RangeError);
  });

  it('resolves UTC like PUT /location: local wall time at the position, or the offset given', async () => {
    const { destination, batches } = recordingDestination();
    const records = [
      ok(fix(0, { timestamp: '2017-01-01 13:05:12' }), 2),
      ok(fix(0, { timestamp: '2017-01-01T13:05:12.9999+01:00' }), 3),
    ];
    await run({ 'a.csv': [records] }, destination);
    assert.deepEqual(
      batches.flat().map((p) => new Date(p.tsMs).toISOString()),
      ['2017-01-01T18:05:12.000Z', '2017-01-01T12:05:12.999Z'],
    );
  });

  it('skips invalid points and counts them by field and reason, with where each is', async () => {
    const { destination, batches } = recordingDestination();
    const records: ImportRecord[] = [
      ok(fix(0, { lat: 91 }), 2),
      ok(fix(1), 3),
      ok(fix(2, { lat: 95.5 }), 4),
      ok(fix(3, { accuracy: -1, speed: Number.NaN }), 5),
      { ok: false, errors: [{ field: 'time', message: 'is missing' }], at: { line: 6 } },
      ok(fix(4, { timestamp: '2017-02-30 10:00:00' }), 7),
      ok(fix(5, { user_id: '' }), 8),
    ];
    const report = await run({ 'a.csv': [records] }, destination, { maxExamples: 2 });
    assert.equal(batches.flat().length, 1);
    const [file] = report.files;
    assert.equal(file?.read, 7);
    assert.equal(file?.stored, 1);
    assert.equal(file?.rejected, 6);
    assert.deepEqual(file?.rejected_by_reason, [
      { field: 'lat', reason: 'must be ≤ 90', count: 2, first_at: 'a.csv:2' },
      { field: 'accuracy', reason: 'must be ≥ 0', count: 1, first_at: 'a.csv:5' },
      { field: 'speed', reason: 'must be a finite number, not NaN', count: 1, first_at: 'a.csv:5' },
      { field: 'time', reason: 'is missing', count: 1, first_at: 'a.csv:6' },
      { field: 'timestamp', reason: 'is not a real time', count: 1, first_at: 'a.csv:7' },
      { field: 'user_id', reason: 'must have at least 1 character(s)', count: 1, first_at: 'a.csv:8' },
    ]);
    assert.deepEqual(file?.rejected_examples, [
      { at: 'a.csv:2', errors: [{ field: 'lat', message: 'must be ≤ 90, got 91' }] },
      { at: 'a.csv:4', errors: [{ field: 'lat', message: 'must be ≤ 90, got 95.5' }] },
    ]);
    assert.equal(report.outcome, 'done', 'rejected points are not an error');
  });

  it('names the position of an XML or JSON record by its item index', async () => {
    const { destination } = recordingDestination();
    const records: ImportRecord[] = [{ ok: true, fix: fix(0, { long: 200 }), at: { item: 3 } }];
    const report = await run({ 'a.gpx': [records] }, destination);
    assert.equal(report.files[0]?.rejected_by_reason[0]?.first_at, 'a.gpx#3');
  });

  it('stores points without accuracy or speed, and counts them', async () => {
    const { destination, batches } = recordingDestination();
    const records = [
      ok(fix(0, { accuracy: null }), 2),
      ok(fix(1, { speed: null }), 3),
      ok(fix(2, { accuracy: null, speed: null }), 4),
    ];
    const report = await run({ 'a.csv': [records] }, destination);
    assert.equal(batches.flat().length, 3);
    assert.equal(report.files[0]?.missing_accuracy, 2);
    assert.equal(report.files[0]?.missing_speed, 2);
  });

  it('reports a file it cannot open or recognise in one line, and goes on with the next', async () => {
    const { destination, batches } = recordingDestination();
    const files = { 'a.txt': [lines(2)], 'b.csv': [lines(3)] };
    const report = await importFiles(['missing.csv', 'a.txt', 'b.csv'], destination, fakeDeps(files));
    assert.equal(report.outcome, 'unreadable');
    assert.equal(exitCodeOf(report), 1);
    assert.deepEqual(
      report.files.map((f) => [f.file, f.status, f.error]),
      [
        ['missing.csv', 'unreadable', 'missing.csv: no such file'],
        ['a.txt', 'unreadable', 'a.txt: not in a format locus import reads (use --format to force one)'],
        ['b.csv', 'done', null],
      ],
    );
    assert.equal(batches.flat().length, 3);
  });

  it('reads with the forced format instead of detecting one', async () => {
    const { destination, batches } = recordingDestination();
    const report = await run({ 'a.txt': [lines(2)] }, destination, { format: 'owntracks-rec' });
    assert.equal(report.files[0]?.format, 'owntracks-rec');
    assert.equal(batches.flat().length, 2);
  });

  it('stores what came before the point where a file turns out unreadable', async () => {
    const { destination, batches } = recordingDestination();
    const report = await run(
      {
        'a.gpx': { chunks: [lines(3)], thenThrow: new UnreadableFileError('a.gpx: unclosed tag at line 9') },
        'b.csv': [lines(1)],
      },
      destination,
    );
    assert.equal(batches.flat().length, 4);
    assert.deepEqual(
      report.files.map((f) => [f.status, f.stored, f.error]),
      [
        ['unreadable', 3, 'a.gpx: unclosed tag at line 9'],
        ['done', 1, null],
      ],
    );
    assert.equal(exitCodeOf(report), 1);
  });

  it('names the file in the reason when the reader did not', async () => {
    const { destination } = recordingDestination();
    const report = await run(
      {
        'a.gpx': { chunks: [], thenThrow: new UnreadableFileError('GPX files carry no user: pass --user') },
        'b.gpx': {
          chunks: [],
          thenThrow: Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR' }),
        },
      },
      destination,
    );
    assert.deepEqual(
      report.files.map((f) => f.error),
      ['a.gpx: GPX files carry no user: pass --user', 'b.gpx: unexpected end of file'],
    );
  });

  it('lets an error that is not about the file (a bug) through', async () => {
    const { destination } = recordingDestination();
    await assert.rejects(
      run({ 'a.csv': { chunks: [lines(1)], thenThrow: new TypeError('oops') } }, destination),
      /oops/,
    );
  });

  it('stops at a destination failure, reads no further file, and says so', async () => {
    const { destination, batches } = recordingDestination({ failOnBatch: 3 });
    const report = await run({ 'a.csv': [lines(20)], 'b.csv': [lines(5)] }, destination, { batchSize: 4 });
    assert.equal(report.outcome, 'store-failed');
    assert.equal(exitCodeOf(report), 1);
    assert.equal(report.files.length, 1);
    assert.equal(report.files[0]?.status, 'store-failed');
    assert.equal(report.files[0]?.error, 'disk on fire');
    assert.equal(report.files[0]?.stored, 8);
    assert.equal(batches.flat().length, 8);
  });

  it('leaves whole batches in a real store when it fails half way', async (t) => {
    const store = openSqliteStore({ path: ':memory:' });
    t.after(() => store.close());
    let calls = 0;
    const ingest = (points: readonly Point[]) =>
      ++calls === 3 ? Promise.reject(new Error('SQLITE_FULL')) : store.ingest(points);
    // The store's other members as they are, whatever they are, bound to the store (they use #private fields).
    const failing = new Proxy(store, {
      get: (target, name) => {
        if (name === 'ingest') return ingest;
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    }) as Store;
    const report = await run({ 'a.csv': [lines(50)] }, storeDestination(failing, 'test'), { batchSize: 20 });
    assert.equal(report.outcome, 'store-failed');
    assert.match(report.files[0]?.error ?? '', /^the database failed: SQLITE_FULL/);
    assert.equal(report.files[0]?.stored, 40);
    const [user] = await allUsers(store);
    assert.equal(user?.samples, 40);
  });

  it('counts stored and duplicate points as the store answers them', async (t) => {
    const store = openSqliteStore({ path: ':memory:' });
    t.after(() => store.close());
    const destination = storeDestination(store, 'test');
    const first = await run({ 'a.csv': [lines(10), lines(2)] }, destination, { batchSize: 3 });
    assert.deepEqual([first.files[0]?.stored, first.files[0]?.duplicates], [10, 2]);
    const again = await run({ 'a.csv': [lines(10), lines(2)] }, destination, { batchSize: 7 });
    assert.deepEqual([again.files[0]?.stored, again.files[0]?.duplicates], [0, 12]);
  });

  it('on abort, stores the batch being filled, reads no further and says interrupted', async () => {
    const controller = new AbortController();
    const { destination, batches } = recordingDestination();
    const report = await run({ 'a.csv': [lines(6), lines(6, 6)], 'b.csv': [lines(3)] }, destination, {
      batchSize: 4,
      signal: controller.signal,
      onProgress: () => controller.abort(), // Ctrl-C after the first chunk: one batch sent, two points waiting
    });
    assert.equal(report.outcome, 'interrupted');
    assert.equal(exitCodeOf(report), 130);
    assert.deepEqual(
      batches.map((b) => b.length),
      [4, 2],
    );
    assert.equal(report.files.length, 1);
    assert.equal(report.files[0]?.status, 'interrupted');
    assert.equal(report.files[0]?.read, 6);
    assert.equal(report.files[0]?.stored, 6);
  });

  it('on abort while a batch commits, reads no further record', async () => {
    const controller = new AbortController();
    const { destination, batches } = recordingDestination();
    const write = destination.write.bind(destination);
    destination.write = (batch) => {
      controller.abort();
      return write(batch);
    };
    const report = await run({ 'a.csv': [lines(6)] }, destination, {
      batchSize: 4,
      signal: controller.signal,
    });
    assert.deepEqual(
      batches.map((b) => b.length),
      [4],
    );
    assert.equal(report.files[0]?.read, 4);
  });

  it('maps points the destination refuses back to their lines', async () => {
    const destination: ImportDestination = {
      ...recordingDestination().destination,
      write: ({ points }) =>
        Promise.resolve({
          stored: points.length - 1,
          duplicates: 0,
          rejected: [{ index: 1, errors: [{ field: 'accuracy', message: 'must be a number, not null' }] }],
        }),
    };
    const report = await run({ 'a.csv': [lines(2), lines(3, 2)] }, destination, { batchSize: 3 });
    assert.deepEqual(
      report.files[0]?.rejected_examples.map((e) => e.at),
      ['a.csv:3', 'a.csv:6'],
    );
    assert.equal(report.files[0]?.rejected, 2);
  });

  it('reports progress in bytes and records across files', async () => {
    const { destination } = recordingDestination();
    const seen: Array<[number, number, number]> = [];
    await run({ 'a.csv': [lines(2)], 'b.csv': [lines(3)] }, destination, {
      onProgress: (p) => seen.push([p.fileIndex, p.bytes, p.records]),
    });
    assert.deepEqual(seen.at(-1), [1, 200, 5]);
  });
});

describe('BatchWriter', () => {
  function batchOf(...seconds: number[]): ImportBatch {
    const fixes = seconds.map((s) => fix(s));
    const points = fixes.map((f, i) => ({ ...f, userId: f.user_id, tsMs: seconds[i]! * 1000 }));
    return { points, fixes };
  }

  /** A destination whose writes finish only when the test says, to see which are in flight together. */
  function heldDestination(concurrency: number) {
    const pending: Array<{ seconds: number[]; finish: () => void }> = [];
    const destination: ImportDestination = {
      name: 'held',
      maxBatchSize: 100,
      needsFixes: false,
      concurrency,
      write: ({ points }) =>
        new Promise<DestinationResult>((resolve) =>
          pending.push({
            seconds: points.map((p) => p.tsMs / 1000),
            finish: () => resolve({ stored: points.length, duplicates: 0, rejected: [] }),
          }),
        ),
      close: () => Promise.resolve(),
    };
    return { destination, pending };
  }

  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('keeps a batch that shares a key with one in flight until that one has committed', async () => {
    const { destination, pending } = heldDestination(3);
    const writer = new BatchWriter(destination, () => {});
    await writer.submit(batchOf(1, 2));
    await writer.submit(batchOf(3));
    const third = writer.submit(batchOf(2, 4));
    await tick();
    assert.deepEqual(
      pending.map((p) => p.seconds),
      [[1, 2], [3]],
      'the batch repeating second 2 waits',
    );
    pending[0]!.finish();
    await third;
    assert.deepEqual(pending[2]?.seconds, [2, 4]);
    pending[1]!.finish();
    pending[2].finish();
    await writer.drain();
  });

  it('keeps at most `concurrency` batches in flight', async () => {
    const { destination, pending } = heldDestination(1);
    const writer = new BatchWriter(destination, () => {});
    await writer.submit(batchOf(1));
    const second = writer.submit(batchOf(2));
    await tick();
    assert.equal(pending.length, 1);
    pending[0]!.finish();
    await second;
    assert.equal(pending.length, 2);
    pending[1]!.finish();
    await writer.drain();
  });

  it('fails every later submit and the drain with the first failure', async () => {
    const outcomes: IngestOutcome[][] = [];
    const destination: ImportDestination = {
      ...heldDestination(2).destination,
      write: () => Promise.reject(new DestinationError('gone')),
    };
    const writer = new BatchWriter(destination, () => outcomes.push([]));
    await writer.submit(batchOf(1));
    await assert.rejects(writer.drain(), /gone/);
    await assert.rejects(writer.submit(batchOf(2)), /gone/);
    assert.equal(outcomes.length, 0);
  });
});
