/**
 * Stage 9, plan: runs the pipeline (select → correlate → resolve → desired → diff) over in-memory
 * snapshots and assembles the versioned plan document of SPEC §3: changes, reviews, conflicts, warnings,
 * safeguard verdicts, summary counts and whether it may be applied (conflicts and tripped safeguards
 * block it). Pure: the same inputs always give the same plan.
 */
import type { Plan, PlanBlocker, PlanIssue, PlanSummary, UserChange } from '../schemas/generated/plan.ts';
import { correlate } from './correlate.ts';
import { accountId, desiredDirectory, type DesiredUser } from './desired.ts';
import { diffImports, diffLinks, diffUser } from './diff.ts';
import type { DirectoryState, Project, ProfileValue, SourceSnapshot, StoredLink, UserRecord } from './model.ts';
import { provisionTargets } from './provision.ts';
import { resolveSources } from './resolve-source.ts';
import { describeVerdict, evaluateSafeguards } from './safeguards.ts';
import { selectInputs } from './select.ts';

export const PLAN_FORMAT_VERSION = '1' as const;

export interface PlanInput {
  project: Project;
  state: DirectoryState;
  sources: SourceSnapshot[];
  /**
   * Live accounts of every provisioning target (for a write-back app, its import snapshot). Without
   * it (JIT, directory-only runs) no account changes are planned.
   */
  targets?: SourceSnapshot[];
  configFingerprint: string;
  version: string;
}

export function buildPlan(input: PlanInput): Plan {
  const { project, state } = input;
  const selection = selectInputs(project, state, input.sources);
  const correlation = correlate(project, state, selection.sources);
  const sourced = resolveSources(project, correlation);
  const desired = desiredDirectory(project, state, correlation, sourced);

  const conflicts: PlanIssue[] = [...correlation.conflicts, ...desired.issues];
  const warnings: PlanIssue[] = [...rowWarnings(selection.sources), ...selection.warnings, ...correlation.warnings, ...unknownSetUsers(project, state, desired.users)];
  const blockedAccounts = new Set<string>();
  for (const user of desired.users) {
    conflicts.push(...user.issues);
    if (user.issues.length > 0 && user.sourced.current === null) {
      for (const [app, account] of user.sourced.accounts) blockedAccounts.add(accountId(app, account.key));
    }
    if (user.lifecycle.blocked) {
      warnings.push({
        code: 'protected-user', users: [user.after.login],
        message: `${user.lifecycle.blocked.transition} of ${user.after.login} blocked (${user.lifecycle.blocked.reason})`,
      });
    }
  }
  conflicts.push(...uniqueViolations(project, state, desired.users));

  const users: UserChange[] = [];
  for (const user of desired.users) {
    if (user.issues.length > 0 && user.sourced.current === null) continue;
    const change = diffUser(user.sourced.current, user.after, reasonFor(user), user.outOfBand);
    if (change) users.push(change);
  }
  users.sort((a, b) => compare(a.login, b.login));

  const logins = new Map<string, string>(correlation.users.map((u) => [u.id, u.login]));
  for (const u of desired.users) logins.set(u.after.id, u.after.login);
  const keep = (app: string, key: string) => !blockedAccounts.has(accountId(app, key));
  const links = diffLinks(state, correlation, (id) => logins.get(id) ?? id, keep)
    .sort((a, b) => compare(a.app, b.app) || compare(a.key, b.key) || compare(a.action, b.action));
  const imports = diffImports(state, correlation, (app, key) => desired.disabled.get(accountId(app, key)) === true, keep)
    .sort((a, b) => compare(a.app, b.app) || compare(a.key, b.key));

  const finalUsers = new Map(state.users.map((u) => [u.id, u]));
  for (const change of users) finalUsers.set(change.id, change.after);
  const provisioned = input.targets
    ? provisionTargets({
      apps: Object.values(project.apps), attributeNames: Object.keys(project.attributes), state,
      users: [...finalUsers.values()].sort((a, b) => compare(a.login, b.login)), targets: input.targets, links: linksAfter(state, links),
    })
    : { accounts: [], conflicts: [], warnings: [] };
  conflicts.push(...provisioned.conflicts);
  warnings.push(...provisioned.warnings);

  const safeguards = evaluateSafeguards(project.safeguards, state, users, imports, provisioned.accounts);
  const blockers: PlanBlocker[] = [];
  if (conflicts.length > 0) blockers.push({ code: 'conflicts', message: `${conflicts.length} conflict(s) must be settled before this plan can be applied` });
  for (const verdict of safeguards.filter((v) => v.tripped)) {
    if (project.safeguards.allowMassChange) warnings.push({ code: 'safeguard-overridden', message: `${describeVerdict(verdict)}; allowed by safeguards.allowMassChange` });
    else blockers.push({ code: 'safeguard', message: `${describeVerdict(verdict)}; review it, then apply with --allow-mass-change` });
  }
  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    idplane_version: input.version,
    state: { lineage: state.lineage, serial: state.serial },
    fingerprints: { config: input.configFingerprint, inputs: Object.fromEntries(input.sources.map((s) => [s.app, s.fingerprint])) },
    summary: emptySummary(),
    users, links, imports,
    accounts: provisioned.accounts,
    watermarks: selection.watermarks,
    reviews: correlation.reviews,
    conflicts, warnings, safeguards,
    applyable: blockers.length === 0,
    blockers,
  };
  plan.summary = summarise(plan);
  return plan;
}

