/**
 * The plan runs. `planRun` reads the config, the state and the sources and returns the plan (the
 * document of schemas/plan.schema.json, stamped with its creation time) and, when it is to be saved,
 * the config's signing key, checked before anything is read; the CLI saves and shows it in one pass.
 * `planDeltaRun` (plan --git-base REF) plans the working tree's config and the config at REF against the
 * same state and source snapshots, and returns the delta. The library's `plan` saves the plan itself
 * when asked, and `readPlan` reads a saved one back whole. Config warnings go to the observer.
 */
import { relative, resolve, sep } from 'node:path';
import type { PlanDelta } from '../../schemas/generated/plan-delta.ts';
import type { Plan, PlanSummary } from '../../schemas/generated/plan.ts';
import type { SourceSnapshot } from '../../reconciler/model.ts';
import { atBoundary } from '../boundary.ts';
import { loadPlan, savePlan } from '../plan-file.ts';
import { signingKeyOf } from '../plan-signature.ts';
import { collectPlan, planSource } from '../plan-stream.ts';
import { planWorkspace, readState, withWorkspace } from '../workspace.ts';
import { reportConfigWarnings, runContext, type RunOptions } from './run-options.ts';
import { guardrailChanges } from '../guardrails.ts';
import { deltaReasons } from '../delta-reasons.ts';
import { userInputs, type InputsOf } from '../../reconciler/review-inputs.ts';

export interface PlanRunOptions extends RunOptions {
  /** The plan will be saved: check the config's plan.signingKey first, and return it. */
  saving?: boolean;
}

export interface PlanRun {
  plan: Plan;
  /** plan.signingKey, when saving and the config sets one: sign the saved plan with it. */
  signingKey: string | undefined;
  /** When saving: the digest of each user's inputs, which the saved plan carries (planSource's `inputs`). */
  inputs: InputsOf | undefined;
}

export async function planRun(options: PlanRunOptions): Promise<PlanRun> {
  const { observer, progress, open } = runContext(options);
  let signingKey: string | undefined;
  let inputs: InputsOf | undefined;
  const plan = await withWorkspace(options.dir, async (ws) => {
    reportConfigWarnings(observer, ws.warnings);
    if (options.saving) signingKey = signingKeyOf(ws.config);
    const state = await readState(ws, progress);
    const planned = await planWorkspace(ws, state, progress);
    if (options.saving) inputs = userInputs(state, planned);
    return planned;
  }, open);
  plan.created_at = new Date().toISOString();
  return { plan, signingKey, inputs };
}

export interface PlanDeltaOptions extends PlanRunOptions {
  /** The git commit, branch or tag whose config the working tree's is compared with. */
  gitBase: string;
}

export interface PlanDeltaRun extends PlanRun {
  delta: PlanDelta;
}

/**
 * The working tree's plan (`plan`, as planRun returns it) and its delta against the plan of the config
 * at `gitBase`; each app is read once when its config is the same in both.
 */
export async function planDeltaRun(options: PlanDeltaOptions): Promise<PlanDeltaRun> {
  const { observer, progress, open } = runContext(options);
  const { loadBaseConfig } = await import('../git-base.ts');
  const { planDelta } = await import('../../reconciler/plan-delta.ts');
  return withWorkspace(options.dir, async (ws) => {
    reportConfigWarnings(observer, ws.warnings);
    const signingKey = options.saving ? signingKeyOf(ws.config) : undefined;
    const base = await loadBaseConfig(ws.dir, options.gitBase, options.env ?? process.env);
    const state = await readState(ws, progress);
    const snapshots = new Map<string, Promise<SourceSnapshot>>();
    const head = await planWorkspace(ws, state, progress, { snapshots });
    const basePlan = await planWorkspace(base.ws, state, progress, { snapshots });
    head.created_at = new Date().toISOString();
    const delta = planDelta(basePlan, head, { ref: options.gitBase, commit: base.commit }, ws.config.plan?.countBy);
    const guardrails = guardrailChanges(base.ws.config, ws.config);
    if (guardrails.length > 0) delta.guardrails = guardrails;
    const reasons = deltaReasons(base.ws, ws, (file) => relative(base.root, resolve(file)).split(sep).join('/'));
    if (reasons.length > 0) delta.reasons = reasons;
    if (base.head) delta.head.commit = base.head;
    const run = ciRunLink(options.env ?? process.env);
    if (run) delta.run = run;
    delta.directory = state.users.length;
    return { plan: head, signingKey, delta, inputs: options.saving ? userInputs(state, head) : undefined };
  }, open);
}

/** The link to the CI run this is, when the CI says it: GitHub Actions' run, GitLab CI's job. */
export function ciRunLink(env: Record<string, string | undefined>): string | undefined {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  return env.CI_JOB_URL || undefined;
}

export interface PlanOptions extends RunOptions {
  /** Also save the plan to this file (signed when the config sets plan.signingKey), for apply's planFile. */
  out?: string;
}

/** The plan of the config in `dir`; with `out`, saved there too. */
export async function plan(options: PlanOptions): Promise<Plan> {
  return atBoundary(async () => {
    const { plan, signingKey, inputs } = await planRun({ ...options, saving: options.out !== undefined });
    if (options.out !== undefined) {
      const { progress } = runContext(options);
      await savePlan(options.out, planSource(plan, inputs), { progress: progress.start('writing the plan', 'lines'), ...(signingKey === undefined ? {} : { signingKey }) });
    }
    return plan;
  });
}

/** A saved plan, read whole and checked line by line against the schema. */
export async function readPlan(file: string): Promise<Plan> {
  return atBoundary(async () => collectPlan(await loadPlan(file)));
}

/** Whether a plan changes anything (a record to import counts: apply writes it). */
export function hasChanges(summary: PlanSummary): boolean {
  return summary.changes > 0 || summary.imports > 0;
}

/**
 * What `plan --detailed-exitcode` answers 2 for: changes, or a source whose unreadable rows held something
 * back (a nightly job must not stay green while rows of the HR export cannot be read).
 */
export function needsAttention(summary: PlanSummary): boolean {
  return hasChanges(summary) || (summary.heldBack ?? 0) > 0;
}
