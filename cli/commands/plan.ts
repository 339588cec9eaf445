/**
 * `idplane plan` and `idplane show`: compute (or read) a plan and render it; `--out` saves it for apply
 * (plan-file.ts). Rendering streams, for a plan computed here and for one read from a file alike.
 * Exit codes (the README's table): 0 an applyable plan; with --detailed-exitcode 0 nothing to do and
 * 2 changes; 3 a plan that cannot be applied (conflicts, a tripped safeguard), with or without
 * --detailed-exitcode, so that a CI job running plan fails; 4 an applyable plan that left out apps that
 * could not be read; 1 an error.
 */
import type { Plan, PlanSummary } from '../../schemas/generated/plan.ts';
import { loadPlan, savePlan } from '../../engine/plan-file.ts';
import { planSource, teeSource, type PlanSource } from '../../engine/plan-stream.ts';
import { renderPlanJson } from '../views/plan-json.ts';
import { renderPlanMarkdown } from '../views/plan-markdown.ts';
import { renderPlanText } from '../views/plan-text.ts';
import { reportTimings, reportWarnings, type Output } from '../output.ts';
import { commandLine, inDir } from '../paths.ts';
import { signingKeyOf } from '../../engine/plan-signature.ts';
import { NOT_APPLYABLE, NOT_PLANNED } from '../exit-codes.ts';
import { planWorkspace, readState, withWorkspace } from '../../engine/workspace.ts';

export interface PlanOptions {
  out?: string;
  detailedExitcode?: boolean;
  showPersonalData?: boolean;
  /** Show the delta against the plan of the config at this git ref instead of the plan. */
  gitBase?: string;
}

export async function planCommand(dir: string, options: PlanOptions, out: Output): Promise<number> {
  if (options.gitBase !== undefined) return planDeltaCommand(dir, options as PlanOptions & { gitBase: string }, out);
  let signingKey: string | undefined;
  const plan = await withWorkspace(dir, async (ws) => {
    reportWarnings(out, ws.warnings);
    if (options.out !== undefined) signingKey = signingKeyOf(ws.config);
    return planWorkspace(ws, await readState(ws, out.progress), out.progress);
  });
  const signing = signingKey === undefined ? {} : { signingKey };
  plan.created_at = new Date().toISOString();
  const file = options.out === undefined ? undefined : inDir(dir, options.out);
  if (file) {
    const { canRenderInParallel, PARALLEL_FROM, savePlanWithView } = await import('../parallel-view.ts');
    if (lineCount(plan) >= PARALLEL_FROM && canRenderInParallel(out)) {
      // A big plan: the view is rendered from the saved stream by a worker, on the other core.
      await savePlanWithView(file, planSource(plan), out, { ...options, ...signing }, out.progress.start('writing the plan (printed by a worker)', 'lines'));
    } else {
      // The file and the view read each batch of the plan in turn, while it is in the cache.
      const [toFile, toView] = teeSource(planSource(plan), 2) as [PlanSource, PlanSource];
      await Promise.all([savePlan(file, toFile, { progress: out.progress.start('writing and printing the plan', 'lines'), ...signing }), renderPlan(toView, out, options)]);
    }
  } else {
    const printing = out.progress.start('printing the plan');
    await renderPlan(planSource(plan), out, options);
    printing.finish();
  }
  if (file && out.format === 'text') out.stdout(`\nSaved the plan to ${file}. To carry it out exactly, run:\n    ${commandLine(dir, ['apply', options.out!])}\n`);
  reportTimings(out, 'plan');
  if (!plan.applyable) return NOT_APPLYABLE;
  if (plan.notPlanned) return NOT_PLANNED;
  return options.detailedExitcode && hasChanges(plan.summary) ? 2 : 0;
}

/**
 * `plan --git-base REF`: plans the working tree's config and the config at REF against the same state
 * and the same source snapshots (each app read once when its config is the same in both), and shows
 * the delta. --out saves the working tree's plan, as plain `plan --out` would. Exit codes as for plan:
 * 3 when the working tree's plan cannot be applied; with --detailed-exitcode 2 when the delta is not
 * empty.
 */
async function planDeltaCommand(dir: string, options: PlanOptions & { gitBase: string }, out: Output): Promise<number> {
  const { loadBaseConfig } = await import('../../engine/git-base.ts');
  const { planDelta } = await import('../../reconciler/plan-delta.ts');
  const { renderDeltaMarkdown, renderDeltaText } = await import('../views/plan-delta.ts');
  const file = options.out === undefined ? undefined : inDir(dir, options.out);
  const { head, delta } = await withWorkspace(dir, async (ws) => {
    reportWarnings(out, ws.warnings);
    const signingKey = file ? signingKeyOf(ws.config) : undefined;
    const base = await loadBaseConfig(ws.dir, options.gitBase, process.env);
    const state = await readState(ws, out.progress);
    const snapshots = new Map();
    const head = await planWorkspace(ws, state, out.progress, { snapshots });
    const basePlan = await planWorkspace(base.ws, state, out.progress, { snapshots });
    head.created_at = new Date().toISOString();
    if (file) await savePlan(file, planSource(head), { progress: out.progress.start('writing the plan', 'lines'), ...(signingKey === undefined ? {} : { signingKey }) });
    return { head, delta: planDelta(basePlan, head, { ref: options.gitBase, commit: base.commit }) };
  });
  switch (out.format) {
    case 'json': out.sink.write(JSON.stringify(delta) + '\n'); break;
    case 'markdown': renderDeltaMarkdown(delta, { unmasked: options.showPersonalData === true, ...(head.unmaskedAttributes ? { shown: head.unmaskedAttributes } : {}), salt: head.state.lineage }, out.sink); break;
    default: renderDeltaText(delta, out.style, out.sink);
  }
  await out.sink.drain();
  if (file && out.format === 'text') out.stdout(`\nSaved the plan of the working tree's config to ${file}. To carry it out exactly, run:\n    ${commandLine(dir, ['apply', options.out!])}\n`);
  reportTimings(out, 'plan');
  if (!head.applyable) return NOT_APPLYABLE;
  if (head.notPlanned) return NOT_PLANNED;
  return options.detailedExitcode && (delta.counts.users > 0 || delta.counts.accounts > 0) ? 2 : 0;
}

export async function showCommand(dir: string, file: string, options: { showPersonalData?: boolean }, out: Output): Promise<number> {
  await renderPlan(await loadPlan(inDir(dir, file)), out, options);
  return 0;
}

export async function renderPlan(source: PlanSource, out: Output, options: { showPersonalData?: boolean } = {}): Promise<void> {
  switch (out.format) {
    case 'json': return renderPlanJson(source, out.sink);
    case 'markdown': return renderPlanMarkdown(source, { unmasked: options.showPersonalData === true }, out.sink);
    case 'text': return renderPlanText(source, out.style, out.sink);
    default: {
      const never: never = out.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

function lineCount(plan: Plan): number {
  return plan.users.length + plan.links.length + plan.imports.length + plan.accounts.length + plan.reviews.length + plan.conflicts.length + plan.warnings.length;
}

export function hasChanges(summary: PlanSummary): boolean {
  return summary.changes > 0 || summary.imports > 0;
}

export type { Plan };
