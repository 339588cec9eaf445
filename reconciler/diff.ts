/**
 * Stage 8, diff: compares desired users, links and imported-account records with the stored state and
 * returns only what differs. Attributes are compared by value; a profile attribute is listed when it is
 * set, changed or cleared. Nothing the config does not manage is touched.
 */
import type { ImportChange, LinkChange, UserChange, ValueChange } from '../schemas/generated/plan.ts';
import type { Correlation } from './correlate.ts';
import { importedRecord, type DirectoryState, type ImportedRecord, type ProfileValue, type UserRecord } from './model.ts';
import { transitionOf } from './lifecycle.ts';

export function diffUser(current: UserRecord | null, after: UserRecord, reason: string, outOfBand: ReadonlySet<string> = new Set()): UserChange | null {
  const attributes: Record<string, ValueChange> = {};
  const before = current?.profile ?? {};
  for (const name of new Set([...Object.keys(before), ...Object.keys(after.profile)])) {
    const from = before[name] as ProfileValue | undefined;
    const to = after.profile[name] as ProfileValue | undefined;
    if (sameValue(from, to)) continue;
    attributes[name] = outOfBand.has(name) ? { from: from ?? null, to: to ?? null, outOfBand: true } : { from: from ?? null, to: to ?? null };
  }
  if (current === null) return { action: 'create', id: after.id, login: after.login, before: null, after, attributes, reason };
  const statusChanged = current.status !== after.status;
  const sourceChanged = current.profileSource !== after.profileSource;
  const rolesChanged = !sameValue(current.roles, after.roles);
  if (!statusChanged && !sourceChanged && !rolesChanged && Object.keys(attributes).length === 0 && current.login === after.login) return null;
  const change: UserChange = {
    action: (statusChanged && transitionOf(current.status, after.status)) || 'update',
    id: after.id, login: after.login, before: current, after, attributes, reason,
  };
  if (statusChanged) change.status = { from: current.status, to: after.status };
  if (sourceChanged) change.source = { from: current.profileSource, to: after.profileSource };
  return change;
}

export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return false;
}

/** Links to add for paired accounts, and to remove for moved or vanished accounts. */
export function diffLinks(state: DirectoryState, correlation: Correlation, loginOf: (id: string) => string, keep: (app: string, key: string) => boolean): LinkChange[] {
  const stored = new Map(state.links.map((l) => [`${l.app}\u0000${l.key}`, l.userId]));
  const changes: LinkChange[] = [];
  for (const l of correlation.relinked) {
    changes.push({ action: 'unlink', app: l.app, key: l.key, userId: l.userId, login: loginOf(l.userId), reason: 'moved by a links: entry' });
  }
  for (const m of correlation.missing) {
    changes.push({ action: 'unlink', app: m.app, key: m.key, userId: m.userId, login: loginOf(m.userId), reason: `account vanished from a full import of ${m.app}` });
  }
  for (const p of correlation.pairings) {
    if (stored.get(`${p.app}\u0000${p.account.key}`) === p.userId || !keep(p.app, p.account.key)) continue;
    const why = p.kind === 'new' ? 'new account creates the user' : p.via === 'config' ? 'pinned by a links: entry' : 'matched by a rule';
    changes.push({ action: 'link', app: p.app, key: p.account.key, userId: p.userId, login: loginOf(p.userId), reason: why });
  }
  return changes;
}

/** Imported-account records to write for linked accounts and to drop for vanished ones. */
export function diffImports(
  state: DirectoryState,
  correlation: Correlation,
  disabledOf: (app: string, key: string) => boolean,
  keep: (app: string, key: string) => boolean,
): ImportChange[] {
  const changes: ImportChange[] = [];
  for (const p of correlation.pairings) {
    if (!keep(p.app, p.account.key)) continue;
    const prior: ImportedRecord | undefined = importedRecord(state.imported, p.app, p.account.key);
    const disabled = disabledOf(p.app, p.account.key);
    if (prior && prior.disabled === disabled && sameRecord(prior.attributes, p.account.attributes)) continue;
    changes.push({ action: prior ? 'refresh' : 'record', app: p.app, key: p.account.key, attributes: p.account.attributes, disabled });
  }
  for (const m of correlation.missing) {
    if (importedRecord(state.imported, m.app, m.key)) changes.push({ action: 'forget', app: m.app, key: m.key });
  }
  return changes;
}

/** Equal records; an absent attribute equals an empty one (a CSV column added later reads as ''). */
function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  for (const k of Object.keys(a)) if ((a[k] ?? '') !== (b[k] ?? '')) return false;
  for (const k of Object.keys(b)) if ((a[k] ?? '') !== (b[k] ?? '')) return false;
  return true;
}
