/**
 * Applies a plan's directory changes to a state snapshot, returning the next snapshot. Pure: the caller
 * supplies the lineage for a state that has none yet and persists the result. Only `after`, link and
 * import records are read; display-only fields (reasons) never change what is written. Objects that do
 * not change are kept by reference (the PostgreSQL store writes only the rows whose object is new).
 * A plan that evaluated every user (`evaluated: all`) records its pipeline fingerprint, so the next plans
 * leave users whose accounts did not change alone; it also clears `edited`, since every user was checked.
 */
import type { AccountChange, Plan } from '../schemas/generated/plan.ts';
import { accountId, importedRecord, type DirectoryState, type ImportedRecord, type StoredLink } from './model.ts';
import { packValues, snapshotColumns, unpackValues } from './records.ts';
import { applyStateDelta, stateDelta, type DirectoryChanges } from './state-delta.ts';

export type { DirectoryChanges };

/** The state after the plan's directory changes (state-delta.ts says how: order, kept references). */
export function applyPlanToState(state: DirectoryState, plan: DirectoryChanges, newLineage: string): DirectoryState {
  return applyStateDelta(state, stateDelta(state, plan, newLineage));
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
export function applyTargetResults(state: DirectoryState, plan: Pick<Plan, 'accounts'>, results: AccountResult[], writeBackApps: ReadonlySet<string>): DirectoryState {
  const done = new Set(results.filter((r) => r.outcome === 'done').map((r) => `${accountId(r.app, r.key)}\u0000${r.action}`));
  const links = new Map<string, StoredLink>(state.links.map((l) => [accountId(l.app, l.key), l]));
  // app + user → the ids of their links in that app, made on first need (a user has one account per target).
  const byUser = new Map<string, Set<string>>();
  let indexed = false;
  const userLinks = (app: string, userId: string): Set<string> => {
    if (!indexed) {
      indexed = true;
      for (const [id, l] of links) {
        const k = accountId(l.app, l.userId);
        let set = byUser.get(k);
        if (!set) byUser.set(k, (set = new Set()));
        set.add(id);
      }
    }
    const k = accountId(app, userId);
    let set = byUser.get(k);
    if (!set) byUser.set(k, (set = new Set()));
    return set;
  };
  const written = new Map<string, { columns: readonly string[]; records: Map<string, ImportedRecord> }>();
  let changed = false;
  for (const change of plan.accounts) {
    if (!done.has(`${accountId(change.app, change.key)}\u0000${change.action}`)) continue;
    const id = accountId(change.app, change.key);
    if (change.action === 'delete') {
      const link = links.get(id);
      if (link && links.delete(id)) {
        byUser.get(accountId(link.app, link.userId))?.delete(id);
        changed = true;
      }
    } else if ((change.link || change.action === 'create') && links.get(id)?.userId !== change.userId) {
      // A user has one account per target: a link to an account that was replaced (it vanished from the
      // target and was created again under another key) goes.
      const mine = userLinks(change.app, change.userId);
      if (!writeBackApps.has(change.app)) {
        for (const other of mine) {
          if (other === id) continue;
          links.delete(other);
          mine.delete(other);
        }
      }
      const previous = links.get(id);
      if (previous) byUser.get(accountId(previous.app, previous.userId))?.delete(id);
      links.set(id, { app: change.app, key: change.key, userId: change.userId });
      mine.add(id);
      changed = true;
    }
    const record = writeBackApps.has(change.app) ? importedRecord(state.imported, change.app, change.key) : undefined;
    if (record && Object.keys(change.attributes).length > 0) {
      const app = state.imported.get(change.app)!;
      let target = written.get(change.app);
      if (!target) written.set(change.app, (target = { columns: app.columns, records: new Map(app.records) }));
      const attributes = unpackValues(target.columns, (target.records.get(change.key) ?? record).values);
      for (const [name, value] of Object.entries(change.attributes)) attributes[name] = value.to ?? '';
      // An attribute the import does not read is appended as a column; the other records keep their meaning.
      target.columns = snapshotColumns(target.columns, { columns: Object.keys(attributes), accounts: [] });
      target.records.set(change.key, { ...record, values: packValues(target.columns, attributes) });
      changed = true;
    }
  }
  if (!changed) return state;
  const imported = new Map(state.imported);
  for (const [name, { columns, records }] of written) imported.set(name, { columns: [...columns], records });
  return { ...state, serial: state.serial + 1, links: [...links.values()], imported };
}
