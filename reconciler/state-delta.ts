/**
 * A plan's directory changes as a delta: the users it writes, the links it sets and removes, the imported
 * records it sets and forgets (per app, with the app's columns after them), and the watermarks, lineage,
 * serial, pipeline fingerprint and `edited` flag after it. `stateDelta` computes it (pure); `applyStateDelta`
 * gives the next state as a new value, keeping every unchanged object by reference (the stores write only
 * the rows whose object is new); `applyStateDeltaInPlace` changes a state the caller owns in O(changes),
 * for the long-running server whose state is a million users. The three agree: apply-plan.ts's
 * applyPlanToState is stateDelta followed by applyStateDelta, and the tests check the in-place form
 * against it.
 *
 * Order is part of the state (the stores keep it): users and links keep their places, a replaced one
 * stays where it was, new ones come after the others in plan order, and a removed link leaves no gap.
 */
import type { ImportChange, Plan } from '../schemas/generated/plan.ts';
import { accountId, type DirectoryState, type ImportedRecord, type StoredLink, type UserRecord } from './model.ts';
import { packValues, snapshotColumns } from './records.ts';

/** The parts of a plan that change the directory. */
export type DirectoryChanges = Pick<Plan, 'users' | 'links' | 'imports' | 'watermarks' | 'evaluated' | 'fingerprints'>;

export interface AppRecordsDelta {
  /** The app's columns after the delta (the stored ones, then any the new records add). */
  columns: readonly string[];
  set: Map<string, ImportedRecord>;
  forget: string[];
}

export interface StateDelta {
  lineage: string;
  serial: number;
  /** Users written: replaced ones (same id) and new ones, in plan order. */
  users: UserRecord[];
  /** Links set (new or moved to another user) and removed, in the plan's order. */
  links: LinkStep[];
  imported: Map<string, AppRecordsDelta>;
  /** Watermarks that change. */
  watermarks: Record<string, string>;
  pipeline: string | null;
  edited: boolean;
}

export function stateDelta(state: DirectoryState, plan: DirectoryChanges, newLineage: string): StateDelta {
  const links: LinkStep[] = [];
  // The link each account has as the changes go (the state's, then as set or removed here).
  const current = new Map<string, StoredLink | null>();
  let stored: Map<string, StoredLink> | null = null;
  const linkOf = (id: string): StoredLink | undefined => {
    const known = current.get(id);
    if (known !== undefined) return known ?? undefined;
    stored ??= new Map(state.links.map((l) => [accountId(l.app, l.key), l]));
    return stored.get(id);
  };
  for (const change of plan.links) {
    const id = accountId(change.app, change.key);
    if (change.action === 'unlink') {
      if (linkOf(id)?.userId !== change.userId) continue;
      current.set(id, null);
      links.push({ remove: { app: change.app, key: change.key } });
    } else {
      const link = { app: change.app, key: change.key, userId: change.userId };
      current.set(id, link);
      links.push({ set: link });
    }
  }
  const watermarks: Record<string, string> = {};
  for (const w of plan.watermarks) watermarks[w.app] = w.to;
  const all = plan.evaluated === 'all';
  return {
    lineage: state.lineage ?? newLineage,
    serial: state.serial + 1,
    users: plan.users.map((change) => change.after),
    links,
    imported: importsDelta(state.imported, plan.imports),
    watermarks,
    pipeline: all ? plan.fingerprints.pipeline : state.pipeline,
    edited: all ? false : state.edited,
  };
}

function importsDelta(imported: DirectoryState['imported'], changes: readonly ImportChange[]): Map<string, AppRecordsDelta> {
  const byApp = new Map<string, ImportChange[]>();
  for (const change of changes) {
    let list = byApp.get(change.app);
    if (!list) byApp.set(change.app, (list = []));
    list.push(change);
  }
  const out = new Map<string, AppRecordsDelta>();
  for (const [app, list] of byApp) {
    const written = list.filter((c) => c.action !== 'forget');
    const columns = snapshotColumns(imported.get(app)?.columns, { accounts: written.map((c) => ({ key: c.key, attributes: c.attributes ?? {} })) });
    const delta: AppRecordsDelta = { columns: [...columns], set: new Map(), forget: [] };
    for (const change of list) {
      if (change.action === 'forget') {
        delta.set.delete(change.key);
        delta.forget.push(change.key);
      } else {
        delta.set.set(change.key, { values: packValues(columns, change.attributes ?? {}), disabled: change.disabled === true });
      }
    }
    out.set(app, delta);
  }
  return out;
}

