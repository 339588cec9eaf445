/**
 * The engine's errors. Every error a run surfaces is an IdplaneError whose `code` is one of a closed
 * union, ErrorCode, with a human message that names the place (a file:line:col, an app, a lock id) and,
 * for some codes, data: the config's problems (CONFIG_INVALID) or the lock's holder (LOCK_HELD). Front
 * ends map the codes once each, in tables the compiler checks are complete: the CLI to exit codes
 * (cli/exit-codes.ts), the server to HTTP answers (server/http-errors.ts). The state, the providers and
 * the core keep their own error classes; the codes those carry are part of the union (read from the
 * classes' types, so they cannot drift apart) and boundary.ts turns such errors into IdplaneErrors.
 */
import type { ExpressionError } from '../reconciler/expressions.ts';
import type { DnSyntaxError } from '../reconciler/ldap-escape.ts';
import type { ProviderError } from '../providers/errors.ts';
import type { CircuitOpenError } from '../providers/retry.ts';
import type { StateUnreachableError } from '../state/postgres/connection.ts';
import type { LockLostError } from '../state/postgres/lock.ts';
import type { LockHeldError, LockInfo, StaleStateError, StateAccessError, StateFormatError } from '../state/types.ts';
import type { ConfigProblem } from './config/problems.ts';
import { redactSecrets } from './secrets.ts';

/** The codes of the errors the engine and its front ends raise themselves. */
export const OWN_CODES = [
  /** The command line or an option asks for something that cannot be done as asked. */
  'USAGE',
  /** The config has errors (IdplaneError.problems lists them). */
  'CONFIG_INVALID',
  /** The plan has conflicts, a tripped safeguard or a broken policy that was not let through. */
  'PLAN_NOT_APPLYABLE',
  /** Saved plans: cannot be written, read, parsed; cut short; another format; unsigned or wrongly signed. */
  'PLAN_UNWRITABLE', 'PLAN_UNREADABLE', 'PLAN_INVALID', 'PLAN_TRUNCATED', 'PLAN_VERSION', 'PLAN_UNSIGNED', 'PLAN_SIGNATURE',
  /** A saved plan made from other inputs (plan again), or not the plan its inputs produce (edited). */
  'PLAN_STALE', 'PLAN_MISMATCH',
  /** No user with that login (state show, explain). */
  'USER_NOT_FOUND',
  /** JIT: the account is not one; it needs review; it conflicts; a policy or safeguard holds it. */
  'JIT_INPUT', 'JIT_REVIEW', 'JIT_CONFLICT', 'JIT_BLOCKED',
  /** state migrate: the same backend; nothing to copy; the target is not empty; the copy differs. */
  'MIGRATE_SAME', 'MIGRATE_EMPTY', 'MIGRATE_NOT_EMPTY', 'MIGRATE_MISMATCH',
  /** serve: cannot listen; the TLS files cannot be used; a request waited too long; the server stops. */
  'SERVE_LISTEN', 'SERVE_TLS', 'QUEUE_TIMEOUT', 'SHUTTING_DOWN',
  /** The heap nears its limit; one of the JavaScript engine's fixed limits was reached. */
  'MEMORY_LIMIT', 'ENGINE_LIMIT',
  /** The operating system refused a file or socket operation (permissions, a full disk). */
  'OS_ERROR',
  /** Anything else: a bug. */
  'INTERNAL',
] as const;

/** The codes errors of state/, providers/ and reconciler/ carry, which the engine surfaces as they are. */
export type AdoptedCode =
  | LockHeldError['code'] | StaleStateError['code'] | StateFormatError['code'] | StateAccessError['code'] | StateUnreachableError['code'] | LockLostError['code']
  | ProviderError['code'] | CircuitOpenError['code']
  | ExpressionError['code'] | DnSyntaxError['code'];

/** Every adopted code once: the compiler checks the list against the classes. */
export const ADOPTED_CODES: Record<AdoptedCode, true> = {
  LOCK_HELD: true, STALE_STATE: true, STATE_FORMAT: true, STATE_ACCESS: true, STATE_UNREACHABLE: true, LOCK_LOST: true,
  PROVIDER_ERROR: true, CIRCUIT_OPEN: true,
  EXPRESSION_ERROR: true, DN_SYNTAX: true,
};

export type ErrorCode = (typeof OWN_CODES)[number] | AdoptedCode;

/** Every code, for front ends and tests that list them. */
export const ERROR_CODES: readonly ErrorCode[] = [...OWN_CODES, ...(Object.keys(ADOPTED_CODES) as AdoptedCode[])];

export interface IdplaneErrorOptions {
  cause?: unknown;
  problems?: readonly ConfigProblem[];
  holder?: LockInfo;
}

export class IdplaneError extends Error {
  readonly code: ErrorCode;
  /** CONFIG_INVALID: every problem found (errors and warnings), each at its file:line:col. */
  readonly problems: readonly ConfigProblem[];
  /** LOCK_HELD: the run that holds the state lock. */
  readonly holder: LockInfo | undefined;

  constructor(code: ErrorCode, message: string, options: IdplaneErrorOptions = {}) {
    // Whatever the message quotes (a URL, a server's answer, a file's content), no secret leaves in it.
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdplaneError';
    this.code = code;
    this.problems = options.problems ?? [];
    this.holder = options.holder;
  }
}

/** The config has errors: CONFIG_INVALID with every problem. */
export class ConfigError extends IdplaneError {
  constructor(problems: readonly ConfigProblem[], message?: string) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    super('CONFIG_INVALID', message ?? `the configuration has ${errors} error(s)`, { problems });
  }
}

/** Asked for something that cannot be done as asked: USAGE. */
export class UsageError extends IdplaneError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
