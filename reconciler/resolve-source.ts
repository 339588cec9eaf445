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

/** A user's accounts by app: a flat array, since a user has one account in each of a few apps. */
export class LinkedAccounts {
  private readonly entries: (string | SourceAccount)[] = [];

  get size(): number {
    return this.entries.length / 2;
  }

  get(app: string): SourceAccount | undefined {
    for (let i = 0; i < this.entries.length; i += 2) if (this.entries[i] === app) return this.entries[i + 1] as SourceAccount;
    return undefined;
  }

  set(app: string, account: SourceAccount): void {
    for (let i = 0; i < this.entries.length; i += 2) {
      if (this.entries[i] === app) {
        this.entries[i + 1] = account;
        return;
      }
    }
    this.entries.push(app, account);
  }

  *[Symbol.iterator](): Generator<[string, SourceAccount]> {
    for (let i = 0; i < this.entries.length; i += 2) yield [this.entries[i] as string, this.entries[i + 1] as SourceAccount];
  }

  apps(): string[] {
    return this.entries.filter((_, i) => i % 2 === 0) as string[];
  }
}

const NONE: readonly string[] = Object.freeze([]);

export interface Resolved {
  users: SourcedUser[];
  /** The pairings of those users (all of them, unless `onlyChanged` left users out). */
  pairings: Pairing[];
}

export function resolveSources(project: Project, correlation: Correlation, options: { onlyChanged?: boolean } = {}): Resolved {
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

  const idByLogin = new Map<string, string>();
  for (const u of correlation.users) {
    if (declaredByLogin.size === 0) break;
    const lower = u.login.toLowerCase();
    if (declaredByLogin.has(lower) && !idByLogin.has(lower)) idByLogin.set(lower, u.id);
  }
  for (const d of project.declaredUsers) {
    const id = idByLogin.get(d.login.toLowerCase()) ?? newUserId('directory', d.login.toLowerCase());
    entry(id, stored(id)).declared = d;
  }

  const keep = options.onlyChanged ? changedUsers(project, correlation) : null;
  const pairings = keep ? [] as Pairing[] : correlation.pairings;
  for (const p of correlation.pairings) {
    if (keep) {
      if (!keep(p.userId)) continue;
      pairings.push(p);
    }
    const e = entry(p.userId, stored(p.userId));
    e.accounts.set(p.app, p.account);
    if (p.kind === 'new') e.createdBy = p.app;
  }
  for (const m of correlation.missing) {
    const e = entry(m.userId, stored(m.userId));
    e.missingFrom = [...e.missingFrom, m.app];
  }

  for (const e of byId.values()) {
    if (e.declared) continue;
    let best: string | null = null;
    for (let i = 0, apps = e.accounts.apps(); i < apps.length; i++) {
      const app = apps[i]!;
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
  const touched = new Set<string>();
  for (const p of correlation.pairings) if (!p.unchanged) touched.add(p.userId);
  for (const m of correlation.missing) touched.add(m.userId);
  for (const r of correlation.relinked) touched.add(r.userId);
  const protect = new Set(project.protectRoles);
  return (userId) => {
    if (touched.has(userId) || correlation.unstored.has(userId)) return true;
    const user = correlation.byId.get(userId);
    if (!user) return true;
    if (user.roles.length > 0 && user.roles.some((r) => protect.has(r))) return true;
    return project.setValues.size > 0 && project.setValues.has(user.login.toLowerCase());
  };
}
