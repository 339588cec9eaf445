/**
 * The state lock as runs take it: named for the operation and the person, host and process that hold
 * it, so a LOCK_HELD error says who to ask; waiting up to `waitMs` for a run that holds it, or failing
 * fast. force-unlock releases a lock a run left behind, given the id the error named (a lock taken
 * since is never broken by mistake).
 */
import { hostname } from 'node:os';
import type { LockHandle } from '../../state/types.ts';
import { atBoundary } from '../boundary.ts';
import { withWorkspace, type Workspace } from '../workspace.ts';
import { runContext, type RunOptions } from './run-options.ts';
import { whoAmI } from './run-log.ts';

export async function takeLock(ws: Workspace, operation: string, waitMs = 0): Promise<LockHandle> {
  return ws.store.lock({ operation, who: whoAmI(), host: hostname(), pid: process.pid }, { waitMs });
}

export interface ForceUnlockOptions extends RunOptions {
  /** The lock id, as the LOCK_HELD error named it. */
  id: string;
}

/** Releases the lock `id` (STATE_FORMAT when no lock, or another one, is held). */
export async function forceUnlock(options: ForceUnlockOptions): Promise<void> {
  return atBoundary(() => withWorkspace(options.dir, (ws) => ws.store.forceUnlock(options.id), runContext(options).open));
}
