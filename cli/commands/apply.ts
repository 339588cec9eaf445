/**
 * `idplane apply [PLANFILE]`: carries out a plan under the state lock. With a plan file it applies exactly
 * that plan: it refuses one that is stale (another config, state or inputs), not applyable, wrongly
 * signed, or not the plan the config and inputs produce (plan-verify.ts). Without one it plans under the
 * lock, shows the plan and asks; with no terminal it refuses unless --auto-approve.
 */
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Plan } from '../../schemas/generated/plan.ts';
import type { DirectoryState } from '../../reconciler/model.ts';
import type { LockHandle } from '../../state/types.ts';
import { carryOut } from '../../engine/runs/carry-out.ts';
import { IdplaneError, UsageError } from '../../engine/errors.ts';
import { reportTimings, reportWarnings, type Output } from '../output.ts';
import { whoAmI } from '../../engine/runs/run-log.ts';
import { renderApplyReport, reportNotPlanned } from '../views/apply-report.ts';
import { openWorkspace, planWorkspace, readState, VERSION, type Workspace } from '../../engine/workspace.ts';
import { loadRawPlan, openBytes, type RawPlan } from '../../engine/plan-file.ts';
import { signingKeyOf, verifyPlanSignature } from '../../engine/plan-signature.ts';
import { checkOrigin, checkState, verifySavedPlan } from '../../engine/plan-verify.ts';
import { inDir } from '../paths.ts';
import { pausePoint } from '../../state/crash-point.ts';
import { planSource } from '../../engine/plan-stream.ts';
import { hasChanges, renderPlan } from './plan.ts';
import { NOT_PLANNED } from '../exit-codes.ts';

export interface ApplyOptions {
  autoApprove?: boolean;
  /** Apply a plan that trips safeguards (never one with conflicts). */
  allowMassChange?: boolean;
  /** Apply a plan that breaks these plan policies, by name (never one with conflicts). */
  allowPolicies?: string[];
  /** How long to wait for a lock another run holds; 0 fails fast. */
  lockTimeoutMs?: number;
}

export async function applyCommand(dir: string, planFile: string | undefined, options: ApplyOptions, out: Output): Promise<number> {
  if (!planFile && !options.autoApprove && !out.interactive) {
    throw new UsageError('apply needs confirmation, but there is no terminal to ask on: pass --auto-approve, or apply a saved plan with `idplane apply PLANFILE`');
  }
  const file = planFile === undefined ? undefined : inDir(dir, planFile);
  const ws = await openWorkspace(dir, { notice: (m) => out.stderr(`${m}\n`) });
  try {
    reportWarnings(out, ws.warnings);
    // A saved plan is checked before the lock is taken or the state is read: its signature first (when
    // the config sets a key), then who made it and from which config.
    let saved: RawPlan | null = null;
    if (file) {
      const key = signingKeyOf(ws.config);
      if (key !== undefined) await verifyPlanSignature(await openBytes(file), key, file);
      saved = await loadRawPlan(file);
      checkOrigin(saved.header, file, { version: VERSION, configFingerprint: ws.fingerprint });
    }
    const lock = await takeLock(ws, 'apply', options.lockTimeoutMs ?? 0);
    try {
      await pausePoint('after-lock');
      const state = await readState(ws, out.progress);
      if (saved) {
        checkState(saved.header, file!, state);
        assertApplyable(saved.header, options);
      }
      // With a saved plan, the same pipeline again from the same config, state and inputs: the plan
      // applied is this one, and only if the saved plan is the same (plan-verify.ts).
      // Apps the saved plan left out (could not be read) are left out again, even if they are back:
      // the next plan plans them.
      const notRead = new Map((saved?.header.notPlanned ?? []).map((n) => [n.app, n]));
      const plan = await planWorkspace(ws, state, out.progress, { notRead });
      if (saved) await verifySavedPlan(saved, plan, ws.project, file!, out.progress.start('checking the saved plan against it', 'lines'));
      // In json mode stdout carries one document: the result below (with the summary), not the plan too.
      else if (out.format === 'text') await renderPlan(planSource(plan), out);
      assertApplyable(plan, options);
      if (!hasChanges(plan.summary) && !recordsEvaluation(state, plan)) {
        if (out.format === 'text') {
          reportNotPlanned(out, plan);
          out.stdout('Nothing to apply.\n');
        } else {
          out.stdout(JSON.stringify({ applied: false, serial: state.serial, summary: plan.summary, ...(plan.notPlanned ? { notPlanned: plan.notPlanned } : {}) }) + '\n');
        }
        return plan.notPlanned ? NOT_PLANNED : 0;
      }
      if (!saved && !options.autoApprove && !(await confirm(out))) {
        out.stderr('Apply cancelled.\n');
        return 1;
      }
      const outcome = await carryOut(ws, state, plan, 'apply', out.progress);
      renderApplyReport(out, plan, outcome.state, outcome.results);
      reportTimings(out, 'apply');
      if (outcome.results.some((r) => r.outcome === 'failed')) return 1;
      return plan.notPlanned ? NOT_PLANNED : 0;
    } finally {
      await lock.release();
    }
  } finally {
    await ws.store.close();
  }
}

