/**
 * The apply run: carries out a plan under the state lock. With a saved plan (planFile) it plans again
 * and applies that plan once it has proven the saved one's reviewed effect (plan-verify.ts): it refuses
 * one that is wrongly signed, made by another idplane or config or against another state lineage, not
 * applyable, or that differs for users whose inputs did not change; the data changes since it was made
 * are applied with it and reported (`review`). `dryRun` stops before writing, without the lock.
 * Without one it plans under the lock, hands the plan to `onPlan` (to show it), checks it can be
 * applied, and asks `confirm` (the library's default: carry it out). The outcome is plain data: nothing
 * to apply, cancelled, or applied with every account change's result. Blockers throw
 * PLAN_NOT_APPLYABLE (unless let through: a tripped safeguard by allowMassChange, a broken policy by
 * name); failed account changes do not throw, they are in the result.
 */
import type { Plan, PlanSummary } from '../../schemas/generated/plan.ts';
import type { DirectoryState } from '../../reconciler/model.ts';
import type { ChangeResult } from '../../providers/write-targets.ts';
import { pausePoint } from '../../state/crash-point.ts';
import { atBoundary } from '../boundary.ts';
import { IdplaneError, UsageError } from '../errors.ts';
import { loadRawPlan, openBytes, type RawPlan } from '../plan-file.ts';
import { signingKeyOf, verifyPlanSignature } from '../plan-signature.ts';
import { checkOrigin, checkState, verifySavedPlan, type ReviewCheck } from '../plan-verify.ts';
import { openWorkspace, planWorkspace, readState, VERSION } from '../workspace.ts';
import { carryOut } from './carry-out.ts';
import { takeLock } from './lock.ts';
import { hasChanges } from './plan.ts';
import { reportConfigWarnings, runContext, type RunOptions } from './run-options.ts';

export interface ApplyOptions extends RunOptions {
  /** A plan saved by plan (out): applied exactly, after it is proven to be what the inputs produce. */
  planFile?: string;
  /** Apply a plan that trips safeguards (never one with conflicts). */
  allowMassChange?: boolean;
  /** Apply a plan that breaks these plan policies, by name (never one with conflicts). */
  allowPolicies?: string[];
  /** How long to wait for a lock another run holds; 0 (the default) fails fast with LOCK_HELD. */
  lockTimeoutMs?: number;
  /**
   * With planFile: check the saved plan against the config, state and data of now as apply would, and
   * stop there (status 'checked'): nothing is written and no lock is taken, so read-only state
   * credentials suffice (a CI job that shows the approver what apply will do).
   */
  dryRun?: boolean;
  /** Without planFile: the plan, once computed and before it is checked (to show it). */
  onPlan?: (plan: Plan) => Promise<void>;
  /** Without planFile: asked before a plan with changes is carried out; false cancels. */
  confirm?: (plan: Plan) => Promise<boolean>;
}

export type ApplyResult =
  /** The plan changes nothing: nothing was written. */
  | { status: 'unchanged'; plan: Plan; serial: number; review?: ReviewCheck }
  /** `confirm` said no: nothing was written. */
  | { status: 'cancelled'; plan: Plan }
  /** dryRun: the saved plan would apply (blockers aside from the overrides given); nothing was written. */
  | { status: 'checked'; plan: Plan; review: ReviewCheck }
  /** Carried out; `complete` is false when an account change failed (see `accounts`). */
  | { status: 'applied'; plan: Plan; serial: number; lineage: string | null; accounts: ChangeResult[]; complete: boolean; review?: ReviewCheck };

export async function apply(options: ApplyOptions): Promise<ApplyResult> {
  return atBoundary(async () => {
    const { observer, progress, open } = runContext(options);
    const file = options.planFile;
    const ws = await openWorkspace(options.dir, open);
    try {
      reportConfigWarnings(observer, ws.warnings);
      // A saved plan is checked before the lock is taken or the state is read: its signature first (when
      // the config sets a key), then who made it and from which config.
      let saved: RawPlan | null = null;
      if (file !== undefined) {
        const key = signingKeyOf(ws.config);
        if (key !== undefined) await verifyPlanSignature(await openBytes(file), key, file);
        saved = await loadRawPlan(file);
        checkOrigin(saved.header, file, { version: VERSION, configFingerprint: ws.fingerprint });
      }
      if (options.dryRun && !saved) throw new UsageError('--dry-run checks a saved plan: give the plan file (idplane apply PLANFILE --dry-run)');
      const lock = options.dryRun ? null : await takeLock(ws, 'apply', options.lockTimeoutMs ?? 0);
      try {
        await pausePoint('after-lock');
        const state = await readState(ws, progress);
        if (saved) {
          checkState(saved.header, file!, state);
          assertApplyable(saved.header, options);
        }
        // With a saved plan, the same pipeline again from the same config, state and inputs: the plan
        // applied is this one, and only if the saved plan is the same (plan-verify.ts).
        // Apps the saved plan left out (could not be read) are left out again, even if they are back:
        // the next plan plans them.
        const notRead = new Map((saved?.header.notPlanned ?? []).map((n) => [n.app, n]));
        const plan = await planWorkspace(ws, state, progress, { notRead });
        const review = saved ? await verifySavedPlan(saved, plan, ws.project, file!, state, progress.start('checking the saved plan against it', 'lines')) : undefined;
        if (!saved) await options.onPlan?.(plan);
        assertApplyable(plan, options);
        if (options.dryRun) return { status: 'checked', plan, review: review! };
        const reviewed = review ? { review } : {};
        if (!leavesWork(state, plan)) return { status: 'unchanged', plan, serial: state.serial, ...reviewed };
        if (!saved && options.confirm && !(await options.confirm(plan))) return { status: 'cancelled', plan };
        const outcome = await carryOut(ws, state, plan, 'apply', progress);
        return {
          status: 'applied', plan, serial: outcome.state.serial, lineage: outcome.state.lineage,
          accounts: outcome.results, complete: !outcome.results.some((r) => r.outcome === 'failed'), ...reviewed,
        };
      } finally {
        await lock?.release();
      }
    } finally {
      await ws.store.close();
    }
  });
}

/**
 * A plan without changes that evaluated every user still has something to write when the state does not
 * yet record that: the config's pipeline fingerprint (so later plans re-check only changed accounts), or
 * that the edit made outside idplane has been checked.
 */
export function recordsEvaluation(state: DirectoryState, plan: Pick<Plan, 'evaluated' | 'fingerprints'>): boolean {
  return plan.evaluated === 'all' && (state.pipeline !== plan.fingerprints.pipeline || state.edited);
}

/** Whether a plan leaves anything to write: changes, or a full evaluation the state does not record yet. */
export function leavesWork(state: DirectoryState, plan: Pick<Plan, 'evaluated' | 'fingerprints'> & { summary: PlanSummary }): boolean {
  return hasChanges(plan.summary) || recordsEvaluation(state, plan);
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
