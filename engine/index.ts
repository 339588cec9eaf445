/**
 * idplane as a library: `import { plan, apply } from 'idplane'` (package.json `exports`, built into
 * dist/ beside the CLI, with declarations). Each function takes an options object (the config's folder
 * `dir`, the `env` that `${env:NAME}` reads, an `observer` for progress, and what the run needs) and
 * returns plain data: the plan document of schemas/plan.schema.json, apply's outcome with every
 * account change's result, the drift report, an explanation. Failures throw IdplaneError, whose `code`
 * is one of ErrorCode. Nothing is printed. docs/library.md has an example.
 */
export {
  apply, discover, drift, explain, forceUnlock, jit, plan, readPlan, validate,
  type ApplyOptions, type ApplyResult, type DiscoverOptions, type Discovery, type DriftResult, type ExplainOptions,
  type ExplainResult, type ForceUnlockOptions, type JitResult, type JitRunOptions, type LastChange, type PlanOptions,
  type RunOptions, type ValidateResult,
} from './runs/index.ts';
export { ConfigError, ERROR_CODES, IdplaneError, UsageError, type ErrorCode } from './errors.ts';
export { SILENT, type Observer, type PhaseObserver, type RunWarning } from './observer.ts';
export { VERSION } from './version.ts';
export type { ConfigProblem } from './config/problems.ts';
export type { ReviewCheck, SinceReason } from './plan-verify.ts';
export type { Plan, PlanSummary, UserChange, AccountChange } from '../schemas/generated/plan.ts';
export type { DriftItem, DriftKind, DriftReport } from '../reconciler/drift.ts';
export type { ChangeResult } from '../providers/write-targets.ts';
