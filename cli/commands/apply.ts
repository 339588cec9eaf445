/**
 * `idplane apply [PLANFILE]`: runs the engine's apply (engine/runs/apply.ts) and reports it. With a plan
 * file it applies exactly that plan; without one the engine plans under the lock, the plan is shown
 * (text mode) and the operator asked, unless --auto-approve; with no terminal to ask on it refuses.
 * Exit codes: 0 applied (or nothing to apply), 1 an error, a failed account change or apply cancelled,
 * 3 a plan that cannot be applied, 4 applied except the apps that could not be read.
 */
import { createInterface } from 'node:readline/promises';
import type { Plan } from '../../schemas/generated/plan.ts';
import { UsageError } from '../../engine/errors.ts';
import { planSource } from '../../engine/plan-stream.ts';
import { apply, type ApplyResult } from '../../engine/runs/apply.ts';
import { FAILED, NOT_PLANNED, OK, type ExitCode } from '../exit-codes.ts';
import { reportTimings, type Output } from '../output.ts';
import { inDir } from '../paths.ts';
import { renderApplyReport, renderCheck, reportNotPlanned, reportReview } from '../views/apply-report.ts';
import { renderPlan } from './plan.ts';

export interface ApplyOptions {
  autoApprove?: boolean;
  /** Apply a plan that trips safeguards (never one with conflicts). */
  allowMassChange?: boolean;
  /** Apply a plan that breaks these plan policies, by name (never one with conflicts). */
  allowPolicies?: string[];
  /** How long to wait for a lock another run holds; 0 fails fast. */
  lockTimeoutMs?: number;
  /** With a plan file: check it as apply would, write nothing. */
  dryRun?: boolean;
}

export async function applyCommand(dir: string, planFile: string | undefined, options: ApplyOptions, out: Output): Promise<ExitCode> {
  if (out.format === 'markdown' && !options.dryRun) throw new UsageError('apply writes Markdown only with --dry-run (a CI job summary of what applying the plan will do)');
  if (!planFile && !options.autoApprove && !out.interactive && !options.dryRun) {
    throw new UsageError('apply needs confirmation, but there is no terminal to ask on: pass --auto-approve, or apply a saved plan with `idplane apply PLANFILE`');
  }
  const { autoApprove, ...through } = options;
  const result = await apply({
    dir, observer: out.observer, ...through,
    ...(planFile === undefined ? {} : { planFile: inDir(dir, planFile) }),
    // In json mode stdout carries one document: the result (with the summary), not the plan too.
    onPlan: async (plan) => {
      if (out.format === 'text') await renderPlan(planSource(plan), out);
    },
    ...(autoApprove ? {} : { confirm: () => confirm(out) }),
  });
  return report(result, out);
}

function report(result: ApplyResult, out: Output): ExitCode {
  const partly = (plan: Plan): ExitCode => (plan.notPlanned ? NOT_PLANNED : OK);
  switch (result.status) {
    case 'unchanged': {
      const { plan } = result;
      if (out.format === 'text') {
        reportReview(out, result.review);
        reportNotPlanned(out, plan);
        out.stdout('Nothing to apply.\n');
      } else {
        out.stdout(JSON.stringify({ applied: false, serial: result.serial, summary: plan.summary, ...(plan.notPlanned ? { notPlanned: plan.notPlanned } : {}), ...(result.review ? { review: result.review } : {}) }) + '\n');
      }
      return partly(plan);
    }
    case 'checked':
      renderCheck(out, result);
      return partly(result.plan);
    case 'cancelled':
      out.stderr('Apply cancelled.\n');
      return FAILED;
    case 'applied':
      renderApplyReport(out, result);
      reportTimings(out, 'apply');
      return result.complete ? partly(result.plan) : FAILED;
    default: {
      const never: never = result;
      throw new Error(`unknown apply outcome ${JSON.stringify(never)}`);
    }
  }
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
