/**
 * `idplane plan` and `idplane show`: compute (or read) a plan and render it; `--out` saves it for apply
 * (plan-file.ts). Rendering streams, for a plan computed here and for one read from a file alike.
 * Exit codes (the README's table): 0 an applyable plan; with --detailed-exitcode 0 nothing to do and
 * 2 changes; 3 a plan that cannot be applied (conflicts, a tripped safeguard), with or without
 * --detailed-exitcode, so that a CI job running plan fails; 1 an error.
 */
import type { Plan, PlanSummary } from '../../schemas/generated/plan.ts';
import { loadPlan, savePlan } from '../plan-file.ts';
import { planSource, teeSource, type PlanSource } from '../plan-stream.ts';
import { renderPlanJson } from '../views/plan-json.ts';
import { renderPlanMarkdown } from '../views/plan-markdown.ts';
import { renderPlanText } from '../views/plan-text.ts';
import { formatProblem } from '../config/problems.ts';
import { reportTimings, type Output } from '../output.ts';
import { commandLine, inDir } from '../paths.ts';
import { signingKeyOf } from '../plan-signature.ts';
import { planWorkspace, readState, withWorkspace } from '../workspace.ts';

export interface PlanOptions {
  out?: string;
  detailedExitcode?: boolean;
  showPersonalData?: boolean;
}

export async function planCommand(dir: string, options: PlanOptions, out: Output): Promise<number> {
  let signingKey: string | undefined;
  const plan = await withWorkspace(dir, async (ws) => {
    for (const w of ws.warnings) if (out.format === 'text') out.stderr(`${formatProblem(w)}\n`);
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
  return options.detailedExitcode && hasChanges(plan.summary) ? 2 : 0;
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

/** The exit code of plan, and of apply refusing a plan, when the plan cannot be applied. */
export const NOT_APPLYABLE = 3;

export function hasChanges(summary: PlanSummary): boolean {
  return summary.changes > 0 || summary.imports > 0;
}

export type { Plan };
