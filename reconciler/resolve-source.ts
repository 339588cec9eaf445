/**
 * Stage 4, resolve: gathers each user's linked accounts after correlation and picks the primary profile
 * source: the highest-priority app in `profileSources` with a present linked account. Declared users are
 * always sourced by the directory. A user left with no source at all is sourced by the directory too.
 * Only users touched by this run (linked, newly created, missing or declared) are returned.
 */
import type { DeclaredUser } from '../schemas/generated/config.ts';
import type { Correlation } from './correlate.ts';
import { newUserId } from './ids.ts';
import type { Project, SourceAccount, UserRecord } from './model.ts';

export interface SourcedUser {
  id: string;
  /** The stored user, or null when this run creates them. */
  current: UserRecord | null;
  declared: DeclaredUser | null;
  /** Present linked accounts by app, after this run's links. */
  accounts: Map<string, SourceAccount>;
  /** App name, or 'directory'. */
  primary: string;
  /** Apps whose linked account vanished from a full import in this run. */
  missingFrom: string[];
  /** The app whose new account creates this user. */
  createdBy: string | null;
}

export function resolveSources(project: Project, correlation: Correlation): SourcedUser[] {
  const priority = new Map(project.profileSources.map((app, i) => [app, i]));
  const byId = new Map<string, SourcedUser>();
  const storedById = new Map(correlation.users.filter((u) => !correlation.unstored.has(u.id)).map((u) => [u.id, u]));
  const declaredByLogin = new Map(project.declaredUsers.map((d) => [d.login.toLowerCase(), d]));

  const entry = (id: string, current: UserRecord | null): SourcedUser => {
    let e = byId.get(id);
    if (!e) {
      const declared = current ? (declaredByLogin.get(current.login.toLowerCase()) ?? null) : null;
      e = { id, current, declared, accounts: new Map(), primary: 'directory', missingFrom: [], createdBy: null };
      byId.set(id, e);
    }
    return e;
  };

  const idByLogin = new Map(correlation.users.map((u) => [u.login.toLowerCase(), u.id]));
  for (const d of project.declaredUsers) {
    const id = idByLogin.get(d.login.toLowerCase()) ?? newUserId('directory', d.login.toLowerCase());
    entry(id, storedById.get(id) ?? null).declared = d;
  }
  for (const p of correlation.pairings) {
    const e = entry(p.userId, storedById.get(p.userId) ?? null);
    e.accounts.set(p.app, p.account);
    if (p.kind === 'new') e.createdBy = p.app;
  }
  for (const m of correlation.missing) entry(m.userId, storedById.get(m.userId) ?? null).missingFrom.push(m.app);

  for (const e of byId.values()) {
    if (e.declared) continue;
    let best: string | null = null;
    for (const app of e.accounts.keys()) {
      if (!priority.has(app)) continue;
      if (best === null || priority.get(app)! < priority.get(best)!) best = app;
    }
    e.primary = best ?? 'directory';
  }
  return [...byId.values()];
}
