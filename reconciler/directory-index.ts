/**
 * A whole directory held by a long-running process, with hash indexes beside it, so that a JIT sign-in
 * finds the few users it concerns (jit-slice.ts) without a pass over a million: users by id and by any
 * `unique` attribute (login among them: normalised value → users), links by account and by user, every
 * import app's matching rules (user key → users), and the counts the safeguards take as their base.
 * The index owns the state it is built on (nobody else may change it): built once in O(users + links),
 * `apply` changes the state in place by a state delta and brings the indexes up to date, both in
 * O(delta). Users and links keep the state's order, so a slice lists them as the state does.
 */
import type { CompiledMatchRule } from './match-rules.ts';
import { accountId, type DirectoryState, type Project, type StoredLink, type UserRecord } from './model.ts';
import type { Population } from './safeguards.ts';
import { applyStateDeltaInPlace, statePositions, type StateDelta, type StatePositions } from './state-delta.ts';

/** One holder, or several (a clash, an ambiguous match, a user's links). */
type Some<T> = T | T[];

export class DirectoryIndex {
  readonly state: DirectoryState;
  private readonly positions: StatePositions;
  private readonly userLinks = new Map<string, Some<StoredLink>>();
  private readonly rules: { rule: CompiledMatchRule; index: Map<string, Some<UserRecord>> }[];
  private readonly unique: { name: string; index: Map<string, Some<UserRecord>> }[];
  private readonly usersBySource = new Map<string, number>();
  private readonly linksByApp = new Map<string, number>();
  /** The attributes compared for uniqueness (uniqueAttributes). */
  readonly uniqueNames: readonly string[];

  constructor(project: Project, state: DirectoryState) {
    this.state = state;
    this.positions = statePositions(state);
    const rules = new Map<string, CompiledMatchRule>();
    for (const app of Object.values(project.apps)) for (const rule of app.import?.match ?? []) rules.set(rule.id, rule);
    this.rules = [...rules.values()].map((rule) => ({ rule, index: new Map() }));
    const unique = uniqueAttributes(project);
    this.uniqueNames = unique;
    // Logins are always indexed (links: entries and declared users name users by login).
    this.unique = [...new Set(['login', ...unique])].map((name) => ({ name, index: new Map() }));
    for (const user of state.users) this.addUser(user);
    for (const link of state.links) this.addLink(link);
  }

  user(id: string): UserRecord | undefined {
    const at = this.positions.users.get(id);
    return at === undefined ? undefined : this.state.users[at];
  }

  /** Users with this login (case-insensitive): one, or none. */
  byLogin(login: string): readonly UserRecord[] {
    return this.holding('login', login);
  }

  link(app: string, key: string): StoredLink | undefined {
    const at = this.positions.links.get(accountId(app, key));
    return at === undefined ? undefined : this.state.links[at];
  }

  /** The links of these users, in the state's order. */
  linksOf(users: Iterable<string>): StoredLink[] {
    const found: { link: StoredLink; at: number }[] = [];
    for (const userId of users) {
      for (const link of list(this.userLinks.get(userId))) found.push({ link, at: this.positions.links.get(accountId(link.app, link.key))! });
    }
    return found.sort((a, b) => a.at - b.at).map((e) => e.link);
  }

  /** The users a rule's key finds (the rule's own user index, as correlation builds it). */
  matching(rule: CompiledMatchRule, key: string): readonly UserRecord[] {
    return list(this.rules.find((r) => r.rule.id === rule.id)?.index.get(key));
  }

  /** The users holding this value of a `unique` attribute (or login), compared as the plan compares them. */
  holding(attribute: string, value: unknown): readonly UserRecord[] {
    const norm = uniqueValue(value);
    return norm === null ? [] : list(this.unique.find((u) => u.name === attribute)?.index.get(norm));
  }


  /** The users of these ids, in the state's order (ids of no user left out). */
  inStateOrder(ids: Iterable<string>): UserRecord[] {
    const at: number[] = [];
    for (const id of ids) {
      const p = this.positions.users.get(id);
      if (p !== undefined) at.push(p);
    }
    return at.sort((a, b) => a - b).map((p) => this.state.users[p]!);
  }

