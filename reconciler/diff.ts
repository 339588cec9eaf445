/**
 * Stage 8, diff: compares desired users, links and imported-account records with the stored state and
 * returns only what differs. Attributes are compared by value; a profile attribute is listed when it is
 * set, changed or cleared. Nothing the config does not manage is touched.
 */
import type { ImportChange, LinkChange, UserChange, ValueChange } from '../schemas/generated/plan.ts';
import type { Correlation, Pairing } from './correlate.ts';
import { importedRecord, type DirectoryState, type ImportedRecord, type ProfileValue, type UserRecord } from './model.ts';
import { packValues } from './records.ts';
import { transitionOf } from './lifecycle.ts';

/**
 * The change to one user, or null when there is none. A create lists no attributes (every attribute of
 * `after.profile` is new); other changes list each attribute set, changed or cleared.
 */
export function diffUser(current: UserRecord | null, after: UserRecord, reason: string, outOfBand: ReadonlySet<string> = NONE): UserChange | null {
  if (current === null) return { action: 'create', id: after.id, login: after.login, before: null, after, reason };
  const attributes: Record<string, ValueChange> = {};
  let changed = false;
  const before = current.profile;
  for (const name in before) {
    const from = before[name] as ProfileValue | undefined;
    const to = after.profile[name] as ProfileValue | undefined;
    if (sameValue(from, to)) continue;
    attributes[name] = valueChange(from, to, outOfBand.has(name));
    changed = true;
  }
  for (const name in after.profile) {
    if (Object.hasOwn(before, name)) continue;
    const to = after.profile[name] as ProfileValue | undefined;
    if (to === undefined) continue;
    attributes[name] = valueChange(undefined, to, outOfBand.has(name));
    changed = true;
  }
  const statusChanged = current.status !== after.status;
  const sourceChanged = current.profileSource !== after.profileSource;
  const rolesChanged = !sameValue(current.roles, after.roles);
  if (!statusChanged && !sourceChanged && !rolesChanged && !changed && current.login === after.login) return null;
  const change: UserChange = {
    action: (statusChanged && transitionOf(current.status, after.status)) || 'update',
    id: after.id, login: after.login, before: current, after, attributes, reason,
  };
  if (statusChanged) change.status = { from: current.status, to: after.status };
  if (sourceChanged) change.source = { from: current.profileSource, to: after.profileSource };
  return change;
}

/** The attributes a change sets: its `attributes`, or for a create every attribute of the new profile. */
export function changedAttributes(change: UserChange): Record<string, ValueChange> {
  if (change.attributes) return change.attributes;
  const attributes: Record<string, ValueChange> = {};
  for (const [name, to] of Object.entries(change.after.profile)) attributes[name] = { from: null, to };
  return attributes;
}

const NONE: ReadonlySet<string> = new Set();

function valueChange(from: ProfileValue | undefined, to: ProfileValue | undefined, outOfBand: boolean): ValueChange {
  return outOfBand ? { from: from ?? null, to: to ?? null, outOfBand: true } : { from: from ?? null, to: to ?? null };
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return false;
}

/** Links to remove: accounts a `links:` entry moved to another user, and accounts gone from a full import. */
export function unlinks(correlation: Correlation, loginOf: (id: string) => string): LinkChange[] {
  const changes: LinkChange[] = [];
  for (const l of correlation.relinked) {
    changes.push({ action: 'unlink', app: l.app, key: l.key, userId: l.userId, login: loginOf(l.userId), reason: 'moved by a links: entry' });
  }
  for (const m of correlation.missing) {
    changes.push({ action: 'unlink', app: m.app, key: m.key, userId: m.userId, login: loginOf(m.userId), reason: `account vanished from a full import of ${m.app}` });
  }
  return changes;
}

/** The link a pairing adds, unless the state links the account to that user already. */
export function linkOf(p: Pairing, login: string): LinkChange | null {
  if (p.linked) return null;
  const why = p.kind === 'new' ? 'new account creates the user' : p.via === 'config' ? 'pinned by a links: entry' : 'matched by a rule';
  return { action: 'link', app: p.app, key: p.account.key, userId: p.userId, login, reason: why };
}

/**
 * The imported record a pairing writes, or null when the values (packed in `columns`, records.ts) and
 * the disabled flag are as stored.
 */
export function importOf(state: DirectoryState, p: Pairing, columns: readonly string[], disabled: boolean): ImportChange | null {
  const prior: ImportedRecord | undefined = importedRecord(state.imported, p.app, p.account.key);
  const same = p.unchanged || p.account.stored === true || (prior !== undefined && prior.values === packValues(columns, p.account.attributes));
  if (prior && prior.disabled === disabled && same) return null;
  return { action: prior ? 'refresh' : 'record', app: p.app, key: p.account.key, attributes: p.account.attributes, disabled };
}

/** The records of accounts gone from a full import, to drop. */
export function forgets(state: DirectoryState, missing: Correlation['missing']): ImportChange[] {
  return missing.filter((m) => importedRecord(state.imported, m.app, m.key)).map((m): ImportChange => ({ action: 'forget', app: m.app, key: m.key }));
}
