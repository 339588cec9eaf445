/**
 * The part of the directory a JIT run's accounts concern, so that the run plans on a handful of users
 * instead of a million and still comes to what a plan on the whole directory says of those accounts.
 * A JIT snapshot is partial: every other account of every source is taken from its stored record, linked
 * as before and unchanged, so it changes nobody and matches nobody; what can touch the run's accounts is
 * - the user each account is linked to, the user a `links:` entry pins it to, and every user any of the
 *   app's matching rules (exact or partial) finds for it;
 * - the declared users and the users `set:` names (the config singles them out on every plan);
 * - and, for each of those users, all their links and the stored records behind them (their other
 *   sources decide their profile source and values, and another account of the same app linked to a
 *   matched user is a conflict).
 * A new value can also clash with a `unique` attribute of anyone: `clashingHolders` names the users
 * outside the slice that hold a value one of the plan's users takes, and the caller plans again with
 * them in (jit-run.ts). The slice lists users and links in the state's order, and the safeguards take
 * their bases from the whole directory (DirectoryIndex.population), so verdicts and messages are those
 * of the full plan. Pure.
 */
import type { UserChange } from '../schemas/generated/plan.ts';
import type { DirectoryIndex } from './directory-index.ts';
import type { AppRecords, DirectoryState, Project, SourceAccount } from './model.ts';

/** The slice of `state` that planning `accounts` of `app` needs; `extra`: more user ids to take in. */
export function jitSlice(project: Project, index: DirectoryIndex, app: string, accounts: readonly Pick<SourceAccount, 'key' | 'attributes'>[], extra: Iterable<string> = []): DirectoryState {
  const state = index.state;
  const ids = new Set<string>(extra);
  const byLogin = (login: string) => {
    for (const u of index.byLogin(login)) ids.add(u.id);
  };
  const rules = project.apps[app]?.import?.match ?? [];
  for (const account of accounts) {
    const link = index.link(app, account.key);
    if (link) ids.add(link.userId);
    for (const pin of project.links) if (pin.app === app && pin.key === account.key) byLogin(pin.user);
    for (const rule of rules) {
      const key = rule.accountKey(account.attributes);
      if (key !== null) for (const u of index.matching(rule, key)) ids.add(u.id);
    }
  }
  for (const d of project.declaredUsers) byLogin(d.login);
  for (const login of project.setValues.keys()) byLogin(login);

  const users = index.inStateOrder(ids);
  const links = index.linksOf(users.map((u) => u.id));

  // Each app's records: those behind the slice's links, and those of the run's own accounts.
  const wanted = new Map<string, Set<string>>();
  const want = (a: string, key: string) => {
    let keys = wanted.get(a);
    if (!keys) wanted.set(a, (keys = new Set()));
    keys.add(key);
  };
  for (const l of links) want(l.app, l.key);
  for (const account of accounts) want(app, account.key);
  const imported = new Map<string, AppRecords>();
  for (const [name, stored] of state.imported) {
    const records: AppRecords['records'] = new Map();
    for (const key of wanted.get(name) ?? []) {
      const record = stored.records.get(key);
      if (record) records.set(key, record);
    }
    imported.set(name, { columns: stored.columns, records });
  }
  return { ...state, users, links, imported };
}

/**
 * The users outside `slice` who hold a value of a `unique` attribute (or login) that one of `changes`
 * takes: planned in with the slice, they make the plan see the clash a full plan sees.
 */
export function clashingHolders(index: DirectoryIndex, slice: Pick<DirectoryState, 'users'>, changes: readonly UserChange[]): string[] {
  const inside = new Set(slice.users.map((u) => u.id));
  const found = new Set<string>();
  for (const change of changes) {
    for (const name of index.uniqueNames) {
      const value = name === 'login' ? change.after.login : change.after.profile[name];
      for (const holder of index.holding(name, value)) if (!inside.has(holder.id) && holder.id !== change.id) found.add(holder.id);
    }
  }
  return [...found];
}