/**
 * A plan without changes that evaluated every user still has something to write when the state does not
 * yet record that: the config's pipeline fingerprint (so later plans re-check only changed accounts), or
 * that the edit made outside idplane has been checked.
 */
export function recordsEvaluation(state: DirectoryState, plan: Pick<Plan, 'evaluated' | 'fingerprints'>): boolean {
  return plan.evaluated === 'all' && (state.pipeline !== plan.fingerprints.pipeline || state.edited);
}

/**
 * Conflicts always block; tripped safeguards block unless the operator allowed a mass change; a broken
 * policy blocks unless the operator named that policy. A named policy the plan does not break is an
 * error too: an override must say exactly what it lets through.
 */
export function assertApplyable(plan: Pick<Plan, 'blockers' | 'policies'>, options: Pick<ApplyOptions, 'allowMassChange' | 'allowPolicies'>): void {
  const allowed = new Set(options.allowPolicies ?? []);
  const known = new Set((plan.policies ?? []).map((p) => p.name));
  const unknown = [...allowed].filter((name) => !known.has(name));
  if (unknown.length > 0) throw new UsageError(`--allow-policy ${unknown.join(', ')}: the config has no such policy${known.size ? ` (it has ${[...known].join(', ')})` : ''}`);
  const blocking = plan.blockers.filter((b) => !(options.allowMassChange && b.code === 'safeguard') && !(b.code === 'policy' && b.policy !== undefined && allowed.has(b.policy)));
  if (blocking.length === 0) return;
  // Hints only when every blocker can be lifted (conflicts never can).
  const liftable = blocking.every((b) => b.code === 'safeguard' || b.code === 'policy');
  const policies = blocking.filter((b) => b.code === 'policy').map((b) => b.policy);
  const hints = !liftable ? [] : [
    blocking.some((b) => b.code === 'safeguard') ? 'pass --allow-mass-change to apply a tripped safeguard anyway' : null,
    policies.length > 0 ? `pass --allow-policy NAME for each broken policy (${policies.join(', ')}) to apply it anyway` : null,
  ].filter(Boolean);
  const hint = hints.length ? ` (after reviewing the plan, ${hints.join('; ')})` : '';
  throw new IdplaneError('PLAN_NOT_APPLYABLE', `the plan cannot be applied: ${blocking.map((b) => b.message).join('; ')}${hint}`);
}

export async function takeLock(ws: Workspace, operation: string, waitMs = 0): Promise<LockHandle> {
  return ws.store.lock({ operation, who: whoAmI(), host: hostname(), pid: process.pid }, { waitMs });
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
