/**
 * The plan of a JIT run: some accounts of one import app, as a partial snapshot, planned on the slice
 * of the directory they concern (jit-slice.ts) instead of the whole of it. The slice grows by the users
 * whose `unique` values the plan's users would take (planned again until none is left outside), and the
 * safeguards count on the whole directory through the index. While the state was last evaluated with
 * this very config (the usual case: `evaluated: changed`), the plan is the one buildPlan gives on the
 * whole directory; after a config change, a JIT run judges its accounts against the stored directory
 * and leaves evaluating everyone to the next plan, as it always has (it records `evaluated: changed`).
 * Pure.
 */
import type { Plan } from '../schemas/generated/plan.ts';
import type { DirectoryIndex } from './directory-index.ts';
import { clashingHolders, jitSlice } from './jit-slice.ts';
import type { Project, SourceAccount } from './model.ts';
import { buildPlan } from './plan.ts';

export interface JitPlanInput {
  project: Project;
  /** The whole directory and its indexes. */
  index: DirectoryIndex;
  app: string;
  accounts: SourceAccount[];
  /** The fingerprint the partial snapshot carries into the plan. */
  fingerprint: string;
  configFingerprint: string;
  version: string;
}

export function planJit(input: JitPlanInput): Plan {
  const { project, index, app, accounts } = input;
  const population = index.population();
  const extra = new Set<string>();
  for (;;) {
    const slice = jitSlice(project, index, app, accounts, extra);
    const plan = buildPlan({
      project, state: slice, population, configFingerprint: input.configFingerprint, version: input.version,
      sources: [{ app, accounts, rowErrors: [], partial: true, fingerprint: input.fingerprint }],
    });
    const more = clashingHolders(index, slice, plan.users);
    if (more.length === 0) return plan;
    for (const id of more) extra.add(id);
  }
}