  /** The safeguards' bases, as populationOf counts them on the whole state. */
  population(): Population {
    const users = new Map<string, number>([['all', this.state.users.length], ...this.usersBySource]);
    const accounts = new Map<string, number>([['all', 0]]);
    for (const [app, records] of this.state.imported) accounts.set(app, records.records.size);
    for (const [app, n] of this.linksByApp) accounts.set(app, Math.max(accounts.get(app) ?? 0, n));
    for (const [app, n] of accounts) if (app !== 'all') accounts.set('all', accounts.get('all')! + n);
    return { users, accounts };
  }

  /** Changes the state by `delta`, in place, and the indexes with it. */
  apply(delta: StateDelta): void {
    for (const user of delta.users) {
      const before = this.user(user.id);
      if (before) this.removeUser(before);
      this.addUser(user);
    }
    // The link each account has as the steps go (a delta may set and remove one account's link).
    const now = new Map<string, StoredLink | null>();
    for (const step of delta.links) {
      const { app, key } = step.set ?? step.remove;
      const id = accountId(app, key);
      const before = now.has(id) ? now.get(id) : this.link(app, key);
      if (before) this.removeLink(before);
      if (step.set) this.addLink(step.set);
      now.set(id, step.set ?? null);
    }
    applyStateDeltaInPlace(this.state, delta, this.positions);
  }

  private addUser(user: UserRecord): void {
    for (const { rule, index } of this.rules) {
      const key = rule.userKey(user);
      if (key !== null) add(index, key, user);
    }
    for (const { name, index } of this.unique) {
      const norm = uniqueValue(name === 'login' ? user.login : user.profile[name]);
      if (norm !== null) add(index, norm, user);
    }
    bump(this.usersBySource, user.profileSource, 1);
  }

  private removeUser(user: UserRecord): void {
    for (const { rule, index } of this.rules) {
      const key = rule.userKey(user);
      if (key !== null) remove(index, key, user);
    }
    for (const { name, index } of this.unique) {
      const norm = uniqueValue(name === 'login' ? user.login : user.profile[name]);
      if (norm !== null) remove(index, norm, user);
    }
    bump(this.usersBySource, user.profileSource, -1);
  }

  private addLink(link: StoredLink): void {
    add(this.userLinks, link.userId, link);
    bump(this.linksByApp, link.app, 1);
  }

  private removeLink(link: StoredLink): void {
    remove(this.userLinks, link.userId, link);
    bump(this.linksByApp, link.app, -1);
  }
}

/** login and every attribute declared `unique: true`: the values the plan refuses to see twice. */
export function uniqueAttributes(project: Pick<Project, 'attributes'>): string[] {
  return Object.entries(project.attributes).filter(([n, a]) => a.unique || n === 'login').map(([n]) => n);
}

/** A value as uniqueness compares it: strings case-insensitively, other values as JSON; unset is null. */
export function uniqueValue(value: unknown): string | null {
  if (value === undefined || value === '') return null;
  return typeof value === 'string' ? value.toLowerCase() : JSON.stringify(value);
}

function list<T>(some: Some<T> | undefined): readonly T[] {
  return some === undefined ? [] : Array.isArray(some) ? some : [some];
}

function add<T>(index: Map<string, Some<T>>, key: string, value: T): void {
  const prior = index.get(key);
  if (prior === undefined) index.set(key, value);
  else if (Array.isArray(prior)) prior.push(value);
  else index.set(key, [prior, value]);
}

/** Removes `value` (the very object) from the key's holders. */
function remove<T>(index: Map<string, Some<T>>, key: string, value: T): void {
  const prior = index.get(key);
  if (prior === undefined) return;
  if (!Array.isArray(prior)) {
    if (prior === value) index.delete(key);
    return;
  }
  const rest = prior.filter((v) => v !== value);
  if (rest.length === 0) index.delete(key);
  else index.set(key, rest.length === 1 ? rest[0]! : rest);
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}
