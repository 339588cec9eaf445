/**
 * `idplane apply [PLANFILE]`: carries out a plan under the state lock. With a plan file it applies exactly
 * that plan and refuses it when the state moved since (stale) or when it is not applyable. Without one it
 * plans under the lock, shows the plan and asks; with no terminal it refuses unless --auto-approve.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Plan } from '../../schemas/generated/plan.ts';
import { applyPlanToState } from '../../reconciler/apply-plan.ts';
import type { DirectoryState } from '../../reconciler/model.ts';
import type { LockHandle } from '../../state/types.ts';
import { CliError, UsageError } from '../errors.ts';
import type { Output } from '../output.ts';
import { openWorkspace, planWorkspace, type Workspace } from '../workspace.ts';
import { hasChanges, loadPlan, renderPlan } from './plan.ts';

export interface ApplyOptions {
  autoApprove?: boolean;
  /** Apply a plan that trips safeguards (never one with conflicts). */
  allowMassChange?: boolean;
}

export async function applyCommand(dir: string, planFile: string | undefined, options: ApplyOptions, out: Output): Promise<number> {
  if (!planFile && !options.autoApprove && !out.interactive) {
    throw new UsageError('apply needs confirmation, but there is no terminal to ask on: pass --auto-approve, or apply a saved plan with `idplane apply PLANFILE`');
  }
  const saved = planFile ? await loadPlan(planFile) : null;
  const ws = await openWorkspace(dir, { notice: (m) => out.stderr(`${m}\n`) });
  const lock = await takeLock(ws, 'apply');
  try {
    const state = await ws.store.read();
    let plan: Plan;
    if (saved) {
      if (saved.state.lineage !== state.lineage || saved.state.serial !== state.serial) {
        throw new CliError('PLAN_STALE', `the saved plan ${planFile} is stale: it was made against state serial ${saved.state.serial}${saved.state.lineage ? ` (lineage ${saved.state.lineage})` : ''}, but the state is now at serial ${state.serial}${state.lineage ? ` (lineage ${state.lineage})` : ''}. Run idplane plan again and review the new plan.`);
      }
      plan = saved;
    } else {
      plan = await planWorkspace(ws, state, out.progress);
      renderPlan(plan, out);
    }
    assertApplyable(plan, options.allowMassChange === true);
    if (!hasChanges(plan)) {
      if (out.format === 'text') out.stdout('Nothing to apply.\n');
      else if (saved) out.stdout(JSON.stringify({ applied: false, serial: state.serial, summary: plan.summary }) + '\n');
      return 0;
    }
    if (!saved && !options.autoApprove && !(await confirm(out))) {
      out.stderr('Apply cancelled.\n');
      return 1;
    }
    const next = await write(ws, state, plan);
    report(out, plan, next);
    return 0;
  } finally {
    await lock.release();
  }
}

/** Conflicts always block; tripped safeguards block unless the operator allowed a mass change. */
export function assertApplyable(plan: Plan, allowMassChange: boolean): void {
  const blocking = plan.blockers.filter((b) => !(allowMassChange && b.code === 'safeguard'));
  if (blocking.length === 0) return;
  const hint = blocking.every((b) => b.code === 'safeguard') ? ' (after reviewing the plan, pass --allow-mass-change to apply it anyway)' : '';
  throw new CliError('PLAN_NOT_APPLYABLE', `the plan cannot be applied: ${blocking.map((b) => b.message).join('; ')}${hint}`);
}

export async function takeLock(ws: Workspace, operation: string): Promise<LockHandle> {
  return ws.store.lock({ operation, who: safeUser(), host: hostname(), pid: process.pid });
}

async function write(ws: Workspace, state: DirectoryState, plan: Plan): Promise<DirectoryState> {
  const next = applyPlanToState(state, plan, randomUUID());
  await ws.store.write(next, { lineage: state.lineage, serial: state.serial });
  return next;
}

async function confirm(out: Output): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\n${out.errStyle.bold('Do you want to perform these actions?')}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

function report(out: Output, plan: Plan, next: DirectoryState): void {
  const u = plan.summary.users;
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ applied: true, serial: next.serial, lineage: next.lineage, summary: plan.summary }) + '\n');
    return;
  }
  out.stdout(`\n${out.style.green(out.style.bold('Apply complete!'))} Users: ${u.create} created, ${u.update} updated, ${u.activate} activated, ${u.deactivate} deactivated, ${u.suspend} suspended, ${u.unsuspend} unsuspended. Links: ${plan.summary.links.link} added, ${plan.summary.links.unlink} removed. State serial ${next.serial}.\n`);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
