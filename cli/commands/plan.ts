/**
 * `idplane plan` and `idplane show`: compute (or read) a plan and render it; `--out` saves it for apply.
 * With --detailed-exitcode: 0 nothing to do, 2 changes, 1 error.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import planSchema from '../../schemas/plan.schema.json' with { type: 'json' };
import type { Plan } from '../../schemas/generated/plan.ts';
import { PLAN_FORMAT_VERSION } from '../../reconciler/plan.ts';
import { CliError } from '../errors.ts';
import type { Output } from '../output.ts';
import { renderPlanMarkdown } from '../views/plan-markdown.ts';
import { renderPlanText } from '../views/plan-text.ts';
import { formatProblem } from '../config/problems.ts';
import { planWorkspace, withWorkspace } from '../workspace.ts';

export interface PlanOptions {
  out?: string;
  detailedExitcode?: boolean;
  showPersonalData?: boolean;
}

export async function planCommand(dir: string, options: PlanOptions, out: Output): Promise<number> {
  const plan = await withWorkspace(dir, async (ws) => {
    for (const w of ws.warnings) if (out.format === 'text') out.stderr(`${formatProblem(w)}\n`);
    return planWorkspace(ws, await ws.store.read(), out.progress);
  });
  plan.created_at = new Date().toISOString();
  if (options.out) await savePlan(options.out, plan);
  renderPlan(plan, out, options);
  if (options.out && out.format === 'text') out.stdout(`\nSaved the plan to ${options.out}. To carry it out exactly, run:\n    idplane apply ${options.out}\n`);
  return options.detailedExitcode && hasChanges(plan) ? 2 : 0;
}

export async function showCommand(file: string, options: { showPersonalData?: boolean }, out: Output): Promise<number> {
  renderPlan(await loadPlan(file), out, options);
  return 0;
}

export function renderPlan(plan: Plan, out: Output, options: { showPersonalData?: boolean } = {}): void {
  switch (out.format) {
    case 'json': return void out.stdout(JSON.stringify(plan) + '\n');
    case 'markdown': return void out.stdout(renderPlanMarkdown(plan, { unmasked: options.showPersonalData === true }));
    case 'text': return void out.stdout(renderPlanText(plan, out.style));
    default: {
      const never: never = out.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

export function hasChanges(plan: Plan): boolean {
  return plan.summary.changes > 0 || plan.summary.imports > 0;
}

export async function savePlan(file: string, plan: Plan): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(plan) + '\n');
  await rename(temp, file);
}

const validatePlan = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true }).compile<Plan>(planSchema);

export async function loadPlan(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError('PLAN_UNREADABLE', `cannot read the plan ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError('PLAN_INVALID', `${file} is not a plan: ${(error as Error).message}`);
  }
  const version = (value as { format_version?: unknown } | null)?.format_version;
  if (version !== PLAN_FORMAT_VERSION) {
    throw new CliError('PLAN_VERSION', `${file} has plan format ${JSON.stringify(version)}; this idplane reads format ${PLAN_FORMAT_VERSION}`);
  }
  if (!validatePlan(value)) {
    const e = validatePlan.errors?.[0];
    throw new CliError('PLAN_INVALID', `${file} is not a valid plan: ${e?.instancePath || '/'} ${e?.message ?? ''}`.trim());
  }
  return value;
}
