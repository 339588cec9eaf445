/**
 * The storage contract every state backend implements: read the directory, write it back atomically
 * against an expected lineage and serial together with the journal of the changes that write makes, a
 * lock with holder information, and the history of runs and per-user changes. `LockHeldError` is the one
 * error callers may wait and retry on; `StaleStateError` means someone else wrote the state in between.
 * One conformance suite (state/conformance.ts) runs against every backend.
 */
import type { PlanSummary, UserRecord, ValueChange } from '../schemas/generated/plan.ts';
import type { StateDelta } from '../reconciler/state-delta.ts';
import type { DirectoryState, ImportedRecord, StoredLink } from '../reconciler/model.ts';

/** One run of a state-changing command (apply, jit, state migrate), from start to finish. */
export interface RunRecord {
  id: string;
  command: string;
  who: string;
  host: string;
  startedAt: string;
  finishedAt: string | null;
  /** sha256 of the resolved config (no secrets). */
  configFingerprint: string;
  /** The git commit of the config, when it sits in a git repository. */
  gitCommit: string | null;
  serialBefore: number;
  serialAfter: number | null;
  summary: PlanSummary | null;
  outcome: 'running' | 'succeeded' | 'partial' | 'failed';
  message: string | null;
}

/**
 * One change a run made (or tried): a directory user change, a link, or a target account write. Journaled
 * before a target write (outcome 'pending') and after it (done, skipped or failed); directory changes are
 * journaled in the same atomic write as the state they change.
 */
export interface ChangeRecord {
  runId: string;
  /** Position within the run, so entries read back in the order they were made. */
  seq: number;
  at: string;
  kind: 'user' | 'link' | 'account';
  action: string;
  userId: string;
  login: string;
  app: string | null;
  key: string | null;
  attributes: Record<string, ValueChange> | null;
  outcome: 'pending' | 'done' | 'skipped' | 'failed';
  message: string | null;
}

/** What a write expects to replace. */
export interface StateRef {
  lineage: string | null;
  serial: number;
  /** The digest read with the state (DirectoryState.digest); checked by backends that can do so cheaply. */
  digest?: string | null;
}

export interface HistoryQuery {
  /** Only changes to this user (case-insensitive), and the runs that made them. */
  login?: string;
  /** Most recent runs first; default 20. */
  limit?: number;
  /** Only runs started at or after this instant (an ISO 8601 time, compared with the runs' startedAt). */
  since?: string;
  /** Only changes of this app (accounts and links; a user change names no app), and the runs that made them. */
  app?: string;
  /** Only changes with this action (create, update, deactivate, link, disable, …), and the runs that made them. */
  action?: string;
  /** false: the runs alone, no changes (each run's summary counts them). Default true. */
  changes?: boolean;
}

export interface History {
  runs: RunRecord[];
  changes: ChangeRecord[];
}

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

export interface ReadOptions {
  /**
   * Told now and then how far a read is: bytes of `total` for a file, rows (of users, links and
   * records; `total` unknown) for a database. A million-user state takes seconds to read.
   */
  onProgress?: (done: number, total: number | undefined, unit: 'bytes' | 'rows') => void;
}

/** One user as `state show` needs it: the record, and each of its links with the account's imported record. */
export interface UserEntry {
  user: UserRecord;
  /** In the state's link order; `imported` is null when no record of that account is stored. */
  links: (StoredLink & { imported: ImportedRecord | null })[];
}

