/**
 * Whether a user record read back from a store is one idplane could have written: the JSON parsed, but
 * a flipped byte (`"rrofile"`), a hand edit (`ACTIVF`) or a foreign tool can still leave a record the
 * reconciler would misread. A record that fails is damage, said with the store's way back (the embedded
 * store's `state restore`, PostgreSQL's own backups), never an internal error or a status kept as read.
 * One pass over a handful of fields: a million users cost a few tens of milliseconds.
 */
import type { UserRecord } from '../schemas/generated/plan.ts';
import { StateFormatError } from './types.ts';

const STATUSES: ReadonlySet<string> = new Set(['STAGED', 'PROVISIONED', 'ACTIVE', 'SUSPENDED', 'DEPROVISIONED']);

/** A record that parses but is not a user record: the state is damaged. */
export class DamagedRecordError extends StateFormatError {}

/** Why `value` is not a user record, or null when it is one. */
export function userRecordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not an object';
  const u = value as Record<string, unknown>;
  if (typeof u.id !== 'string' || u.id === '') return 'it has no id';
  if (typeof u.login !== 'string') return 'it has no login';
  if (typeof u.status !== 'string') return 'it has no status';
  if (!STATUSES.has(u.status)) return `its status ${JSON.stringify(u.status)} is not one of ${[...STATUSES].join(', ')}`;
  if (typeof u.profile !== 'object' || u.profile === null || Array.isArray(u.profile)) return 'it has no profile';
  if (typeof u.profileSource !== 'string') return 'it has no profile source';
  if (!Array.isArray(u.roles)) return 'it has no roles list';
  for (const role of u.roles) if (typeof role !== 'string') return `its roles hold ${JSON.stringify(role)}, which is not a role name`;
  return null;
}

/**
 * `value` as a user record, or a DamagedRecordError naming where it sits (`where`: "position 12 of the
 * users table of /x/.idplane/state.db"), what is wrong with it and, when the store does not add it
 * itself, `wayBack`.
 */
export function checkedUser(value: unknown, where: () => string, wayBack?: string): UserRecord {
  const problem = userRecordProblem(value);
  if (problem === null) return value as UserRecord;
  const id = typeof (value as { id?: unknown })?.id === 'string' ? ` (user ${(value as { id: string }).id})` : '';
  throw new DamagedRecordError(`the user record at ${where()}${id} is not a valid record: ${problem}; the state is damaged${wayBack ? `. ${wayBack}` : ''}`);
}

/** The user record in the JSON text `text`, as checkedUser; text that is not JSON is damage too. */
export function parsedUser(text: string, where: () => string): UserRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DamagedRecordError(`the user record at ${where()} is not valid JSON (${(error as Error).message}); the state is damaged`);
  }
  return checkedUser(value, where);
}
