/**
 * Stage 3, correlate: pairs every account of every import source with a directory user, or with none.
 * Order of precedence: a stored link, then a `links:` entry in the config, then the app's ordered matching
 * rules (exact rules first, then partial rules, which only ever make review items). Nothing is guessed: duplicate keys, an account matching
 * several users, several accounts matching one user and matches on declared users become conflicts.
 * Linked accounts absent from a full import are reported as missing, except when rows could not be read.
 * An account linked as before whose values are the ones stored at the last import (one packed-string
 * comparison) is paired `unchanged`, so later stages can leave its user alone.
 */
import type { PlanIssue, ReviewItem } from '../schemas/generated/plan.ts';
import { newUserId } from './ids.ts';
import { MatchIndexes } from './match-index.ts';
import type { DirectoryState, Project, SourceAccount, SourceSnapshot, StoredLink, UserRecord } from './model.ts';
import { matchesPacked } from './records.ts';

export type Pairing =
  | {
    kind: 'linked'; app: string; account: SourceAccount; userId: string; via: 'state' | 'config' | 'match';
    /** The state links this account to this user already. */
    linked: boolean;
    /** Linked as before, with the values stored at the last import (or not read in this run). */
    unchanged: boolean;
  }
  | { kind: 'new'; app: string; account: SourceAccount; userId: string; linked: false; unchanged: false };

export interface MissingAccount {
  app: string;
  key: string;
  userId: string;
}

export interface Correlation {
  /** Directory users known before this run: stored users plus declared users not stored yet. */
  users: readonly UserRecord[];
  /** Ids in `users` of declared users that are not stored yet. */
  unstored: Set<string>;
  /** `users` by id (indexed on first use: a plan of unchanged accounts seldom asks). */
  byId: UsersById;
  /** The stored users the config names (declared, or given values by `set:`), by lower-cased login. */
  named: ReadonlyMap<string, UserRecord>;
  pairings: Pairing[];
  missing: MissingAccount[];
  /** Stored links that a `links:` entry moves to another user. */
  relinked: StoredLink[];
  reviews: ReviewItem[];
  conflicts: PlanIssue[];
  warnings: PlanIssue[];
}

/** Told how many accounts are correlated so far, now and then (for progress on long runs). */
export type Tick = (done: number, total: number) => void;

/**
 * `trustLinks`: the state is as idplane wrote it (not edited outside idplane), so every stored link
 * names a stored user and need not be looked up (a million lookups in a no-change plan).
 */
