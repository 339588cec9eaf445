/**
 * JSON values as the flat strings the core compares, for the providers that read JSON (scim, okta):
 * strings as they are, numbers and booleans as their text, null and absent as '', a list as its values
 * joined with ',' (empty ones left out), an object as its JSON text. Pure.
 */

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON value as the text idplane compares (see the header). */
export function flattenValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(flattenValue).filter((v) => v !== '').join(',');
  return JSON.stringify(value);
}
