/** State backends and their contract. */
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded/store.ts';
export { openStateStore } from './open-store.ts';
export { LockHeldError, StaleStateError, StateAccessError, StateFormatError, type LockHandle, type LockInfo, type StateStore, type UserEntry } from './types.ts';
export { PostgresStore, type PostgresStoreOptions } from './postgres/store.ts';
export { StateUnreachableError } from './postgres/connection.ts';
export { LockLostError } from './postgres/lock.ts';
