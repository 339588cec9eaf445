/**
 * Connection helpers of the PostgreSQL backend. `maskUrl` turns a connection URL into one safe for
 * messages (the password, and any query parameter that looks like a secret, become ***); it never
 * throws and never returns the password. `asStateError` turns an error that means "the server could not
 * be reached or would not let us in" into a StateUnreachableError naming the masked location, one that
 * means "this role may not do that" (a read-only role's write) into a StateAccessError, and returns every
 * other error unchanged. `lockKey` derives the 64-bit advisory lock key of a schema.
 */
import { createHash } from 'node:crypto';
import { StateAccessError } from '../types.ts';

export class StateUnreachableError extends Error {
  readonly code = 'STATE_UNREACHABLE';
}

const SECRET_PARAM = /pass|secret|token|key/i;

export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, '***');
    return parsed.toString();
  } catch {
    // Not a URL we can parse: mask anything shaped like a password rather than show it.
    return url.replace(/(\/\/[^:/@]*):.*@/, '$1:***@').replace(/((?:pass|secret|token|key)[a-z]*=)[^&\s]*/gi, '$1***');
  }
}

/** Node's socket and DNS errors, and the server's "you may not connect" SQLSTATEs (class 08, 28, 3D000, 57P0x). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT', 'EACCES']);
const SERVER_REFUSALS = /^(08|28|3D000|57P0[1-3]|53300)/;

export function isReachError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_REFUSALS.test(code))) return true;
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error/i.test(error.message);
}

export function asStateError(error: unknown, location: string): unknown {
  if (error instanceof Error && (error as { code?: unknown }).code === '42501') {
    return new StateAccessError(`the role in the state URL may not change the PostgreSQL state at ${location} (${error.message}): plan, drift, history and apply PLANFILE --dry-run need only SELECT, but apply, jit, serve and the state commands that write need a role that may write the schema (docs/state.md)`, { cause: error });
  }
  if (error instanceof StateUnreachableError || !isReachError(error)) return error;
  const e = error as Error & { code?: string };
  // Node's connect errors may be AggregateErrors (one per address tried) with an empty message.
  const detail = e.code && /^E[A-Z]+$/.test(e.code) ? e.code : `${e.message || 'connection failed'}${e.code ? ` (${e.code})` : ''}`;
  return new StateUnreachableError(`cannot reach the PostgreSQL state at ${location}: ${detail}`, { cause: error });
}

/** A signed 64-bit advisory lock key for `purpose` on `schema`, as a decimal string (bigint parameter). */
export function lockKey(purpose: 'state' | 'migrate', schema: string): string {
  return createHash('sha256').update(`idplane:${purpose}:${schema}`).digest().readBigInt64BE(0).toString();
}

/** The halves of a bigint advisory lock key as pg_locks shows them (classid: high 32 bits, objid: low). */
export function lockKeyHalves(key: string): { classid: number; objid: number } {
  const value = BigInt.asUintN(64, BigInt(key));
  return { classid: Number(value >> 32n), objid: Number(value & 0xffffffffn) };
}