export function summarise(plan: Pick<Plan, 'users' | 'links' | 'imports' | 'accounts' | 'reviews' | 'conflicts' | 'warnings'>): PlanSummary {
  const s = emptySummary();
  for (const u of plan.users) {
    s.users[u.action] += 1;
    for (const change of Object.values(u.attributes)) if (change.outOfBand) s.outOfBand += 1;
  }
  for (const l of plan.links) s.links[l.action] += 1;
  for (const a of plan.accounts) s.accounts[a.action] += 1;
  s.imports = plan.imports.length;
  s.reviews = plan.reviews.length;
  s.conflicts = plan.conflicts.length;
  s.warnings = plan.warnings.length;
  s.changes = plan.users.length + plan.links.length + plan.accounts.length;
  return s;
}

function emptySummary(): PlanSummary {
  return {
    users: { create: 0, update: 0, activate: 0, deactivate: 0, suspend: 0, unsuspend: 0 },
    links: { link: 0, unlink: 0 },
    accounts: { create: 0, update: 0, disable: 0, enable: 0, delete: 0, link: 0 },
    imports: 0, reviews: 0, conflicts: 0, warnings: 0, changes: 0, outOfBand: 0,
  };
}

function reasonFor(user: DesiredUser): string {
  const parts: string[] = [];
  const { sourced, after, lifecycle } = user;
  if (sourced.current === null) parts.push(sourced.declared ? 'declared in the config' : `new account in ${sourced.createdBy}`);
  else if (sourced.current.profileSource !== after.profileSource) parts.push(`profile source switches from ${sourced.current.profileSource} to ${after.profileSource}`);
  if (lifecycle.reason && (sourced.current === null || sourced.current.status !== after.status)) parts.push(lifecycle.reason);
  if (parts.length === 0) parts.push(sourced.declared ? 'declared in the config' : `sourced from ${after.profileSource}`);
  return [...new Set(parts)].join('; ');
}

/** `set:` entries for logins that are not in the directory (and are not being created). */
function unknownSetUsers(project: Project, state: DirectoryState, desired: DesiredUser[]): PlanIssue[] {
  if (project.setValues.size === 0) return [];
  const known = new Set(state.users.map((u) => u.login.toLowerCase()));
  for (const d of desired) known.add(d.after.login.toLowerCase());
  return [...project.setValues.keys()].filter((login) => !known.has(login)).map((login): PlanIssue => ({
    code: 'unknown-user', users: [login], message: `set: names ${login}, who is not in the directory; the values wait until the user exists`,
  }));
}

function linksAfter(state: DirectoryState, changes: Plan['links']): StoredLink[] {
  const all = new Map(state.links.map((l) => [`${l.app}\u0000${l.key}`, l]));
  for (const c of changes) {
    if (c.action === 'unlink') all.delete(`${c.app}\u0000${c.key}`);
    else all.set(`${c.app}\u0000${c.key}`, { app: c.app, key: c.key, userId: c.userId });
  }
  return [...all.values()];
}

function rowWarnings(sources: SourceSnapshot[]): PlanIssue[] {
  return sources.flatMap((s) => s.rowErrors.map((e): PlanIssue => ({
    code: 'row-error', app: s.app, line: e.line, ...(e.key !== undefined ? { key: e.key } : {}),
    message: `line ${e.line}: ${e.message}`,
  })));
}

/** login and every `unique: true` attribute, over the whole directory after the plan. */
function uniqueViolations(project: Project, state: DirectoryState, desired: DesiredUser[]): PlanIssue[] {
  const final = new Map<string, UserRecord>(state.users.map((u) => [u.id, u]));
  const label = new Map<string, string>();
  for (const d of desired) {
    final.set(d.after.id, d.after);
    const origin = d.sourced.createdBy ? d.sourced.accounts.get(d.sourced.createdBy) : undefined;
    if (d.sourced.current === null && origin) label.set(d.after.id, `${d.after.login || '(no login)'} (new from ${d.sourced.createdBy}/${origin.key})`);
  }
  const names = Object.entries(project.attributes).filter(([n, a]) => a.unique || n === 'login').map(([n]) => n);
  const issues: PlanIssue[] = [];
  for (const name of names) {
    const seen = new Map<string, string[]>();
    for (const user of final.values()) {
      const value = (name === 'login' ? user.login : user.profile[name]) as ProfileValue | undefined;
      if (value === undefined || value === '') continue;
      const norm = typeof value === 'string' ? value.toLowerCase() : JSON.stringify(value);
      const list = seen.get(norm);
      const holder = label.get(user.id) ?? user.login;
      if (list) list.push(holder);
      else seen.set(norm, [holder]);
    }
    for (const [, holders] of seen) {
      if (holders.length < 2) continue;
      issues.push({
        code: 'unique-violation', attribute: name, users: holders,
        message: `${holders.length} users would share the same ${name}: ${holders.join(', ')}`,
        resolution: `fix the source data or the mapping for ${name}`,
      });
    }
  }
  return issues;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
