/**
 * The engine's runs, each a function of an options object (the config's folder, the environment, an
 * observer, and what the run needs) that returns plain data and throws IdplaneErrors: plan (and the
 * delta against a git ref), apply, drift, explain, JIT (one account, or a batch on an open workspace),
 * a scheduled import, validate, schema discovery and the lock. The front ends in this repository import
 * the run modules themselves, so a command loads only the run it uses.
 */
export { apply, assertApplyable, leavesWork, recordsEvaluation, type ApplyOptions, type ApplyResult } from './apply.ts';
export { carryOut, type Outcome } from './carry-out.ts';
export { discover, type DiscoverOptions, type Discovery } from './discover.ts';
export { drift, type DriftResult } from './drift.ts';
export { explain, type ExplainOptions, type ExplainResult, type LastChange } from './explain.ts';
export { accountAttributes, checkJitApp, jit, parseAccount, runJit, runJitBatch, type JitOptions, type JitResult, type JitRunOptions } from './jit.ts';
export { forceUnlock, takeLock, type ForceUnlockOptions } from './lock.ts';
export { hasChanges, plan, planDeltaRun, planRun, readPlan, type PlanDeltaOptions, type PlanDeltaRun, type PlanOptions, type PlanRun, type PlanRunOptions } from './plan.ts';
export { startRun, whoAmI, type RunLog } from './run-log.ts';
export { runContext, type RunContext, type RunOptions } from './run-options.ts';
export { NOT_SCHEDULED, scheduledImport, type ScheduledImport } from './scheduled-import.ts';
export { validate, type ValidateResult } from './validate.ts';
