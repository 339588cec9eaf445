/**
 * The guardrails a config change touches, for the delta of plan --git-base: safeguard thresholds and
 * allowMassChange (overall and per app), plan policies (added, removed or changed), the protected roles,
 * and the roles `users:` and `set:` give. A pull request that only adds `allowMassChange: true` changes no
 * planned action by itself, yet it is what lets a blocked mass deactivation through: it is called out at
 * the top of every rendering, with the base plan's blockers the head's plan no longer has. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import type { IdplaneConfig } from '../schemas/generated/config.ts';
import type { GuardrailChange } from '../schemas/generated/plan-delta.ts';

export function guardrailChanges(base: IdplaneConfig, head: IdplaneConfig): GuardrailChange[] {
  const out: GuardrailChange[] = [];
  const setting = (name: string, from: unknown, to: unknown, login?: string) => {
    if (isDeepStrictEqual(from ?? null, to ?? null)) return;
    out.push({ setting: name, from: from ?? null, to: to ?? null, ...(login === undefined ? {} : { login }) });
  };
  const sb = base.safeguards ?? {};
  const sh = head.safeguards ?? {};
  for (const key of union(Object.keys(sb), Object.keys(sh))) {
    if (key === 'apps') continue;
    setting(`safeguards.${key}`, (sb as Record<string, unknown>)[key], (sh as Record<string, unknown>)[key]);
  }
  const appsBase = (sb as { apps?: Record<string, Record<string, unknown>> }).apps ?? {};
  const appsHead = (sh as { apps?: Record<string, Record<string, unknown>> }).apps ?? {};
  for (const app of union(Object.keys(appsBase), Object.keys(appsHead))) {
    for (const key of union(Object.keys(appsBase[app] ?? {}), Object.keys(appsHead[app] ?? {}))) {
      setting(`safeguards.apps.${app}.${key}`, appsBase[app]?.[key], appsHead[app]?.[key]);
    }
  }
  const policies = (c: IdplaneConfig) => new Map((c.policies ?? []).map((p) => [p.name, p]));
  const pb = policies(base);
  const ph = policies(head);
  for (const name of union([...pb.keys()], [...ph.keys()])) setting(`policies.${name}`, pb.get(name), ph.get(name));
  setting('directory.protect.roles', base.directory.protect?.roles ?? [], head.directory.protect?.roles ?? []);
  const granted = (c: IdplaneConfig) => {
    const roles = new Map<string, { via: string; roles: string[] }>();
    for (const u of c.users ?? []) if (u.roles?.length) roles.set(u.login.toLowerCase(), { via: 'users', roles: u.roles });
    for (const s of c.set ?? []) if (s.roles) roles.set(s.user.toLowerCase(), { via: 'set', roles: s.roles });
    return roles;
  };
  const gb = granted(base);
  const gh = granted(head);
  for (const login of union([...gb.keys()], [...gh.keys()])) {
    const via = gh.get(login)?.via ?? gb.get(login)!.via;
    setting(`${via}: roles`, gb.get(login)?.roles ?? [], gh.get(login)?.roles ?? [], login);
  }
  return out;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