export function correlate(project: Project, state: DirectoryState, sources: SourceSnapshot[], columns: ReadonlyMap<string, readonly string[]> = new Map(), tick?: Tick, trustLinks = false): Correlation {
  // One pass over the stored users for every login the config names.
  const named = storedLogins(state.users, [...project.declaredUsers.map((d) => d.login), ...project.setValues.keys()]);
  const users = directoryUsers(project, state, named);
  const unstored = new Set(users.slice(state.users.length).map((u) => u.id));
  const byId = new UsersById(users);
  let byLoginIndex: Map<string, UserRecord> | null = null; // only `links:` entries look users up by login
  const byLogin = () => (byLoginIndex ??= new Map(users.map((u) => [u.login.toLowerCase(), u])));
  const declared = new Set(project.declaredUsers.map((u) => u.login.toLowerCase()));
  const out: Correlation = { users, unstored, byId, named, pairings: [], missing: [], relinked: [], reviews: [], conflicts: [], warnings: [] };
  const indexes = new MatchIndexes(users);

  // Sources are correlated in priority order, so that a lower-priority source's accounts can match
  // users that a higher-priority source creates in this same run.
  const priority = new Map(project.profileSources.map((app, i) => [app, i]));
  const ordered = [...sources].sort((a, b) => (priority.get(a.app) ?? Infinity) - (priority.get(b.app) ?? Infinity));
  const total = sources.reduce((n, s) => n + s.accounts.length, 0);
  let done = 0;
  for (const [position, snapshot] of ordered.entries()) {
    const app = project.apps[snapshot.app];
    if (!app?.import) continue;
    const imp = app.import;
    const stored = new Map<string, StoredLink>();
    for (const link of state.links) if (link.app === snapshot.app) stored.set(link.key, link);
    const pinned = new Map<string, string>();
    for (const link of project.links) if (link.app === snapshot.app) pinned.set(link.key, link.user);
    const records = state.imported.get(snapshot.app)?.records;
    const packing = columns.get(snapshot.app) ?? [];
    /** Linked (by `link`) to `userId` before, with the values stored then. */
    const unchanged = (account: SourceAccount, link: StoredLink | undefined, userId: string): boolean => {
      if (link?.userId !== userId) return false;
      if (account.stored) return true;
      const prior = records?.get(account.key);
      return prior !== undefined && matchesPacked(packing, account.attributes, prior.values);
    };
    let linksSeen = 0; // accounts of this snapshot the state has a link for

    const { unique, duplicates } = splitDuplicates(snapshot.accounts);
    for (const [key, lines] of duplicates) {
      out.conflicts.push({
        code: 'duplicate-key', app: snapshot.app, key, line: lines[0],
        message: `key ${JSON.stringify(key)} appears on ${lines.length} rows (lines ${lines.join(', ')}); none of them is imported`,
        resolution: `make ${app.key} unique in ${snapshot.app}`,
      });
    }

    const first = out.pairings.length; // this snapshot's pairings start here
    const unlinked: SourceAccount[] = [];
    for (const account of unique.values()) {
      if (tick && (++done & 4095) === 0) tick(done, total);
      const pinnedLogin = pinned.get(account.key);
      if (pinnedLogin !== undefined) {
        const user = byLogin().get(pinnedLogin.toLowerCase());
        if (!user) {
          out.conflicts.push({
            code: 'stale-link', app: snapshot.app, key: account.key, line: account.line, users: [pinnedLogin],
            message: `links: pins ${snapshot.app}/${account.key} to ${pinnedLogin}, but no such user exists`,
            resolution: 'fix or remove the links: entry',
          });
          continue;
        }
        const prior = stored.get(account.key);
        if (prior) linksSeen += 1;
        if (prior && prior.userId !== user.id) out.relinked.push(prior);
        out.pairings.push({ kind: 'linked', app: snapshot.app, account, userId: user.id, via: 'config', linked: prior?.userId === user.id, unchanged: unchanged(account, prior, user.id) });
        continue;
      }
      const link = stored.get(account.key);
      if (link) linksSeen += 1;
      if (link && (trustLinks || byId.has(link.userId))) {
        out.pairings.push({ kind: 'linked', app: snapshot.app, account, userId: link.userId, via: 'state', linked: true, unchanged: unchanged(account, link, link.userId) });
        continue;
      }
      unlinked.push(account);
    }

    // A pin whose account the full read does not have pins nothing: said, not ignored (a partial read may just not carry it).
    if (!snapshot.partial) {
      for (const [key, login] of pinned) {
        if (unique.has(key) || duplicates.has(key)) continue;
        out.warnings.push({
          code: 'stale-link', app: snapshot.app, key, users: [login],
          message: `links: pins ${snapshot.app}/${key} to ${login}, but ${snapshot.app} has no account ${key}; the entry does nothing until one appears`,
          resolution: 'fix the key, or remove the links: entry',
        });
      }
    }

    // Match the unlinked accounts; collect every claim first so that a user claimed twice is never guessed.
    const claims = new Map<string, SourceAccount[]>();
    const matched = new Map<SourceAccount, UserRecord>();
    let tried = 0; // each account was counted above already: these ticks report no more
    for (const account of unlinked) {
      if (tick && (++tried & 4095) === 0) tick(done, total);
      const result = indexes.match(imp.match, account.attributes);
      if (result.kind === 'ambiguous') {
        out.conflicts.push({
          code: 'ambiguous-match', app: snapshot.app, key: account.key, line: account.line, users: result.users.map((u) => u.login),
          message: `rule ${result.rule.label} matches ${result.users.length} users; idplane never guesses`,
          resolution: `pin it: links: [{ app: ${snapshot.app}, key: ${JSON.stringify(account.key)}, user: <login> }]`,
        });
      } else if (result.kind === 'partial') {
        const logins = result.users.map((u) => u.login);
        out.reviews.push({
          kind: 'partial', app: snapshot.app, key: account.key, line: account.line, candidates: logins,
          message: `partial rule ${result.rule.label} matches ${logins.join(', ')}; partial matches always need review`,
          resolution: `if it is the same person: links: [{ app: ${snapshot.app}, key: ${JSON.stringify(account.key)}, user: ${logins.length === 1 ? logins[0] : '<login>'} }]`,
        });
      } else if (result.kind === 'match') {
        matched.set(account, result.user);
        const list = claims.get(result.user.id) ?? [];
        list.push(account);
        claims.set(result.user.id, list);
      } else if (imp.onNoMatch === 'create') {
        out.pairings.push({ kind: 'new', app: snapshot.app, account, userId: newUserId(snapshot.app, account.key), linked: false, unchanged: false });
      } else if (imp.onNoMatch === 'review') {
        out.reviews.push({
          kind: 'no-match', app: snapshot.app, key: account.key, line: account.line, candidates: [],
          message: 'no user matches and onNoMatch is review',
          resolution: `pin it to an existing user with links: [{ app: ${snapshot.app}, key: ${JSON.stringify(account.key)}, user: <login> }], or set onNoMatch: create`,
        });
      }
    }
    // userId → key of this snapshot's accounts linked by the state or the config (only when something matched).
    const linkedUsers = new Map<string, string>();
    if (matched.size > 0) {
      for (let i = first; i < out.pairings.length; i++) {
        const p = out.pairings[i]!;
        if (p.kind === 'linked') linkedUsers.set(p.userId, p.account.key);
      }
    }
    for (const [account, user] of matched) {
      const rivals = claims.get(user.id) ?? [];
      const linkedKey = linkedUsers.get(user.id);
      const pin = `links: [{ app: ${snapshot.app}, key: ${JSON.stringify(account.key)}, user: ${user.login} }]`;
      if (rivals.length > 1) {
        out.conflicts.push({
          code: 'ambiguous-match', app: snapshot.app, key: account.key, line: account.line, users: [user.login],
          message: `${rivals.length} accounts (${rivals.map((a) => a.key).join(', ')}) match user ${user.login}; idplane never guesses`,
          resolution: `pin the right one: ${pin}`,
        });
      } else if (linkedKey !== undefined) {
        out.conflicts.push({
          code: 'already-linked', app: snapshot.app, key: account.key, line: account.line, users: [user.login],
          message: `matches user ${user.login}, who is already linked to ${snapshot.app}/${linkedKey}`,
          resolution: `fix the duplicate in ${snapshot.app}, or move the link with ${pin}`,
        });
      } else if (declared.has(user.login.toLowerCase())) {
        out.conflicts.push({
          code: 'declared-user-match', app: snapshot.app, key: account.key, line: account.line, users: [user.login],
          message: `matches declared user ${user.login}; declared users are never linked silently`,
          resolution: `link it on purpose with ${pin}`,
        });
      } else if (imp.onMatch === 'review') {
        out.reviews.push({
          kind: 'match', app: snapshot.app, key: account.key, line: account.line, candidates: [user.login],
          message: `matches ${user.login} and onMatch is review`,
          resolution: `confirm with ${pin}`,
        });
      } else {
        // A stored link to a user that exists pairs the account through the state: this one had none.
        out.pairings.push({ kind: 'linked', app: snapshot.app, account, userId: user.id, via: 'match', linked: false, unchanged: false });
      }
    }

    // Every stored link's account is here (the usual case): nothing can be missing, no need to look.
    if (linksSeen !== stored.size || snapshot.rowErrors.length > 0) findMissing(snapshot, stored, unique, duplicates, out);
    indexNewUsers(project, snapshot.app, ordered.slice(position + 1), out.pairings, indexes);
  }
  return out;
}

