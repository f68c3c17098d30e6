import type { Store } from '../../../src/store/store.js';

/** What a backend's test file gives the contract for each test. */
export interface StoreUnderTest {
  /** A fresh, empty store. */
  store: Store;
  /** Opens another Store on the same database, as a restarted process would; absent when the backend cannot. */
  reopen?: () => Promise<Store>;
}

/**
 * How the tests of a contract module reach the store. Each test gets a fresh one, so modules read `store` inside
 * their tests, never when they declare them.
 */
export interface ContractContext {
  readonly backendName: string;
  /** The running test's store: fresh and empty when the test starts, closed after it. */
  readonly store: Store;
  /** Whether `restart` can open a second Store on the same database. */
  readonly canRestart: boolean;
  /** Closes the store and continues on a new one over the same data, like a process restart. */
  restart(): Promise<Store>;
}
