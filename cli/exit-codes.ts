/**
 * The CLI's exit codes (the README's table): what a command that ran returns, and, for an error, the
 * one exhaustive table from the engine's error codes. A code added to ErrorCode without an exit code
 * here does not compile. Every error exits 1 but a plan that cannot be applied, which exits 3 like
 * `plan` does for one, so that CI tells "refused" from "broken".
 */
import type { ErrorCode } from '../engine/errors.ts';

export type ExitCode = 0 | 1 | 2 | 3 | 4;

/** Success; with --detailed-exitcode, nothing to do. */
export const OK = 0;
/** An error, a failed account change, or apply cancelled. */
export const FAILED = 1;
/** plan --detailed-exitcode: an applyable plan with changes; drift: drift found. */
export const CHANGES = 2;
/** The plan cannot be applied (conflicts, a tripped safeguard, a broken policy): plan shows it, apply refuses it. */
export const NOT_APPLYABLE = 3;
/**
 * The plan is applyable but left out apps that could not be read (onUnreachable: skip): everything else
 * was planned (and applied), and CI sees that something was not.
 */
export const NOT_PLANNED = 4;

const ERROR_EXIT: Record<ErrorCode, ExitCode> = {
  USAGE: FAILED,
  CONFIG_INVALID: FAILED,
  PLAN_NOT_APPLYABLE: NOT_APPLYABLE,
  PLAN_UNWRITABLE: FAILED,
  PLAN_UNREADABLE: FAILED,
  PLAN_INVALID: FAILED,
  PLAN_TRUNCATED: FAILED,
  PLAN_VERSION: FAILED,
  PLAN_UNSIGNED: FAILED,
  PLAN_SIGNATURE: FAILED,
  PLAN_STALE: FAILED,
  PLAN_MISMATCH: FAILED,
  USER_NOT_FOUND: FAILED,
  JIT_INPUT: FAILED,
  JIT_REVIEW: FAILED,
  JIT_CONFLICT: FAILED,
  JIT_BLOCKED: FAILED,
  MIGRATE_SAME: FAILED,
  MIGRATE_EMPTY: FAILED,
  MIGRATE_NOT_EMPTY: FAILED,
  MIGRATE_MISMATCH: FAILED,
  SERVE_LISTEN: FAILED,
  SERVE_TLS: FAILED,
  QUEUE_TIMEOUT: FAILED,
  SHUTTING_DOWN: FAILED,
  MEMORY_LIMIT: FAILED,
  ENGINE_LIMIT: FAILED,
  OS_ERROR: FAILED,
  INTERNAL: FAILED,
  LOCK_HELD: FAILED,
  STALE_STATE: FAILED,
  STATE_FORMAT: FAILED,
  STATE_ACCESS: FAILED,
  STATE_UNREACHABLE: FAILED,
  LOCK_LOST: FAILED,
  PROVIDER_ERROR: FAILED,
  CIRCUIT_OPEN: FAILED,
  EXPRESSION_ERROR: FAILED,
  DN_SYNTAX: FAILED,
};

export function errorExitCode(code: ErrorCode): ExitCode {
  return ERROR_EXIT[code];
}
