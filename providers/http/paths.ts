/**
 * Dotted paths into a JSON page or record (`data.employees`, `meta.total`, `address.city`), as the http
 * provider's settings (records, totalPath, cursorPath, nextPath) and the app's key name them.
 * Contract:
 * - parseDottedPath() splits a path into its segments and throws DottedPathError on an empty segment
 *   (`a..b`, `.a`, `a.`); the schema's pattern refuses those too, this is for the key.
 * - readPath() walks objects only (an array on the way, or a missing member, gives undefined); a
 *   segment is an object's own member, so `constructor` or `__proto__` never reach the prototype.
 * - kindOf() names a JSON value's kind for a message ("an object", "an array", "a string", "null").
 * Pure functions: no I/O.
 */
import { isObject } from '../json-values.ts';

export class DottedPathError extends Error {}

export function parseDottedPath(text: string): string[] {
  const segments = text.split('.');
  if (text === '' || segments.some((s) => s === '')) throw new DottedPathError(`${JSON.stringify(text)} is not a dotted path (expected e.g. id or data.employees)`);
  return segments;
}

export { isObject };

/** The value at a path (see the contract); the empty path is the value itself. */
export function readPath(value: unknown, path: readonly string[]): unknown {
  let at: unknown = value;
  for (const segment of path) {
    if (!isObject(at) || !Object.hasOwn(at, segment)) return undefined;
    at = at[segment];
  }
  return at;
}

export function kindOf(value: unknown): string {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object': return 'an object';
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'boolean': return 'a boolean';
    default: return typeof value;
  }
}

/** A number at a path (a JSON number, or a string of digits), or undefined. */
export function countAt(value: unknown, path: readonly string[]): number | undefined {
  const raw = readPath(value, path);
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  if (typeof raw === 'string' && /^\d{1,15}$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}
