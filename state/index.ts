/** State backends and their contract. */
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded/store.ts';
export { LockHeldError, StaleStateError, StateFormatError, type LockHandle, type LockInfo, type StateStore } from './types.ts';