export interface StateStore {
  /** Where the state lives, for messages (never includes secrets). */
  readonly location: string;
  /**
   * The stored state. `digest` identifies the stored content; `edited` is set when the content may have
   * been changed outside idplane since idplane last wrote it (or a write said so: `next.edited`).
   */
  read(options?: ReadOptions): Promise<DirectoryState>;
  /**
   * The user whose login is `login` (case-insensitive; the first in the state's order if several), read
   * by index without loading the directory; null when there is none. Backends without an index omit it.
   */
  readUser?(login: string): Promise<UserEntry | null>;
  /**
   * Replaces the state atomically, together with the journal entries of the changes it makes: after a
   * crash either both are there or neither is. `next`, like a read state, is never changed afterwards
   * (a store may hand it out again from a later read). Refuses when the stored lineage/serial differ from
   * `expected` (and, where the backend can tell cheaply, when the content differs from `expected.digest`).
   * `changes` is consumed once, as the write streams (a million entries are never held at once).
   * `next.pipeline` and `next.edited` are stored; `next.digest` is ignored.
   */
  write(next: DirectoryState, expected: StateRef, changes?: Iterable<ChangeRecord>): Promise<void>;
  /**
   * The stored lineage, serial and digest, without reading the directory (one small query): whether a
   * state held in memory is still the stored one.
   */
  head(): Promise<StateRef & { digest: string | null }>;
  /**
   * Writes only what `delta` changes (reconciler/state-delta.ts), atomically with `changes` and, when
   * given, `run` (recorded as it is, in the same transaction), against `expected` as write() checks it;
   * returns the digest the stored content then has. The stored state becomes applyStateDelta(stored,
   * delta), content and order. Its cost is the delta's, whatever the directory's size (a JIT sign-in on
   * a million users). A state this store handed out before is not changed by it, and not handed out again.
   */
  writeDelta(delta: StateDelta, expected: StateRef, changes?: Iterable<ChangeRecord>, run?: RunRecord): Promise<string>;
  /**
   * Takes the lock or fails fast with LockHeldError naming the holder. With `waitMs`, retries until the
   * lock is free or the time is up.
   */
  lock(request: Omit<LockInfo, 'id' | 'created'>, options?: { waitMs?: number }): Promise<LockHandle>;
  /** Releases a lock left behind, by its id. */
  forceUnlock(id: string): Promise<void>;
  /** Records a run as it starts, and again as it finishes (same id: the later record wins). */
  recordRun(run: RunRecord): Promise<void>;
  /** Appends journal entries that are not part of a state write (target writes, before and after). */
  journal(changes: Iterable<ChangeRecord>): Promise<void>;
  /** Runs, most recent first, and their changes; journal entries of writes that never committed are left out. */
  history(query?: HistoryQuery): Promise<History>;
  /**
   * Backends that keep the previous generation of the state (the embedded store's state.db.backup):
   * puts it back, as a new write (serial above both), keeping what it replaces aside. The caller holds
   * the lock. Absent where the database's own backups do this (PostgreSQL).
   */
  restoreBackup?(): Promise<RestoreOutcome>;
  close(): Promise<void>;
}

export interface RestoreOutcome {
  /** The generation put back, as it was stored. */
  restored: { lineage: string | null; serial: number; users: number };
  /** The state it replaced: its serial, or null when it could not be read. */
  replaced: { serial: number | null; keptAs: string } | null;
  /** The serial the restored state now has. */
  serial: number;
  /**
   * Where the history now comes from: the replaced state's, kept (`current`), or, when that could not
   * be read, the backup's (`backup`: the runs since the backup are only in the file kept aside).
   */
  history: 'current' | 'backup';
}

export class LockHeldError extends Error {
  readonly code = 'LOCK_HELD';
  readonly holder: LockInfo;

  constructor(holder: LockInfo, location: string) {
    super(`the state at ${location} is locked by ${holder.who}@${holder.host} (pid ${holder.pid}) for ${holder.operation} since ${holder.created}; lock id ${holder.id}. If that run is gone, release it with: idplane force-unlock ${holder.id}`);
    this.holder = holder;
  }
}

export class StaleStateError extends Error {
  readonly code = 'STALE_STATE';
  /** `location`: given when the content (digest) differs though lineage and serial are the same. */
  constructor(expected: StateRef, actual: StateRef, location?: string) {
    super(expected.lineage === actual.lineage && expected.serial === actual.serial && location !== undefined
      ? `the state at ${location} changed since it was read (lineage ${actual.lineage ?? 'none'} serial ${actual.serial}, content ${actual.digest ?? 'none'} instead of ${expected.digest ?? 'none'}): it was written or edited in between`
      : `the state moved since it was read (expected lineage ${expected.lineage ?? 'none'} serial ${expected.serial}, found lineage ${actual.lineage ?? 'none'} serial ${actual.serial})`);
  }
}

export class StateFormatError extends Error {
  readonly code = 'STATE_FORMAT';
}

/** The state's files cannot be opened or written (a read-only folder, permissions, a full disk, a busy database). */
export class StateAccessError extends Error {
  readonly code = 'STATE_ACCESS';
}