/**
 * Adds the users a source creates in this run to the match indexes, with the attributes later sources'
 * rules compare, evaluated from the creating account's mappings. An expression that fails here is
 * reported by the map stage; the account is then simply not matchable.
 */
function indexNewUsers(project: Project, app: string, later: SourceSnapshot[], pairings: Pairing[], indexes: MatchIndexes): void {
  const rules = later.flatMap((s) => project.apps[s.app]?.import?.match ?? []);
  if (rules.length === 0) return;
  const everything = rules.some((r) => r.userAttributes === null);
  const wanted = new Set(rules.flatMap((r) => r.userAttributes ?? []));
  const mappings = (project.apps[app]?.import?.mappings ?? []).filter((m) => everything || wanted.has(m.attribute) || m.attribute === 'login');
  for (const p of pairings) {
    if (p.kind !== 'new' || p.app !== app) continue;
    const profile: UserRecord['profile'] = {};
    for (const m of mappings) {
      try {
        const value = m.expression.evaluate({ app: p.account.attributes, source: app });
        if (typeof value === 'string' || typeof value === 'number') profile[m.attribute] = value;
      } catch {
        // reported by the map stage
      }
    }
    const login = typeof profile.login === 'string' ? profile.login : `${app}/${p.account.key}`;
    indexes.add({ id: p.userId, login, status: 'STAGED', profile, profileSource: app, roles: [] });
  }
}

