/**
 * One scheduled run of `idplane serve`: import one app and carry out what that changes, the way
 * `idplane apply --auto-approve` would, but for that app alone and never past a blocker.
 * - It takes the state lock (the same lock as apply, so it never overlaps a CI apply), waiting up to
 *   lockTimeoutMs; LockHeldError when the wait runs out.
 * - It reads the scheduled app for its import (incrementally when its import is incremental, from the
 *   stored watermark), leaves every other import source out as not read (their users keep their last
 *   imported values, and no lifecycle change comes from them: a scheduled run of one app never
 *   deactivates anyone another source sources), and reads the provisioning targets as a plan does.
 * - A plan that cannot be applied (conflicts, a tripped safeguard, a broken policy) is not applied:
 *   the run ends `blocked` with the blockers' codes, and `idplane plan` shows the details. Nothing is
 *   ever let through: serve has no --allow-mass-change.
 * - Otherwise the plan is carried out (journaled, as apply does) and the run ends `applied`, or
 *   `unchanged` when there was nothing to do.
 */
import type { NotPlannedApp } from '../../schemas/generated/plan.ts';
import type { Observer } from '../observer.ts';
import { progressOf } from '../progress.ts';
import { planWorkspace, type Workspace } from '../workspace.ts';
import { leavesWork } from './apply.ts';
import { carryOut } from './carry-out.ts';
import { takeLock } from './lock.ts';

/** The reason recorded for the import sources a scheduled run of another app does not read. */
export const NOT_SCHEDULED = 'not read: this scheduled run imports another app';

export interface ScheduledImport {
  outcome: 'applied' | 'unchanged' | 'blocked';
  userChanges: number;
  accountChanges: number;
  /** Account changes that failed (the rest was carried out). */
  failures: number;
  /** What blocked the plan (blocker codes and messages); what failed; apps that could not be read. */
  notes: string[];
}

export async function scheduledImport(ws: Workspace, app: string, options: { lockTimeoutMs: number; observer: Observer }): Promise<ScheduledImport> {
  const command = `serve schedule ${app}`;
  const progress = progressOf(options.observer);
  const lock = await takeLock(ws, command, options.lockTimeoutMs);
  try {
    const state = await ws.store.read();
    const notRead = new Map<string, NotPlannedApp>();
    for (const other of ws.project.profileSources) {
      if (other !== app) notRead.set(other, { app: other, role: 'source', operation: 'read accounts for import', reason: NOT_SCHEDULED });
    }
    const plan = await planWorkspace(ws, state, progress, { notRead });
    // Notes go to the log: app names, codes and counts, never a message that may name a person.
    const unreadable = (plan.notPlanned ?? []).filter((n) => n.reason !== NOT_SCHEDULED).map((n) => `${n.app} could not be read`);
    if (!plan.applyable) {
      return { outcome: 'blocked', userChanges: 0, accountChanges: 0, failures: 0, notes: [...plan.blockers.map(blockerNote), ...unreadable] };
    }
    if (!leavesWork(state, plan)) {
      return { outcome: 'unchanged', userChanges: 0, accountChanges: 0, failures: 0, notes: unreadable };
    }
    const { results } = await carryOut(ws, state, plan, command, progress);
    const failed = results.filter((r) => r.outcome === 'failed');
    return {
      outcome: 'applied',
      userChanges: plan.users.length,
      accountChanges: results.length - failed.length,
      failures: failed.length,
      notes: [...(failed.length > 0 ? [`${failed.length} account change(s) failed in ${[...new Set(failed.map((f) => f.app))].join(', ')} (idplane history shows them)`] : []), ...unreadable],
    };
  } finally {
    await lock.release();
  }
}

/** A blocker as the log says it: its kind and, for a policy, its name; the message may name people. */
function blockerNote(blocker: { code: string; policy?: string }): string {
  switch (blocker.code) {
    case 'conflicts': return 'conflicts (idplane plan shows them)';
    case 'safeguard': return 'safeguard tripped (idplane plan shows it)';
    case 'policy': return `plan policy ${blocker.policy ?? '?'} broken (idplane plan shows it)`;
    default: return blocker.code;
  }
}
