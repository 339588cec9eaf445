/**
 * Stage 4, resolve: gathers each user's linked accounts after correlation and picks the primary profile
 * source: the highest-priority app in `profileSources` with a present linked account. Declared users are
 * always sourced by the directory. A user left with no source at all is sourced by the directory too.
 * Only users touched by this run (linked, newly created, missing or declared) are returned. With
 * `onlyChanged` (the state was last evaluated with this very config and nobody edited it since), a user
 * whose every account is paired `unchanged` is left out as well: the same inputs through the same config
 * give the record they already have. Users the config names (protected, `set:`) are always returned, so
 * their warnings and values are re-checked on every plan.
 */
import type { DeclaredUser } from '../schemas/generated/config.ts';
import type { Correlation, Pairing } from './correlate.ts';
import { newUserId } from './ids.ts';
import type { Project, SourceAccount, UserRecord } from './model.ts';

export interface SourcedUser {
  id: string;
  /** The stored user, or null when this run creates them. */
  current: UserRecord | null;
  declared: DeclaredUser | null;
  /** Present linked accounts by app, after this run's links. */
  accounts: LinkedAccounts;
  /** App name, or 'directory'. */
  primary: string;
  /** Apps whose linked account vanished from a full import in this run. */
  missingFrom: readonly string[];
  /** The app whose new account creates this user. */
  createdBy: string | null;
}

/**
 * A user's accounts by app, with the pairing that brought each: a small array, since a user has one
 * account in each of a few apps.
 */
export class LinkedAccounts {
  private readonly entries: Pairing[] = [];

  get size(): number {
    return this.entries.length;
  }

  get(app: string): SourceAccount | undefined {
    for (const p of this.entries) if (p.app === app) return p.account;
    return undefined;
  }

  set(pairing: Pairing): void {
    const i = this.entries.findIndex((p) => p.app === pairing.app);
    if (i >= 0) this.entries[i] = pairing;
    else this.entries.push(pairing);
  }

  *[Symbol.iterator](): Generator<[string, SourceAccount]> {
    for (const p of this.entries) yield [p.app, p.account];
  }

  /** The pairings, one per app. */
  pairings(): readonly Pairing[] {
    return this.entries;
  }
}

const NONE: readonly string[] = Object.freeze([]);

export interface Resolved {
  users: SourcedUser[];
  /** The pairings of those users (all of them, unless `onlyChanged` left users out). */
  pairings: Pairing[];
}

/** `tick`: called now and then (every few thousand pairings), for progress on long runs. */
export function resolveSources(project: Project, correlation: Correlation, options: { onlyChanged?: boolean; tick?: () => void } = {}): Resolved {
  const priority = new Map(project.profileSources.map((app, i) => [app, i]));
  const byId = new Map<string, SourcedUser>();
  const stored = (id: string) => (correlation.unstored.has(id) ? null : (correlation.byId.get(id) ?? null));
  const declaredByLogin = new Map(project.declaredUsers.map((d) => [d.login.toLowerCase(), d]));

  const entry = (id: string, current: UserRecord | null): SourcedUser => {
    let e = byId.get(id);
    if (!e) {
      const declared = current && declaredByLogin.size > 0 ? (declaredByLogin.get(current.login.toLowerCase()) ?? null) : null;
      e = { id, current, declared, accounts: new LinkedAccounts(), primary: 'directory', missingFrom: NONE, createdBy: null };
      byId.set(id, e);
    }
    return e;
  };

  for (const d of project.declaredUsers) {
    const current = correlation.named.get(d.login.toLowerCase()) ?? null;
    entry(current?.id ?? newUserId('directory', d.login.toLowerCase()), current).declared = d;
  }

  const keep = options.onlyChanged ? changedUsers(project, correlation) : null;
  const pairings = keep ? [] as Pairing[] : correlation.pairings;
  let done = 0;
  for (const p of correlation.pairings) {
    if (options.tick && (++done & 4095) === 0) options.tick();
    if (keep) {
      if (!keep(p.userId)) continue;
      pairings.push(p);
    }
    const e = entry(p.userId, stored(p.userId));
    e.accounts.set(p);
    if (p.kind === 'new') e.createdBy = p.app;
  }
  for (const m of correlation.missing) {
    const e = entry(m.userId, stored(m.userId));
    e.missingFrom = [...e.missingFrom, m.app];
  }

  // A stored user holding roles is evaluated even when no source reads them (a user once declared in
  // users:): roles come only from the config, so one whose entry is gone loses them.
  for (const u of correlation.users) {
    if (u.roles.length > 0 && !correlation.unstored.has(u.id)) entry(u.id, u);
  }

  for (const e of byId.values()) {
    if (e.declared) continue;
    let best: string | null = null;
    for (const { app } of e.accounts.pairings()) {
      if (!priority.has(app)) continue;
      if (best === null || priority.get(app)! < priority.get(best)!) best = app;
    }
    e.primary = best ?? 'directory';
  }
  return { users: [...byId.values()], pairings };
}

/**
 * Whether a user must be evaluated although the state was evaluated with this config: one of their
 * pairings is not unchanged, one of their accounts went missing or moved, or the config singles them out
 * (declared, not stored yet, protected, `set:`).
 */
function changedUsers(project: Project, correlation: Correlation): (userId: string) => boolean {
  const touched = new Set<string>(correlation.unstored);
  for (const p of correlation.pairings) if (!p.unchanged) touched.add(p.userId);
  for (const m of correlation.missing) touched.add(m.userId);
  for (const r of correlation.relinked) touched.add(r.userId);
  // The users the config singles out are few: found in one pass, not looked up per pairing.
  for (const u of correlation.users) if (u.roles.length > 0) touched.add(u.id);
  for (const login of project.setValues.keys()) {
    const u = correlation.named.get(login);
    if (u) touched.add(u.id);
  }
  // A pairing names a stored user, or a new one (not unchanged, so touched).
  return (userId) => touched.has(userId);
}