/** The state after `delta`, as a new value; unchanged users, links and apps' record maps are kept by reference. */
export function applyStateDelta(state: DirectoryState, delta: StateDelta): DirectoryState {
  const users = new Map<string, UserRecord>(state.users.map((u) => [u.id, u]));
  for (const u of delta.users) users.set(u.id, u);
  const links = new Map<string, StoredLink>(state.links.map((l) => [accountId(l.app, l.key), l]));
  for (const step of delta.links) {
    if (step.remove) links.delete(accountId(step.remove.app, step.remove.key));
    else links.set(accountId(step.set.app, step.set.key), step.set);
  }
  const imported = delta.imported.size === 0 ? state.imported : new Map(state.imported);
  for (const [app, change] of delta.imported) {
    const records = new Map(state.imported.get(app)?.records);
    for (const key of change.forget) records.delete(key);
    for (const [key, record] of change.set) records.set(key, record);
    imported.set(app, { columns: [...change.columns], records });
  }
  return {
    lineage: delta.lineage,
    serial: delta.serial,
    users: [...users.values()],
    links: [...links.values()],
    imported,
    watermarks: { ...state.watermarks, ...delta.watermarks },
    pipeline: delta.pipeline,
    edited: delta.edited,
    digest: null,
  };
}

/**
 * Positions of a state's users and links, for changing it in place: kept by the owner of the state
 * (the long-running server) and brought up to date by applyStateDeltaInPlace.
 */
export interface StatePositions {
  users: Map<string, number>;
  links: Map<string, number>;
}

export function statePositions(state: DirectoryState): StatePositions {
  const users = new Map<string, number>();
  state.users.forEach((u, i) => users.set(u.id, i));
  const links = new Map<string, number>();
  state.links.forEach((l, i) => links.set(accountId(l.app, l.key), i));
  return { users, links };
}

/**
 * Changes `state` (which the caller owns: nobody else may hold it) into the state after `delta`, with
 * the same content and order applyStateDelta gives, in time proportional to the delta (a removed link
 * costs a shift of the links after it). `positions` must describe `state` and is kept up to date.
 */
export function applyStateDeltaInPlace(state: DirectoryState, delta: StateDelta, positions: StatePositions): void {
  for (const u of delta.users) {
    const at = positions.users.get(u.id);
    if (at === undefined) {
      positions.users.set(u.id, state.users.length);
      state.users.push(u);
    } else {
      state.users[at] = u;
    }
  }
  for (const step of delta.links) {
    if (step.remove) {
      const id = accountId(step.remove.app, step.remove.key);
      const at = positions.links.get(id);
      if (at === undefined) continue;
      state.links.splice(at, 1);
      positions.links.delete(id);
      for (let i = at; i < state.links.length; i++) positions.links.set(accountId(state.links[i]!.app, state.links[i]!.key), i);
    } else {
      const id = accountId(step.set.app, step.set.key);
      const at = positions.links.get(id);
      if (at === undefined) {
        positions.links.set(id, state.links.length);
        state.links.push(step.set);
      } else {
        state.links[at] = step.set;
      }
    }
  }
  for (const [app, change] of delta.imported) {
    const before = state.imported.get(app);
    const records = before?.records ?? new Map<string, ImportedRecord>();
    for (const key of change.forget) records.delete(key);
    for (const [key, record] of change.set) records.set(key, record);
    state.imported.set(app, { columns: [...change.columns], records });
  }
  Object.assign(state.watermarks, delta.watermarks);
  state.lineage = delta.lineage;
  state.serial = delta.serial;
  state.pipeline = delta.pipeline;
  state.edited = delta.edited;
  state.digest = null;
}

/** One link change: set (new, or moved to another user), or removed. */
export type LinkStep = { set: StoredLink; remove?: undefined } | { remove: { app: string; key: string }; set?: undefined };
