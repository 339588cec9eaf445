/**
 * Hash indexes over a whole directory that a long-running process keeps beside its state, so that a JIT
 * sign-in finds the few users it concerns (jit-slice.ts) without a pass over a million: users by id and
 * by login, each user's links, links by account, every import app's matching rules (user key → users),
 * the `unique` attributes (normalised value → users), and the counts the safeguards take as their base.
 * Built once from a state in O(users + links); `apply` brings it up to date with a state delta in
 * O(delta), before or after the state itself is changed (it keeps what it needs of the old values).
 * Users and links carry the order they have in the state, so a slice lists them as the state does.
 */
import type { CompiledMatchRule } from './match-rules.ts';
import { accountId, type DirectoryState, type Project, type StoredLink, type UserRecord } from './model.ts';
import type { Population } from './safeguards.ts';
import type { StateDelta } from './state-delta.ts';

/** Values that hold one user, or several (a clash, or an ambiguous match). */
type Holders = UserRecord | UserRecord[];

export class DirectoryIndex {
  private readonly users = new Map<string, { user: UserRecord; order: number }>();
  private readonly logins = new Map<string, Holders>();
  private readonly links = new Map<string, { link: StoredLink; order: number }>();
  private readonly userLinks = new Map<string, Set<string>>();
  private readonly rules: { rule: CompiledMatchRule; index: Map<string, Holders> }[];
  private readonly unique: { name: string; index: Map<string, Holders> }[];
  private readonly usersBySource = new Map<string, number>();
  private readonly linksByApp = new Map<string, number>();
  private nextUser = 0;
  private nextLink = 0;

  constructor(project: Project, state: DirectoryState) {
    const rules = new Map<string, CompiledMatchRule>();
    for (const app of Object.values(project.apps)) for (const rule of app.import?.match ?? []) rules.set(rule.id, rule);
    this.rules = [...rules.values()].map((rule) => ({ rule, index: new Map() }));
    this.unique = uniqueAttributes(project).map((name) => ({ name, index: new Map() }));
    for (const user of state.users) this.addUser(user, this.nextUser++);
    for (const link of state.links) this.addLink(link, this.nextLink++);
  }

  user(id: string): UserRecord | undefined {
    return this.users.get(id)?.user;
  }

  /** Users with this login (case-insensitive): one, or none. */
  byLogin(login: string): readonly UserRecord[] {
    return list(this.logins.get(login.toLowerCase()));
  }

  link(app: string, key: string): StoredLink | undefined {
    return this.links.get(accountId(app, key))?.link;
  }

  /** The links of these users, in the state's order. */
  linksOf(users: Iterable<string>): StoredLink[] {
    const entries: { link: StoredLink; order: number }[] = [];
    for (const userId of users) for (const id of this.userLinks.get(userId) ?? []) entries.push(this.links.get(id)!);
    return entries.sort((a, b) => a.order - b.order).map((e) => e.link);
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

  /** The names of the attributes compared for uniqueness (login and every `unique: true` one). */
  get uniqueNames(): readonly string[] {
    return this.unique.map((u) => u.name);
  }

  /** Sorts user ids in the state's order of their users (ids the index does not know last). */
  inStateOrder(ids: Iterable<string>): UserRecord[] {
    return [...ids].flatMap((id) => {
      const e = this.users.get(id);
      return e ? [e] : [];
    }).sort((a, b) => a.order - b.order).map((e) => e.user);
  }

  /** The safeguards' bases: users per profile source and accounts per app, as populationOf counts them on the state. */
  population(state: Pick<DirectoryState, 'imported'>): Population {
    const users = new Map<string, number>([['all', this.users.size], ...this.usersBySource]);
    const accounts = new Map<string, number>([['all', 0]]);
    for (const [app, records] of state.imported) accounts.set(app, records.records.size);
    for (const [app, n] of this.linksByApp) accounts.set(app, Math.max(accounts.get(app) ?? 0, n));
    for (const [app, n] of accounts) if (app !== 'all') accounts.set('all', accounts.get('all')! + n);
    return { users, accounts };
  }

  /** Takes a state delta in (the state's own in-place update keeps the same order). */
  apply(delta: StateDelta): void {
    for (const user of delta.users) {
      const before = this.users.get(user.id);
      if (before) this.removeUser(before.user);
      this.addUser(user, before?.order ?? this.nextUser++);
    }
    for (const step of delta.links) {
      if (step.remove) {
        const id = accountId(step.remove.app, step.remove.key);
        const before = this.links.get(id);
        if (before) this.removeLink(before.link);
      } else {
        const before = this.links.get(accountId(step.set.app, step.set.key));
        if (before) this.removeLink(before.link);
        this.addLink(step.set, before?.order ?? this.nextLink++);
      }
    }
  }

  private addUser(user: UserRecord, order: number): void {
    this.users.set(user.id, { user, order });
    add(this.logins, user.login.toLowerCase(), user);
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
    this.users.delete(user.id);
    remove(this.logins, user.login.toLowerCase(), user);
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

  private addLink(link: StoredLink, order: number): void {
    const id = accountId(link.app, link.key);
    this.links.set(id, { link, order });
    let mine = this.userLinks.get(link.userId);
    if (!mine) this.userLinks.set(link.userId, (mine = new Set()));
    mine.add(id);
    bump(this.linksByApp, link.app, 1);
  }

  private removeLink(link: StoredLink): void {
    const id = accountId(link.app, link.key);
    this.links.delete(id);
    const mine = this.userLinks.get(link.userId);
    mine?.delete(id);
    if (mine?.size === 0) this.userLinks.delete(link.userId);
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

function list(holders: Holders | undefined): readonly UserRecord[] {
  return holders === undefined ? [] : Array.isArray(holders) ? holders : [holders];
}

function add(index: Map<string, Holders>, key: string, user: UserRecord): void {
  const prior = index.get(key);
  if (prior === undefined) index.set(key, user);
  else if (Array.isArray(prior)) prior.push(user);
  else index.set(key, [prior, user]);
}

function remove(index: Map<string, Holders>, key: string, user: UserRecord): void {
  const prior = index.get(key);
  if (prior === undefined) return;
  if (!Array.isArray(prior)) {
    if (prior.id === user.id) index.delete(key);
    return;
  }
  const rest = prior.filter((u) => u.id !== user.id);
  if (rest.length === 0) index.delete(key);
  else index.set(key, rest.length === 1 ? rest[0]! : rest);
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}
