/**
 * Plan policies (`policies:` in the config): rules a reviewer states over the plan's changes, such as
 * "no more than 5 deactivations in Finance" or "never disable an account in payroll". Each policy's
 * `when` is CEL over one change, compiled once with the config; it is evaluated for every user change
 * and every account change of the plan, and more than `max` matches (default 0) break the policy. A
 * change `when` cannot be evaluated for counts as a match and is reported: a rule that cannot be checked
 * must not pass silently. Broken policies block apply like conflicts (plan.ts adds the blockers). Pure.
 *
 * Variables (docs/config.md, "Plan policies"):
 *   change  kind ("user" | "account"), action, app and key (accounts; null for users), login,
 *           attributes (names of the attributes it changes; for a create, all it sets),
 *           status and source (users: the status and profile source after; null for accounts)
 *   user    the user after the plan: every directory attribute (null when unset), login, status, roles
 *   before  the same before the plan (every value null for a user the plan creates)
 */
import type { AccountChange, PolicyVerdict, UserChange, UserRecord } from '../schemas/generated/plan.ts';
import type { AttributeConfig } from '../schemas/generated/config.ts';
import type { CompiledPolicy, DirectoryState } from './model.ts';

export type { CompiledPolicy };

/** The fields `change` has: `when` naming another one is a config error. */
export const CHANGE_FIELDS = ['kind', 'action', 'app', 'key', 'login', 'attributes', 'status', 'source'] as const;
/** The fields `user` and `before` have besides the directory attributes. */
export const USER_FIELDS = ['login', 'status', 'roles'] as const;

const EXAMPLES = 10;

export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  attributes: Record<string, AttributeConfig>,
  state: DirectoryState,
  users: readonly UserChange[],
  accounts: readonly AccountChange[],
): PolicyVerdict[] {
  if (policies.length === 0) return [];
  const blank: Record<string, unknown> = Object.fromEntries(Object.keys(attributes).map((a) => [a, null]));
  const view = (r: Pick<UserRecord, 'login' | 'status' | 'profile' | 'roles'> | null | undefined): Record<string, unknown> =>
    r ? { ...blank, ...r.profile, login: r.login, status: r.status, roles: r.roles } : { ...blank, login: null, status: null, roles: [] };

  const verdicts = policies.map((p) => ({ policy: p, matched: 0, examples: [] as string[], errors: [] as string[] }));
  const check = (change: Record<string, unknown>, user: Record<string, unknown>, before: Record<string, unknown>, label: string) => {
    for (const v of verdicts) {
      let hit: boolean;
      try {
        hit = v.policy.when.evaluate({ change, user, before }) === true;
      } catch (error) {
        v.matched += 1;
        if (v.errors.length < EXAMPLES) v.errors.push(`${label}: ${(error as Error).message}`);
        continue;
      }
      if (!hit) continue;
      v.matched += 1;
      if (v.examples.length < EXAMPLES) v.examples.push(label);
    }
  };

  for (const u of users) {
    const change = { kind: 'user', action: u.action, app: null, key: null, login: u.login, attributes: u.attributes ? Object.keys(u.attributes) : Object.keys(u.after.profile), status: u.after.status, source: u.after.profileSource };
    check(change, view(u.after), view(u.before), `user ${u.login}: ${u.action}`);
  }
  if (accounts.length > 0) {
    const after = new Map(users.map((u) => [u.id, u.after]));
    let stored: Map<string, UserRecord> | null = null;
    const storedUser = (id: string) => (stored ??= new Map(state.users.map((s) => [s.id, s]))).get(id);
    for (const a of accounts) {
      const change = { kind: 'account', action: a.action, app: a.app, key: a.key, login: a.login, attributes: Object.keys(a.attributes), status: null, source: null };
      const before = storedUser(a.userId);
      check(change, view(after.get(a.userId) ?? before), view(before), `${a.app}/${a.key} (${a.login}): ${a.action}`);
    }
  }
  return verdicts.map((v) => ({
    name: v.policy.name,
    ...(v.policy.description ? { description: v.policy.description } : {}),
    max: v.policy.max,
    matched: v.matched,
    broken: v.matched > v.policy.max || v.errors.length > 0,
    examples: v.examples,
    ...(v.errors.length ? { errors: v.errors } : {}),
  }));
}

/** The blocker message of a broken policy. */
export function describeBroken(v: PolicyVerdict): string {
  const what = v.description ? ` (${v.description})` : '';
  const errors = v.errors?.length ? `; \`when\` failed on ${v.errors.slice(0, 3).join('; ')}` : '';
  const examples = v.examples.length ? `: ${v.examples.slice(0, 5).join(', ')}${v.matched > 5 ? `, and ${v.matched - Math.min(5, v.examples.length)} more` : ''}` : '';
  return `policy ${v.name}${what} allows ${v.max === 0 ? 'no matching change' : `at most ${v.max} matching change${v.max === 1 ? '' : 's'}`}, and this plan has ${v.matched}${examples}${errors}; change the plan, or apply with --allow-policy ${v.name} after review`;
}
