/*
 * The behaviour every Store backend must share, written against the Store interface only so that it runs unchanged
 * on SQLite and PostgreSQL. One module per topic; a backend's test file calls storeContract with a factory that
 * opens a fresh, empty store, and gets them all. Expected rows are recomputed from the raw points
 * (expected-minutes.ts), never read back from the store under test nor computed with the store's own arithmetic.
 */
import { afterEach, beforeEach, describe } from 'node:test';
import type { Store } from '../../../src/store/store.js';
import { awkwardValueTests } from './awkward-values.js';
import type { ContractContext, StoreUnderTest } from './context.js';
import { ingestTests } from './ingest-and-dedupe.js';
import { lifecycleTests } from './lifecycle.js';
import { minutesReadTests } from './minutes-reads.js';
import { pruningTests } from './pruning.js';
import { tokenTests } from './tokens.js';
import { trackTests } from './track.js';
import { userChangeTests } from './user-changes.js';
import { userPageTests } from './user-pages.js';
import { userTotalsTests } from './user-totals.js';

export function storeContract(backendName: string, open: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${backendName}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    let live: Store[] = [];

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
      live = [store];
    });

    afterEach(async () => {
      await Promise.all(live.map((s) => s.close()));
    });

    const context: ContractContext = {
      backendName,
      get store() {
        return store;
      },
      get canRestart() {
        return subject.reopen !== undefined;
      },
      async restart() {
        if (!subject.reopen)
          throw new Error(`${backendName} cannot open a second Store on the same database`);
        await store.close();
        live = live.filter((s) => s !== store);
        store = await subject.reopen();
        live.push(store);
        return store;
      },
    };

    ingestTests(context);
    awkwardValueTests(context);
    minutesReadTests(context);
    pruningTests(context);
    lifecycleTests(context);
    tokenTests(context);
    userTotalsTests(context);
    userPageTests(context);
    userChangeTests(context);
    trackTests(context);
  });
}
