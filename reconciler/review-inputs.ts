/**
 * What decided a user's changes in a plan, as a short digest: the user's stored record and every account
 * linked or paired with them, each with the values the plan reads for it (the record it imports, else the
 * stored one), as they are held (no canonical form is built, which cost more than the hashing: the same
 * stored user or record is the same text; bench/RESULTS.md has what digesting costs at a million). A
 * saved plan carries the digest on each user's first line. Apply of that plan after the state or the
 * data moved computes it again (engine/plan-verify.ts): a user whose digest differs had a data change
 * since the review; a user whose digest is the same must get exactly the saved changes. The same config
 * (apply checks its fingerprint first) and the same inputs give the same changes, since planning is
 * pure. The digest names nothing and holds no value. Pure.
 */
import { hash } from 'node:crypto';
import type { ImportChange, Plan, UserRecord } from '../schemas/generated/plan.ts';
import { accountId, type DirectoryState } from './model.ts';

/**
 * The digest of one user's inputs (16 characters of base64url SHA-256: 96 bits, against a guess of the
 * same user's other inputs), by user id; `once` gives it only the first time it is asked for that user
 * (a saved plan carries it on the user's first line only).
 */
export interface InputsOf {
  (userId: string): string;
  once(userId: string): string | undefined;
}

export function userInputs(state: DirectoryState, plan: Pick<Plan, 'links' | 'imports'>): InputsOf {
  let users: Map<string, UserRecord> | null = null;
  let accounts: Map<string, string[]> | null = null;
  let imports: Map<string, ImportChange> | null = null;
  // A user's lines (their change, each account, each link) ask for the same digest: made once.
  const made = new Map<string, string>();
  const digest = (userId: string): string => {
    if (!users) {
      users = new Map();
      for (const u of state.users) users.set(u.id, u);
      accounts = accountsByUser(state, plan.links);
      imports = new Map();
      for (const i of plan.imports) imports.set(accountId(i.app, i.key), i);
    }
    const user = users.get(userId);
    let text = user === undefined ? 'new' : JSON.stringify(user);
    const mine = accounts!.get(userId);
    if (mine) {
      if (mine.length > 1) mine.sort();
      for (const id of mine) text += `\u0001${id}\u0002${recordText(state, imports!.get(id), id)}`;
    }
    const value = hash('sha256', text, 'base64url').slice(0, DIGEST_LENGTH);
    made.set(userId, value);
    return value;
  };
  const of = (userId: string) => made.get(userId) ?? digest(userId);
  of.once = (userId: string) => (made.has(userId) ? undefined : digest(userId));
  return of;
}

/** Characters of the digest kept. */
export const DIGEST_LENGTH = 16;

/**
 * user id → the accounts (accountId) linked to them once the plan's link changes are made. An unlink
 * names the user the account was linked to (a move is an unlink and a link).
 */
function accountsByUser(state: DirectoryState, changes: Plan['links']): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  const add = (userId: string, id: string) => {
    const list = byUser.get(userId);
    if (list) list.push(id);
    else byUser.set(userId, [id]);
  };
  for (const l of state.links) add(l.userId, accountId(l.app, l.key));
  for (const c of changes) {
    const id = accountId(c.app, c.key);
    if (c.action === 'link') add(c.userId, id);
    else byUser.set(c.userId, (byUser.get(c.userId) ?? []).filter((other) => other !== id));
  }
  return byUser;
}

/**
 * One account's values as the plan reads them: the record the plan imports (as the source gave it, in
 * its order), else the stored one (packed, records.ts). The same values give the same text as long as
 * they come from the same side; a record stored since the plan was made reads as changed, which it is
 * (the state moved for that user).
 */
function recordText(state: DirectoryState, change: ImportChange | undefined, id: string): string {
  if (change?.action === 'forget') return 'forget';
  if (change?.attributes) return `read\u0003${change.disabled === true}\u0003${JSON.stringify(change.attributes)}`;
  const at = id.indexOf('\u0000');
  const stored = state.imported.get(id.slice(0, at))?.records.get(id.slice(at + 1));
  return stored ? `stored\u0003${stored.disabled}\u0003${stored.values}` : 'none';
}
