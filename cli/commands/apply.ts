/**
 * `idplane apply [PLANFILE]`: carries out a plan under the state lock. With a plan file it applies exactly
 * that plan and refuses it when the state moved since (stale) or when it is not applyable. Without one it
 * plans under the lock, shows the plan and asks; with no terminal it refuses unless --auto-approve.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Plan } from '../../schemas/generated/plan.ts';
import { applyPlanToState, applyTargetResults } from '../../reconciler/apply-plan.ts';
import { applyTargets, type ChangeResult } from '../../providers/write-targets.ts';
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
    const { state: final, results } = await pushToTargets(ws, next, plan, out);
    report(out, plan, final, results);
    return results.some((r) => r.outcome === 'failed') ? 1 : 0;
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

/** Directory first, then targets; what the targets did is recorded in a second atomic write. */
async function pushToTargets(ws: Workspace, state: DirectoryState, plan: Plan, out: Output): Promise<{ state: DirectoryState; results: ChangeResult[] }> {
  if (plan.accounts.length === 0) return { state, results: [] };
  const task = out.progress.start('pushing to targets');
  let done = 0;
  const results = await applyTargets(ws.project, ws.dir, plan.accounts, () => task.update(done++, new Set(plan.accounts.map((a) => a.app)).size));
  task.finish();
  const writeBack = new Set(Object.values(ws.project.apps).filter((a) => a.import && a.provision).map((a) => a.name));
  const next = applyTargetResults(state, plan, results, writeBack);
  if (next !== state) await ws.store.write(next, { lineage: state.lineage, serial: state.serial });
  return { state: next, results };
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

function report(out: Output, plan: Plan, next: DirectoryState, results: ChangeResult[]): void {
  const u = plan.summary.users;
  const count = (outcome: ChangeResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const failed = count('failed');
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ applied: true, complete: failed === 0, serial: next.serial, lineage: next.lineage, summary: plan.summary, accounts: results }) + '\n');
    return;
  }
  for (const r of results.filter((r) => r.outcome !== 'done')) {
    const mark = r.outcome === 'failed' ? out.style.red('✗ failed') : out.style.yellow('! skipped');
    out.stdout(`  ${mark} ${r.action} ${r.app}/${r.key}: ${r.message ?? ''}\n`);
  }
  const title = failed > 0 ? out.style.red(out.style.bold('Apply finished with failures.')) : out.style.green(out.style.bold('Apply complete!'));
  out.stdout(`\n${title} Users: ${u.create} created, ${u.update} updated, ${u.activate} activated, ${u.deactivate} deactivated, ${u.suspend} suspended, ${u.unsuspend} unsuspended. Links: ${plan.summary.links.link} added, ${plan.summary.links.unlink} removed.`);
  if (results.length > 0) out.stdout(` Accounts: ${count('done')} done, ${count('skipped')} skipped, ${failed} failed.`);
  out.stdout(` State serial ${next.serial}.\n`);
  if (failed > 0 || count('skipped') > 0) out.stdout('Run idplane plan again: it shows what is left, and apply converges.\n');
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
