/**
 * Applies a plan's directory changes to a state snapshot, returning the next snapshot. Pure: the caller
 * supplies the lineage for a state that has none yet and persists the result. Only `after`, link and
 * import records are read; display-only fields (reasons) never change what is written.
 */
import type { Plan } from '../schemas/generated/plan.ts';
import type { DirectoryState, StoredLink, UserRecord } from './model.ts';

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
