/**
 * `idplane explain LOGIN [ATTR]`: where a user's values come from. It runs the stages of buildPlan
 * (select, correlate, resolve sources, map, lifecycle, diff: the same functions, no second
 * implementation) with every user evaluated, maps and decides only the one user, and reports for each
 * attribute its value, the app and account that decided it, the mapping and the source values it
 * read; why that app is the profile source; and the lifecycle rule behind the status. The history (who
 * last changed it) is the CLI's to add: it is I/O. Pure.
 */
import type { UserChange } from '../schemas/generated/plan.ts';
import { correlate } from './correlate.ts';
import { desiredDirectory, type DesiredUser } from './desired.ts';
import { diffUser } from './diff.ts';
import { attributeDecisions } from './map.ts';
import type { DirectoryState, Project, SourceSnapshot, UserStatus } from './model.ts';
import { reasonFor } from './plan.ts';
import { resolveSources } from './resolve-source.ts';
import { selectInputs } from './select.ts';

export interface AttributeExplanation {
  name: string;
  /** The value the user has after the next apply (null: unset). */
  value: unknown;
  /** The value stored now, when the next apply changes it. */
  stored?: unknown;
  /** `mapping`: an import's mapping; `directory`: a source: directory attribute (stored, or set:); `declared`: users: in the config. */
  from: 'mapping' | 'directory' | 'set' | 'declared' | 'unmapped';
  app: string | null;
  /** The account that decided it. */
  key: string | null;
  /** The mapping's CEL text. */
  expression: string | null;
  /** The source fields the mapping reads, with their values in that account. */
  inputs: Record<string, string | null>;
  /** True when the app is the one `source:` names, not the profile source. */
  attributeSourced: boolean;
}

export interface Explanation {
  id: string;
  login: string;
  status: { now: UserStatus | null; next: UserStatus; rule: string | null; blocked: string | null };
  source: { app: string; why: string; priority: string[] };
  accounts: { app: string; key: string; how: string }[];
  attributes: AttributeExplanation[];
  /** What the next apply changes for this user (as the plan shows it), or null. */
  change: UserChange | null;
  conflicts: string[];
}

export function explainUser(project: Project, state: DirectoryState, sources: SourceSnapshot[], login: string): Explanation | null {
  const wanted = login.toLowerCase();
  const selection = selectInputs(project, state, sources);
  const correlation = correlate(project, state, selection.sources, selection.columns, undefined, !state.edited);
  const resolved = resolveSources(project, correlation, { onlyChanged: false });
  // A stored or declared user by login; else a user this run creates, whose login their mapping gives.
  let candidates = resolved.users.filter((u) => (u.current?.login ?? u.declared?.login)?.toLowerCase() === wanted);
  if (candidates.length === 0) candidates = resolved.users.filter((u) => u.current === null && !u.declared);
  const desired = desiredDirectory(project, state, resolved.pairings, candidates).users.find((d) => d.after.login.toLowerCase() === wanted || d.sourced.current?.login.toLowerCase() === wanted);
  return desired ? describe(project, desired) : null;
}

function describe(project: Project, user: DesiredUser): Explanation {
  const { sourced, after, lifecycle } = user;
  const current = sourced.current;
  const linkedApps = project.profileSources.filter((app) => sourced.accounts.get(app));
  const why = sourced.declared
    ? 'declared in users: in the config'
    : sourced.primary === 'directory'
      ? `no profile source (${project.profileSources.join(', ') || 'none'}) has an account linked to this user, so the directory keeps their record`
      : linkedApps.length > 1
        ? `the highest of profileSources [${project.profileSources.join(', ')}] with a linked account (linked in ${linkedApps.join(', ')})`
        : `the only profile source with a linked account (profileSources [${project.profileSources.join(', ')}])`;
  const accounts = sourced.accounts.pairings().map((p) => ({
    app: p.app, key: p.account.key,
    how: p.kind === 'new' ? `new in ${p.app}: creates this user` : p.via === 'config' ? 'pinned by links: in the config' : p.via === 'match' ? 'matched by a match rule in this run' : 'linked (stored)',
  }));
  const attributes: AttributeExplanation[] = [];
  const decided = new Set<string>();
  if (!sourced.declared && sourced.primary !== 'directory') {
    for (const d of attributeDecisions(project, sourced.primary)) {
      decided.add(d.name);
      const account = sourced.accounts.get(d.app);
      const inputs: Record<string, string | null> = {};
      for (const f of d.mapping?.appFields ?? []) inputs[f.name] = account?.attributes[f.name] ?? null;
      attributes.push({
        name: d.name, value: after.profile[d.name] ?? null, ...changed(current?.profile[d.name], after.profile[d.name], current !== null),
        from: d.mapping && account ? 'mapping' : 'unmapped', app: d.app, key: account?.key ?? null,
        expression: d.mapping?.text ?? null, inputs, attributeSourced: !d.fromPrimary,
      });
    }
  }
  const set = project.setValues.get(after.login.toLowerCase())?.attributes ?? {};
  for (const name of Object.keys(project.attributes)) {
    if (decided.has(name)) continue;
    const from = sourced.declared ? 'declared' : Object.hasOwn(set, name) ? 'set' : 'directory';
    attributes.push({ name, value: after.profile[name] ?? null, ...changed(current?.profile[name], after.profile[name], current !== null), from, app: null, key: null, expression: null, inputs: {}, attributeSourced: false });
  }
  return {
    id: after.id, login: after.login,
    status: { now: current?.status ?? null, next: after.status, rule: lifecycle.reason, blocked: lifecycle.blocked ? `${lifecycle.blocked.transition} blocked: ${lifecycle.blocked.reason}` : null },
    source: { app: sourced.primary, why, priority: project.profileSources },
    accounts, attributes,
    change: diffUser(current, after, reasonFor(user), user.outOfBand),
    conflicts: user.issues.map((i) => i.message),
  };
}

function changed(stored: unknown, next: unknown, exists: boolean): { stored?: unknown } {
  if (!exists) return {};
  return JSON.stringify(stored ?? null) === JSON.stringify(next ?? null) ? {} : { stored: stored ?? null };
}
