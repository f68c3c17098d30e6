import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IngestOutcome, Point } from '../pipeline/types.js';
import { GroupCommitter } from './group-commit.js';

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
    const committer = new GroupCommitter(store, 3);
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
});
