import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IngestOutcome, Point } from '../ingest/point.js';
import { GroupCommitter, type CommitObserver, type CommittedSubmission } from './group-commit.js';

function point(userId: string, tsMs: number): Point {
  return { userId, tsMs, lat: 0, long: 0, accuracy: 1, speed: 0 };
}

/** A store that records each transaction and decides duplicates by key, like a real one. */
function recordingStore(options: { failOn?: number } = {}) {
  const seen = new Set<string>();
  const transactions: Point[][] = [];
  return {
    transactions,
    ingest(points: readonly Point[]): Promise<IngestOutcome[]> {
      transactions.push([...points]);
      if (transactions.length === options.failOn) return Promise.reject(new Error('disk on fire'));
      return Promise.resolve(
        points.map((p) => {
          const key = `${p.userId}/${p.tsMs}`;
          if (seen.has(key)) return 'duplicate';
          seen.add(key);
          return 'stored';
        }),
      );
    },
  };
}

describe('GroupCommitter', () => {
  it('is busy while points wait or were submitted within the window, and idle before any came', async () => {
    const committer = new GroupCommitter(recordingStore());
    assert.equal(committer.busy(1_000), false, 'nothing submitted yet');
    const answer = committer.submit([point('a', 1)]);
    assert.equal(committer.busy(0), true, 'a point waits for its commit');
    await answer;
    assert.equal(committer.busy(60_000), true, 'a point came within the window');
    assert.equal(committer.busy(0), false, 'committed, and the window is empty');
  });

  it('writes submissions of the same tick in one transaction and answers each its own outcomes', async () => {
    const store = recordingStore();
    const committer = new GroupCommitter(store);
    const answers = await Promise.all([
      committer.submit([point('a', 1)]),
      committer.submit([point('a', 2), point('a', 1)]),
      committer.submit([point('a', 1)]),
    ]);
    assert.equal(store.transactions.length, 1);
    assert.deepEqual(answers, [['stored'], ['stored', 'duplicate'], ['duplicate']]);
  });

  it('collects what arrives during a commit into the next one', async () => {
    const store = recordingStore();
    const committer = new GroupCommitter(store);
    const first = committer.submit([point('a', 1)]);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [committer.submit([point('a', 2)]), committer.submit([point('a', 3)])];
    await Promise.all([first, ...later]);
    assert.deepEqual(
      store.transactions.map((t) => t.length),
      [1, 2],
    );
  });

  it('splits a backlog at the batch size without splitting a submission', async () => {
    const store = recordingStore();
    const committer = new GroupCommitter(store, { maxBatchPoints: 3 });
    await Promise.all([
      committer.submit([point('a', 1), point('a', 2)]),
      committer.submit([point('a', 3), point('a', 4)]),
      committer.submit([point('a', 5), point('a', 6), point('a', 7), point('a', 8)]),
    ]);
    assert.deepEqual(
      store.transactions.map((t) => t.length),
      [2, 2, 4],
    );
  });

  it('rejects every submission of a failed transaction and goes on with the next', async () => {
    const store = recordingStore({ failOn: 1 });
    const committer = new GroupCommitter(store);
    const failed = [committer.submit([point('a', 1)]), committer.submit([point('a', 2)])];
    await assert.rejects(failed[0] as Promise<unknown>, /disk on fire/);
    await assert.rejects(failed[1] as Promise<unknown>, /disk on fire/);
    assert.deepEqual(await committer.submit([point('a', 1)]), ['stored']);
  });

  it('drain() waits for everything submitted', async () => {
    const store = recordingStore();
    const committer = new GroupCommitter(store);
    const pending = committer.submit([point('a', 1)]);
    assert.equal(committer.pending, 1);
    await committer.drain();
    assert.equal(committer.pending, 0);
    assert.equal(store.transactions.length, 1);
    assert.deepEqual(await pending, ['stored']);
  });

  it('says nothing of points in flight between transactions, and counts them while one is written', async () => {
    let release: () => void = () => undefined;
    const store = {
      ingest: (points: readonly Point[]) =>
        new Promise<IngestOutcome[]>((resolve) => {
          release = () => resolve(points.map(() => 'stored'));
        }),
    };
    const committer = new GroupCommitter(store);
    assert.equal(committer.inFlight, 0);
    const pending = committer.submit([point('a', 1), point('a', 2)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(committer.inFlight, 2);
    assert.equal(committer.pending, 0);
    release();
    await pending;
    assert.equal(committer.inFlight, 0);
  });
});

/** An observer that records what it is told. */
function recordingObserver() {
  const commits: Array<{ submissions: CommittedSubmission[]; points: number; ms: number }> = [];
  const failures: Array<{ error: unknown; points: number; ms: number }> = [];
  const observer: CommitObserver = {
    committed: (submissions, points, ms) => commits.push({ submissions: [...submissions], points, ms }),
    failed: (error, points, ms) => failures.push({ error, points, ms }),
  };
  return { observer, commits, failures };
}

describe('GroupCommitter observer', () => {
  it('is told each committed transaction: its submissions with their origin and outcomes, and its size', async () => {
    const { observer, commits, failures } = recordingObserver();
    const committer = new GroupCommitter(recordingStore(), { observer });
    await Promise.all([
      committer.submit([point('a', 1)]),
      committer.submit([point('a', 2), point('a', 1)], 'mqtt'),
    ]);
    await committer.submit([point('a', 3)], 'http');
    assert.equal(failures.length, 0);
    assert.deepEqual(
      commits.map(({ submissions, points }) => ({ submissions, points })),
      [
        {
          submissions: [
            { origin: undefined, outcomes: ['stored'] },
            { origin: 'mqtt', outcomes: ['stored', 'duplicate'] },
          ],
          points: 3,
        },
        { submissions: [{ origin: 'http', outcomes: ['stored'] }], points: 1 },
      ],
    );
    for (const { ms } of commits) assert.ok(Number.isFinite(ms) && ms >= 0, `commit time ${ms}`);
  });

  it('is told a failed transaction with its error and size, and not as a commit', async () => {
    const { observer, commits, failures } = recordingObserver();
    const committer = new GroupCommitter(recordingStore({ failOn: 1 }), { observer });
    const failed = [committer.submit([point('a', 1)]), committer.submit([point('a', 2), point('a', 3)])];
    await Promise.allSettled(failed);
    assert.equal(commits.length, 0);
    assert.equal(failures.length, 1);
    assert.match(String(failures[0]?.error), /disk on fire/);
    assert.equal(failures[0]?.points, 3);
    assert.ok((failures[0]?.ms ?? -1) >= 0);
  });

  it('that throws costs no point: submitters are answered, the next batch commits, a warning is emitted', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const observer: CommitObserver = {
        committed: () => {
          throw new Error('observer bug');
        },
        failed: () => {},
      };
      const committer = new GroupCommitter(recordingStore(), { observer });
      assert.deepEqual(await committer.submit([point('a', 1)]), ['stored']);
      assert.deepEqual(await committer.submit([point('a', 1), point('a', 2)]), ['duplicate', 'stored']);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 2);
      assert.match(String(warnings[0]?.message), /observer bug/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
