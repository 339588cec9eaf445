/**
 * What a backend gives the StateStore conformance suite (state/conformance.ts), and what the suite's
 * parts (conformance-history.ts, conformance-lock.ts) are given: the store of the current test, another
 * store on the same state, and the backend's hooks into its storage.
 */
import type { StateStore } from './types.ts';

export interface ConformanceSubject {
  store: StateStore;
  reopen: () => Promise<StateStore>;
  /** Changes one user's stored profile value behind the store's back, as an edit outside idplane would. */
  editOutside: () => Promise<void>;
  /** Whether write() refuses an `expected.digest` that is not the stored content's (backends that can tell cheaply). */
  checksDigest: boolean;
  /** How many stored user rows `during` inserted, updated or deleted (every row, when it replaced the table), as the database tells. */
  userRowWrites: (during: () => Promise<void>) => Promise<number>;
  cleanup: () => Promise<void>;
}

/** What the parts of the suite use: the store of the current test, another store on its state, and the subject. */
export interface ConformanceContext {
  store(): StateStore;
  reopen(): Promise<StateStore>;
  subject(): ConformanceSubject;
}