function findMissing(
  snapshot: SourceSnapshot,
  stored: Map<string, StoredLink>,
  present: Map<string, SourceAccount>,
  duplicates: Map<string, number[]>,
  out: Correlation,
): void {
  if (snapshot.partial) return;
  const unreadable = snapshot.rowErrors.filter((e) => e.key === undefined);
  if (unreadable.length > 0) {
    out.warnings.push({
      code: 'missing-suspended', app: snapshot.app,
      message: `${unreadable.length} row(s) of ${snapshot.app} could not be read, so no account of ${snapshot.app} is treated as missing in this run`,
      resolution: 'fix the rows reported above',
    });
    return;
  }
  const unreadableKeys = new Set(snapshot.rowErrors.map((e) => e.key));
  for (const link of stored.values()) {
    if (present.has(link.key) || duplicates.has(link.key) || unreadableKeys.has(link.key)) continue;
    out.missing.push({ app: link.app, key: link.key, userId: link.userId });
  }
}

function splitDuplicates(accounts: SourceAccount[]) {
  const unique = new Map<string, SourceAccount>();
  const duplicates = new Map<string, number[]>();
  for (const account of accounts) {
    const first = unique.get(account.key);
    if (first === undefined) {
      if (!duplicates.has(account.key)) unique.set(account.key, account);
      else duplicates.get(account.key)!.push(account.line ?? 0);
      continue;
    }
    duplicates.set(account.key, [first.line ?? 0, account.line ?? 0]);
    unique.delete(account.key);
  }
  return { unique, duplicates };
}

/** Users by id, the index made on the first lookup. */
export class UsersById {
  #users: readonly UserRecord[];
  #index: Map<string, UserRecord> | null = null;

  constructor(users: readonly UserRecord[]) {
    this.#users = users;
  }

  get(id: string): UserRecord | undefined {
    if (!this.#index) {
      this.#index = new Map();
      for (const u of this.#users) this.#index.set(u.id, u);
    }
    return this.#index.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }
}

/** Declared users not stored yet get their deterministic id so matches against them are still caught. */
function directoryUsers(project: Project, state: DirectoryState, named: ReadonlyMap<string, UserRecord>): readonly UserRecord[] {
  const unstored = project.declaredUsers.filter((d) => !named.has(d.login.toLowerCase()));
  // Usually every declared user is stored: the stored list itself then, not a copy of a million.
  if (unstored.length === 0) return state.users;
  return [...state.users, ...unstored.map((d): UserRecord => ({
    id: newUserId('directory', d.login.toLowerCase()), login: d.login, status: d.status ?? 'ACTIVE',
    profile: { ...(d.profile as object), login: d.login }, profileSource: 'directory', roles: d.roles ?? [],
  }))];
}

/** The stored users whose login is one of `logins` (case-insensitive), by lower-cased login; no index of all. */
export function storedLogins(users: readonly UserRecord[], logins: readonly string[]): Map<string, UserRecord> {
  const found = new Map<string, UserRecord>();
  if (logins.length === 0) return found;
  const wanted = new Set(logins.map((l) => l.toLowerCase()));
  for (const u of users) {
    const lower = u.login.toLowerCase();
    if (wanted.has(lower) && !found.has(lower)) found.set(lower, u);
  }
  return found;
}
