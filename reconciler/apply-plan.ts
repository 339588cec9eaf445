/**
 * Applies a plan's directory changes to a state snapshot, returning the next snapshot. Pure: the caller
 * supplies the lineage for a state that has none yet and persists the result. Only `after`, link and
 * import records are read; display-only fields (reasons) never change what is written.
 */
import type { AccountChange, Plan } from '../schemas/generated/plan.ts';
import { importedRecord, type DirectoryState, type StoredLink, type UserRecord } from './model.ts';

export function applyPlanToState(state: DirectoryState, plan: Plan, newLineage: string): DirectoryState {
  const users = new Map<string, UserRecord>(state.users.map((u) => [u.id, u]));
  for (const change of plan.users) users.set(change.id, change.after);

  const links = new Map<string, StoredLink>(state.links.map((l) => [`${l.app}\u0000${l.key}`, l]));
  for (const change of plan.links) {
    const id = `${change.app}\u0000${change.key}`;
    if (change.action === 'unlink') {
      if (links.get(id)?.userId === change.userId) links.delete(id);
    } else {
      links.set(id, { app: change.app, key: change.key, userId: change.userId });
    }
  }

  // Null-prototype maps: apps and keys are data, and may be named "constructor" or "__proto__".
  const imported: DirectoryState['imported'] = Object.create(null);
  for (const [app, records] of Object.entries(state.imported)) imported[app] = Object.assign(Object.create(null), records);
  for (const change of plan.imports) {
    if (!Object.hasOwn(imported, change.app)) imported[change.app] = Object.create(null);
    const records = imported[change.app]!;
    if (change.action === 'forget') delete records[change.key];
    else records[change.key] = { attributes: change.attributes ?? {}, disabled: change.disabled === true };
  }

  const watermarks = { ...state.watermarks };
  for (const w of plan.watermarks) watermarks[w.app] = w.to;

  return {
    lineage: state.lineage ?? newLineage,
    serial: state.serial + 1,
    users: [...users.values()],
    links: [...links.values()],
    imported,
    watermarks,
  };
}

/** What happened to one account change when it was applied (from the provider). */
export interface AccountResult {
  app: string;
  key: string;
  action: AccountChange['action'];
  outcome: 'done' | 'skipped' | 'failed';
}

/**
 * Records what the targets did: links for accounts created or linked, none for deleted ones, and, for a
 * write-back app, the values written as its last imported record, so the next import does not see our
 * own write as a change at the source. Only changes whose result is `done` are recorded.
 */
export function applyTargetResults(state: DirectoryState, plan: Plan, results: AccountResult[], writeBackApps: ReadonlySet<string>): DirectoryState {
  const done = new Set(results.filter((r) => r.outcome === 'done').map((r) => `${r.app}\u0000${r.key}\u0000${r.action}`));
  const links = new Map<string, StoredLink>(state.links.map((l) => [`${l.app}\u0000${l.key}`, l]));
  const imported: DirectoryState['imported'] = Object.create(null);
  for (const [app, records] of Object.entries(state.imported)) imported[app] = Object.assign(Object.create(null), records);
  let changed = false;
  for (const change of plan.accounts) {
    if (!done.has(`${change.app}\u0000${change.key}\u0000${change.action}`)) continue;
    const id = `${change.app}\u0000${change.key}`;
    if (change.action === 'delete') {
      if (links.delete(id)) changed = true;
    } else if ((change.link || change.action === 'create') && links.get(id)?.userId !== change.userId) {
      // A user has one account per target: a link to an account that was replaced (it vanished from the
      // target and was created again under another key) goes.
      const writeBack = writeBackApps.has(change.app);
      for (const [other, link] of links) {
        if (!writeBack && link.app === change.app && link.userId === change.userId && other !== id) links.delete(other);
      }
      links.set(id, { app: change.app, key: change.key, userId: change.userId });
      changed = true;
    }
    const record = writeBackApps.has(change.app) ? importedRecord(imported, change.app, change.key) : undefined;
    if (record && Object.keys(change.attributes).length > 0) {
      const attributes = { ...record.attributes };
      for (const [name, value] of Object.entries(change.attributes)) attributes[name] = value.to ?? '';
      imported[change.app]![change.key] = { ...record, attributes };
      changed = true;
    }
  }
  if (!changed) return state;
  return { ...state, serial: state.serial + 1, links: [...links.values()], imported };
}

