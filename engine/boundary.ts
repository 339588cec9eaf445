/**
 * The engine's boundary for errors: the one function that turns whatever a run threw into an
 * IdplaneError. An IdplaneError stays as it is; an error of the state, a provider or the core that
 * carries one of the adopted codes (LOCK_HELD, PROVIDER_ERROR, EXPRESSION_ERROR, …) keeps its code and
 * message (and a lock's holder); a RangeError from one of the JavaScript engine's fixed limits becomes
 * ENGINE_LIMIT or MEMORY_LIMIT (memory.ts); an operating-system error (a file or socket refused) is
 * OS_ERROR; anything else is INTERNAL, a bug, with the original error as its cause. The library's
 * functions, the CLI's entry point and the server's answers all go through it.
 */
import { ADOPTED_CODES, IdplaneError, type AdoptedCode } from './errors.ts';
import type { LockInfo } from '../state/types.ts';
import { engineLimit } from './memory.ts';

export function toIdplaneError(error: unknown): IdplaneError {
  if (error instanceof IdplaneError) return error;
  const limited = engineLimit(error);
  if (limited instanceof IdplaneError) return limited;
  if (error instanceof Error) {
    const { code, holder } = error as Error & { code?: unknown; holder?: LockInfo };
    if (typeof code === 'string' && Object.hasOwn(ADOPTED_CODES, code)) {
      return new IdplaneError(code as AdoptedCode, error.message, { cause: error, ...(code === 'LOCK_HELD' && holder ? { holder } : {}) });
    }
    if (isSystemError(error)) return new IdplaneError('OS_ERROR', error.message, { cause: error });
  }
  return new IdplaneError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** Node's errors from a system call: an E… code, its errno and the call's name. */
function isSystemError(error: Error): boolean {
  const e = error as NodeJS.ErrnoException;
  return typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.errno === 'number' && typeof e.syscall === 'string';
}

/** Runs `work`, throwing what it throws as an IdplaneError: the library's functions are wrapped in it. */
export async function atBoundary<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toIdplaneError(error);
  }
}
