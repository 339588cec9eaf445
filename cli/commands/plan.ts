/**
 * `idplane plan` and `idplane show`: compute (engine/runs/plan.ts) or read a plan and render it; `--out`
 * saves it for apply (engine/plan-file.ts), from the same stream as the view: for a big plan the view
 * is rendered by a worker on the other core (parallel-view.ts). `--git-base REF` shows the delta
 * against the plan of the config at REF instead. Exit codes (the README's table): 0 an applyable plan;
 * with --detailed-exitcode 0 nothing to do and 2 changes or something held back by unreadable rows (for --git-base: a delta that is not empty);
 * 3 a plan that cannot be applied (conflicts, a tripped safeguard), with or without
 * --detailed-exitcode, so that a CI job running plan fails; 4 an applyable plan that left out apps
 * that could not be read; 1 an error.
 */
import type { Plan } from '../../schemas/generated/plan.ts';
import { loadPlan, savePlan } from '../../engine/plan-file.ts';
import { planSource, teeSource, type PlanSource } from '../../engine/plan-stream.ts';
import { needsAttention, planDeltaRun, planRun } from '../../engine/runs/plan.ts';
import { renderPlanJson } from '../views/plan-json.ts';
import { renderPlanMarkdown } from '../views/plan-markdown.ts';
import { renderPlanText } from '../views/plan-text.ts';
import { narrowDelta, narrowingOf, narrowSource, type Narrowing } from '../../engine/narrow.ts';
import { reportTimings, type Output } from '../output.ts';
import { commandLine, inDir } from '../paths.ts';
import { CHANGES, NOT_APPLYABLE, NOT_PLANNED, OK, type ExitCode } from '../exit-codes.ts';

export interface ViewOptions {
  showPersonalData?: boolean;
  /** Show only the changes of one user, app or action (engine/narrow.ts); the saved plan keeps everything. */
  user?: string;
  app?: string;
  action?: string;
  /** Text: items shown per section (views/plan-text.ts); 0 shows all. */
  limit?: number;
}

export interface PlanOptions extends ViewOptions {
  out?: string;
  detailedExitcode?: boolean;
  /** Show the delta against the plan of the config at this git ref instead of the plan. */
  gitBase?: string;
}

/** The narrowing the options ask for (null: none); an unknown action is refused before any work. */
function narrowingIn(options: ViewOptions): Narrowing | null {
  return narrowingOf({ ...(options.user === undefined ? {} : { user: options.user }), ...(options.app === undefined ? {} : { app: options.app }), ...(options.action === undefined ? {} : { action: options.action }) });
}

export async function planCommand(dir: string, options: PlanOptions, out: Output): Promise<ExitCode> {
  narrowingIn(options);
  if (options.gitBase !== undefined) return planDeltaCommand(dir, { ...options, gitBase: options.gitBase }, out);
  const { plan, signingKey, inputs } = await planRun({ dir, observer: out.observer, saving: options.out !== undefined });
  const signing = signingKey === undefined ? {} : { signingKey };
  const file = options.out === undefined ? undefined : inDir(dir, options.out);
  if (file) {
    const { canRenderInParallel, PARALLEL_FROM, savePlanWithView } = await import('../parallel-view.ts');
    if (lineCount(plan) >= PARALLEL_FROM && canRenderInParallel(out)) {
      // A big plan: the view is rendered from the saved stream by a worker, on the other core.
      await savePlanWithView(file, planSource(plan, inputs), out, { ...options, ...signing, narrowing: narrowingIn(options) }, out.progress.start('writing the plan (printed by a worker)', 'lines'));
    } else {
      // The file and the view read each batch of the plan in turn, while it is in the cache.
      const [toFile, toView] = teeSource(planSource(plan, inputs), 2) as [PlanSource, PlanSource];
      await Promise.all([savePlan(file, toFile, { progress: out.progress.start('writing and printing the plan', 'lines'), ...signing }), renderPlan(toView, out, options)]);
    }
  } else {
    const printing = out.progress.start('printing the plan');
    await renderPlan(planSource(plan), out, options);
    printing.finish();
  }
  if (file && out.format === 'text') out.stdout(`\nSaved the plan to ${file}. To carry it out exactly, run:\n    ${commandLine(dir, ['apply', options.out!])}\n`);
  reportTimings(out, 'plan');
  return planExitCode(plan, options.detailedExitcode === true && needsAttention(plan.summary));
}

/**
 * `plan --git-base REF`: the delta between the plan of the config at REF and the working tree's. --out
 * saves the working tree's plan, as plain `plan --out` would.
 */
async function planDeltaCommand(dir: string, options: PlanOptions & { gitBase: string }, out: Output): Promise<ExitCode> {
  const { renderDeltaMarkdown, renderDeltaText } = await import('../views/plan-delta.ts');
  const file = options.out === undefined ? undefined : inDir(dir, options.out);
  const { plan: head, delta, signingKey, inputs } = await planDeltaRun({ dir, observer: out.observer, gitBase: options.gitBase, saving: file !== undefined });
  if (file) await savePlan(file, planSource(head, inputs), { progress: out.progress.start('writing the plan', 'lines'), ...(signingKey === undefined ? {} : { signingKey }) });
  const shown = narrowDelta(delta, narrowingIn(options));
  switch (out.format) {
    case 'json': out.sink.write(JSON.stringify(shown) + '\n'); break;
    case 'markdown': renderDeltaMarkdown(shown, { unmasked: options.showPersonalData === true, ...(head.unmaskedAttributes ? { shown: head.unmaskedAttributes } : {}), salt: head.state.lineage }, out.sink); break;
    case 'text': renderDeltaText(shown, out.style, out.sink); break;
    default: {
      const never: never = out.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
  await out.sink.drain();
  if (file && out.format === 'text') out.stdout(`\nSaved the plan of the working tree's config to ${file}. To carry it out exactly, run:\n    ${commandLine(dir, ['apply', options.out!])}\n`);
  reportTimings(out, 'plan');
  return planExitCode(head, options.detailedExitcode === true && (delta.counts.users > 0 || delta.counts.accounts > 0));
}

/** 3 not applyable, 4 apps left out, else 2 when `changes` is asked for and there are some, else 0. */
function planExitCode(plan: Pick<Plan, 'applyable' | 'notPlanned'>, changes: boolean): ExitCode {
  if (!plan.applyable) return NOT_APPLYABLE;
  if (plan.notPlanned) return NOT_PLANNED;
  return changes ? CHANGES : OK;
}

export async function showCommand(dir: string, file: string, options: ViewOptions, out: Output): Promise<ExitCode> {
  narrowingIn(options);
  await renderPlan(await loadPlan(inDir(dir, file)), out, options);
  return OK;
}

export async function renderPlan(whole: PlanSource, out: Output, options: ViewOptions = {}): Promise<void> {
  const narrowing = narrowingIn(options);
  const source = narrowSource(whole, narrowing);
  switch (out.format) {
    case 'json': return renderPlanJson(source, out.sink);
    case 'markdown': return renderPlanMarkdown(source, { unmasked: options.showPersonalData === true }, out.sink);
    case 'text': return renderPlanText(whole, out.style, out.sink, { narrowing, ...(options.limit === undefined ? {} : { limit: options.limit }) });
    default: {
      const never: never = out.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

function lineCount(plan: Plan): number {
  return plan.users.length + plan.links.length + plan.imports.length + plan.accounts.length + plan.reviews.length + plan.conflicts.length + plan.warnings.length;
}
