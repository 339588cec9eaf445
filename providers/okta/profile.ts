/**
 * Okta users as idplane attributes, and idplane values as Okta profile values. Pure functions: no I/O.
 * Contract:
 * - flattenUser() gives a user's attributes: `id`, `status`, `created`, `activated`, `statusChanged`,
 *   `lastUpdated`, every `profile.NAME`, and `active` ("true" when the user can sign in or is on the
 *   way to it: ACTIVE, PROVISIONED, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED; "false" for STAGED, SUSPENDED
 *   and DEPROVISIONED; a user in transition counts as the status it is moving to). Credentials, links,
 *   lastLogin and passwordChanged are never read: sign-in activity is not profile data, and would make
 *   every plan stale.
 * - Values: strings as they are, numbers and booleans as text, null or absent as "", an array as its
 *   elements joined with "," (what an idplane mapping that gives a list produces), an object as JSON.
 * - toWire() is the inverse for a write, by the attribute's type in the org's user schema: boolean
 *   ("true"/"false"), integer, number, array (split on ","), else string; "" is null (Okta's partial
 *   update clears a property set to null). A value the type cannot hold throws OktaValueError.
 * - profileName() maps an attribute name to its profile property ("profile.department" → "department").
 * - searchLiteral() quotes a value for a search or filter expression (`"` and `\` escaped).
 */
import { flattenValue, isObject } from '../json-values.ts';
import { setOwn } from '../../reconciler/records.ts';

/** Okta's user statuses (the Users API). */
export const OKTA_STATUSES = ['STAGED', 'PROVISIONED', 'ACTIVE', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED', 'SUSPENDED', 'DEPROVISIONED'] as const;
export type OktaStatus = (typeof OKTA_STATUSES)[number];

export function isOktaStatus(value: unknown): value is OktaStatus {
  return typeof value === 'string' && (OKTA_STATUSES as readonly string[]).includes(value);
}

/** Whether a user in this status counts as an enabled account. */
export function isEnabled(status: OktaStatus): boolean {
  switch (status) {
    case 'ACTIVE':
    case 'PROVISIONED':
    case 'RECOVERY':
    case 'LOCKED_OUT':
    case 'PASSWORD_EXPIRED':
      return true;
    case 'STAGED':
    case 'SUSPENDED':
    case 'DEPROVISIONED':
      return false;
    default: {
      const never: never = status;
      throw new Error(`unknown Okta status ${String(never)}`);
    }
  }
}

/** The status a user is in, or moving to (transitioningToStatus), or undefined when the answer has none we know. */
export function effectiveStatus(user: Record<string, unknown>): OktaStatus | undefined {
  const moving = user.transitioningToStatus;
  if (isOktaStatus(moving)) return moving;
  return isOktaStatus(user.status) ? user.status : undefined;
}

export const TOP_LEVEL = ['id', 'status', 'created', 'activated', 'statusChanged', 'lastUpdated'] as const;
export const PROFILE = 'profile.';

export class OktaValueError extends Error {}

export function flattenUser(user: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const name of TOP_LEVEL) attributes[name] = flattenValue(user[name]);
  const status = effectiveStatus(user);
  attributes.active = status !== undefined && isEnabled(status) ? 'true' : 'false';
  const profile = isObject(user.profile) ? user.profile : {};
  for (const [name, value] of Object.entries(profile)) setOwn(attributes, `${PROFILE}${name}`, flattenValue(value));
  return attributes;
}

/** The profile property an attribute name writes, or null when it is not `profile.NAME`. */
export function profileName(attribute: string): string | null {
  if (!attribute.startsWith(PROFILE)) return null;
  const name = attribute.slice(PROFILE.length);
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : null;
}

/** A profile property's type in the org's user schema (JSON Schema types, as Okta uses them). */
export type PropertyType = 'string' | 'boolean' | 'integer' | 'number' | 'array';

export interface PropertyShape {
  type: PropertyType;
  /** For arrays: the elements' type. */
  items?: Exclude<PropertyType, 'array'>;
}

export type WireValue = string | number | boolean | null | (string | number | boolean)[];

function scalar(name: string, type: Exclude<PropertyType, 'array'>, value: string): string | number | boolean {
  const text = value.trim();
  switch (type) {
    case 'boolean':
      if (/^true$/i.test(text)) return true;
      if (/^false$/i.test(text)) return false;
      throw new OktaValueError(`profile.${name} is a boolean in Okta: expected true or false, got ${JSON.stringify(value)}`);
    case 'integer':
      if (/^-?\d+$/.test(text)) return Number(text);
      throw new OktaValueError(`profile.${name} is an integer in Okta: got ${JSON.stringify(value)}`);
    case 'number': {
      const n = Number(text);
      if (text !== '' && Number.isFinite(n)) return n;
      throw new OktaValueError(`profile.${name} is a number in Okta: got ${JSON.stringify(value)}`);
    }
    case 'string':
      return value;
    default: {
      const never: never = type;
      throw new Error(`unknown property type ${String(never)}`);
    }
  }
}

/** A plan's value for a profile property, typed for the wire (see the contract). */
export function toWire(name: string, value: string | null, shape: PropertyShape | undefined): WireValue {
  if (value === null || value === '') return null;
  const type = shape?.type ?? 'string';
  if (type !== 'array') return scalar(name, type, value);
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => scalar(name, shape?.items ?? 'string', v));
}

/** A value as a quoted literal of an Okta search or filter expression. */
export function searchLiteral(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
