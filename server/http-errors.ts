/**
 * How the server answers errors: HttpError (a status, a code of the HTTP answer's own closed set, a
 * message and headers; every error body is {"error": {code, message}}) and the one table from the
 * engine's error codes to answers, which the compiler checks is complete: a code added to ErrorCode
 * without an answer here does not compile. A JIT account that is not one is 400 JIT_INPUT; one for
 * review, in conflict or held by a policy or safeguard is 409 with its own code (nothing changed);
 * the state lock held past serve.lockTimeout (LOCKED), a queue that did not move in that time (BUSY)
 * and a server that is stopping (STOPPING) are 503 with Retry-After. Everything else is the server's
 * fault: the error is logged and the answer is 500 INTERNAL (endpoints.ts), with no detail.
 */
import { toIdplaneError } from '../engine/boundary.ts';
import type { ErrorCode, IdplaneError } from '../engine/errors.ts';

/** The codes an HTTP answer of the server carries. */
export type HttpCode =
  | 'NOT_FOUND' | 'NO_JIT' | 'METHOD_NOT_ALLOWED' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_JSON' | 'TOO_LARGE'
  | 'JIT_INPUT' | 'JIT_REVIEW' | 'JIT_CONFLICT' | 'JIT_BLOCKED'
  | 'LOCKED' | 'BUSY' | 'STOPPING' | 'INTERNAL';

export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpCode;
  readonly headers: Record<string, string>;

  constructor(status: number, code: HttpCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** What an engine error answers; `lockTimeoutMs` is serve.lockTimeout, which says when to try again. */
type Answer =
  /** The error's own code and message, with this status. */
  | { kind: 'refused'; status: 400 | 409; code: HttpCode }
  /** 503: try again after Retry-After seconds. */
  | { kind: 'retry'; code: HttpCode; message: (error: IdplaneError, waitSeconds: number) => string; retryAfter: (waitSeconds: number) => number }
  /** 500 INTERNAL, logged. */
  | { kind: 'internal' };

const INTERNAL: Answer = { kind: 'internal' };
const afterTheWait = (waitSeconds: number) => Math.max(1, waitSeconds);

const ANSWERS: Record<ErrorCode, Answer> = {
  JIT_INPUT: { kind: 'refused', status: 400, code: 'JIT_INPUT' },
  JIT_REVIEW: { kind: 'refused', status: 409, code: 'JIT_REVIEW' },
  JIT_CONFLICT: { kind: 'refused', status: 409, code: 'JIT_CONFLICT' },
  JIT_BLOCKED: { kind: 'refused', status: 409, code: 'JIT_BLOCKED' },
  LOCK_HELD: {
    kind: 'retry', code: 'LOCKED', retryAfter: afterTheWait,
    message: (e, s) => `the state is locked by another run (${e.holder?.operation ?? 'unknown'}) and stayed so for ${s} s (serve.lockTimeout); try again`,
  },
  QUEUE_TIMEOUT: { kind: 'retry', code: 'BUSY', retryAfter: afterTheWait, message: (e) => `the server is busy: ${e.message}; try again` },
  SHUTTING_DOWN: { kind: 'retry', code: 'STOPPING', retryAfter: () => 5, message: (e) => e.message },
  USAGE: INTERNAL,
  CONFIG_INVALID: INTERNAL,
  PLAN_NOT_APPLYABLE: INTERNAL,
  PLAN_UNWRITABLE: INTERNAL,
  PLAN_UNREADABLE: INTERNAL,
  PLAN_INVALID: INTERNAL,
  PLAN_TRUNCATED: INTERNAL,
  PLAN_VERSION: INTERNAL,
  PLAN_UNSIGNED: INTERNAL,
  PLAN_SIGNATURE: INTERNAL,
  PLAN_STALE: INTERNAL,
  PLAN_MISMATCH: INTERNAL,
  USER_NOT_FOUND: INTERNAL,
  MIGRATE_SAME: INTERNAL,
  MIGRATE_EMPTY: INTERNAL,
  MIGRATE_NOT_EMPTY: INTERNAL,
  MIGRATE_MISMATCH: INTERNAL,
  SERVE_LISTEN: INTERNAL,
  SERVE_TLS: INTERNAL,
  MEMORY_LIMIT: INTERNAL,
  ENGINE_LIMIT: INTERNAL,
  OS_ERROR: INTERNAL,
  INTERNAL: INTERNAL,
  STALE_STATE: INTERNAL,
  STATE_FORMAT: INTERNAL,
  STATE_ACCESS: INTERNAL,
  STATE_UNREACHABLE: INTERNAL,
  LOCK_LOST: INTERNAL,
  PROVIDER_ERROR: INTERNAL,
  CIRCUIT_OPEN: INTERNAL,
  EXPRESSION_ERROR: INTERNAL,
  DN_SYNTAX: INTERNAL,
};

/**
 * The HttpError a failed JIT request answers, or, for the server's own faults, what was thrown, to be
 * logged and answered 500 by the caller.
 */
export function answerFor(thrown: unknown, lockTimeoutMs: number): unknown {
  const error = toIdplaneError(thrown);
  const answer = ANSWERS[error.code];
  const waitSeconds = Math.round(lockTimeoutMs / 1000);
  switch (answer.kind) {
    case 'refused': return new HttpError(answer.status, answer.code, error.message);
    case 'retry': return new HttpError(503, answer.code, answer.message(error, waitSeconds), { 'retry-after': String(answer.retryAfter(waitSeconds)) });
    case 'internal': return thrown;
    default: {
      const never: never = answer;
      throw new Error(`unknown answer ${JSON.stringify(never)}`);
    }
  }
}
