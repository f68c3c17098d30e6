import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '../../../src/store/store.js';
import type { ContractContext } from './context.js';
import { NOON, point } from './support.js';
import { allUsers } from '../../support/users.js';

/** Every call a Store offers after opening, each as a fresh promise. */
function everyCall(store: Store): [string, () => Promise<unknown>][] {
  return [
    ['ingest', () => store.ingest([point('ana', NOON + 1)])],
    ['users', () => allUsers(store)],
    ['minutes', () => store.minutes('ana', {}, { limit: 1 })],
    ['pruneDedupeKeys', () => store.pruneDedupeKeys(NOON)],
    ['health', () => store.health()],
    ['tokens.list', () => store.tokens.list()],
  ];
}

/** `.health()` and `.close()`: a store's life from open to closed. */
export function lifecycleTests(context: ContractContext): void {
  describe('.health()', () => {
    it('.health() resolves on an open store', async () => {
      const { store } = context;
      await store.health();
      await store.ingest([point('ana', NOON)]);
      await store.health();
    });
  });

  describe('.close()', () => {
    it('.close() resolves when called twice, and the store refuses every call afterwards', async () => {
      const { store } = context;
      await store.ingest([point('ana', NOON)]);
      await store.close();
      await assert.doesNotReject(store.close(), 'a second close() resolves');
      for (const [name, call] of everyCall(store))
        await assert.rejects(call(), Error, `${name} after close()`);
    });
  });
}
