/**
 * The storage contract every state backend implements: read the directory, write it back atomically
 * against an expected lineage and serial, and a lock with holder information. `LockHeldError` is the one
 * error callers may wait and retry on; `StaleStateError` means someone else wrote the state in between.
 */
import type { DirectoryState } from '../reconciler/model.ts';

export interface LockInfo {
  id: string;
  operation: string;
  who: string;
  host: string;
  pid: number;
  created: string;
}

export interface LockHandle {
  readonly info: LockInfo;
  release(): Promise<void>;
}

export interface StateStore {
  /** Where the state lives, for messages (never includes secrets). */
  readonly location: string;
  read(): Promise<DirectoryState>;
  /** Replaces the state atomically. Refuses when the stored lineage/serial differ from `expected`. */
  write(next: DirectoryState, expected: { lineage: string | null; serial: number }): Promise<void>;
  lock(request: Omit<LockInfo, 'id' | 'created'>): Promise<LockHandle>;
  /** Releases a lock left behind, by its id. */
  forceUnlock(id: string): Promise<void>;
}

export class LockHeldError extends Error {
  readonly code = 'LOCK_HELD';
  constructor(readonly holder: LockInfo, location: string) {
    super(`the state at ${location} is locked by ${holder.who}@${holder.host} (pid ${holder.pid}) for ${holder.operation} since ${holder.created}; lock id ${holder.id}. If that run is gone, release it with: idplane force-unlock ${holder.id}`);
  }
}

export class StaleStateError extends Error {
  readonly code = 'STALE_STATE';
  constructor(expected: { lineage: string | null; serial: number }, actual: { lineage: string | null; serial: number }) {
    super(`the state moved since it was read (expected lineage ${expected.lineage ?? 'none'} serial ${expected.serial}, found lineage ${actual.lineage ?? 'none'} serial ${actual.serial})`);
  }
}

export class StateFormatError extends Error {
  readonly code = 'STATE_FORMAT';
}
