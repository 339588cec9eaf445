/**
 * What decided a user's changes in a plan, as a short digest: the user's stored record and every account
 * linked or paired with them, each with the values the plan reads for it (the record it imports, else the
 * stored one). A saved plan carries the digest on each user, account and link line. Apply of that plan
 * after the state or the data moved computes it again (engine/plan-verify.ts): a user whose digest differs
 * had a data change since the review; a user whose digest is the same must get exactly the saved changes.
 * The same config (apply checks its fingerprint first) and the same inputs give the same changes, since
 * planning is pure. The digest names nothing and holds no value. Pure.
 */
import { hash } from 'node:crypto';
import type { ImportChange, Plan, UserRecord } from '../schemas/generated/plan.ts';
import { accountId, type DirectoryState } from './model.ts';
import { unpackValues } from './records.ts';

/** The digest of one user's inputs (22 characters of base64url SHA-256), by user id. */
export type InputsOf = (userId: string) => string;

export function userInputs(state: DirectoryState, plan: Pick<Plan, 'links' | 'imports'>): InputsOf {
  let users: Map<string, UserRecord> | null = null;
  let accounts: Map<string, { app: string; key: string }[]> | null = null;
  let imports: Map<string, ImportChange> | null = null;
  return (userId) => {
    users ??= new Map(state.users.map((u) => [u.id, u]));
    accounts ??= accountsByUser(state, plan.links);
    imports ??= new Map(plan.imports.map((i) => [accountId(i.app, i.key), i]));
    const parts: unknown[] = [canonical(users.get(userId) ?? null)];
    const mine = [...(accounts.get(userId) ?? [])].sort((a, b) => compare(a.app, b.app) || compare(a.key, b.key));
    for (const { app, key } of mine) parts.push([app, key, recordText(state, imports.get(accountId(app, key)), app, key)]);
    return hash('sha256', JSON.stringify(parts), 'base64url').slice(0, 22);
  };
}

/** user id → the accounts linked to them once the plan's link changes are made. */
function accountsByUser(state: DirectoryState, changes: Plan['links']): Map<string, { app: string; key: string }[]> {
  const owner = new Map<string, { app: string; key: string; userId: string }>();
  for (const l of state.links) owner.set(accountId(l.app, l.key), l);
  for (const c of changes) {
    const id = accountId(c.app, c.key);
    if (c.action === 'unlink') owner.delete(id);
    else owner.set(id, c);
  }
  const byUser = new Map<string, { app: string; key: string }[]>();
  for (const l of owner.values()) {
    const list = byUser.get(l.userId);
    if (list) list.push({ app: l.app, key: l.key });
    else byUser.set(l.userId, [{ app: l.app, key: l.key }]);
  }
  return byUser;
}

/** One account's values as the plan reads them, the same text whether they come from the source or the state. */
function recordText(state: DirectoryState, change: ImportChange | undefined, app: string, key: string): unknown {
  if (change?.action === 'forget') return null;
  if (change?.attributes) return [change.disabled === true, valuesText(change.attributes)];
  const records = state.imported.get(app);
  const stored = records?.records.get(key);
  if (!records || !stored) return null;
  return [stored.disabled, valuesText(unpackValues(records.columns, stored.values))];
}

/** The non-empty values, by name in code-point order ('' and an absent value are the same). */
function valuesText(attributes: Readonly<Record<string, string>>): [string, string][] {
  return Object.keys(attributes).filter((name) => attributes[name] !== '').sort(compare).map((name) => [name, attributes[name]!]);
}

/** A JSON value with every object's keys in code-point order: the same record read from either store or made in memory. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.keys(record).sort(compare).filter((k) => record[k] !== undefined).map((k) => [k, canonical(record[k])]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
