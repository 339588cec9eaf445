/**
 * Stage 9, plan: runs the pipeline (select → correlate → resolve → desired → diff) over in-memory
 * snapshots and assembles the versioned plan document of SPEC §3: changes, reviews, conflicts, warnings,
 * safeguard verdicts, summary counts and whether it may be applied (conflicts and tripped safeguards
 * block it). Pure: the same inputs always give the same plan.
 */
import type { ImportChange, LinkChange, Plan, PlanBlocker, PlanIssue, PlanSummary, NotPlannedApp, UserChange } from '../schemas/generated/plan.ts';
import { correlate } from './correlate.ts';
import { desiredDirectory, type DesiredUser } from './desired.ts';
import { diffUser, forgets, importOf, linkOf, unlinks } from './diff.ts';
import { unmaskedAttributes } from './sensitivity.ts';
import type { DirectoryState, Project, SourceSnapshot, StoredLink, UserRecord } from './model.ts';
import { provisionTargets } from './provision.ts';
import { resolveSources } from './resolve-source.ts';
import { describeBroken, evaluatePolicies } from './policies.ts';
import { describeVerdict, evaluateSafeguards, type Population } from './safeguards.ts';
import { uniqueAttributes, uniqueValue } from './directory-index.ts';
import { selectInputs } from './select.ts';

export const PLAN_FORMAT_VERSION = '2' as const;

/** The role whose grant or removal every rendering of a plan calls out first. */
export const SUPER_ADMIN = 'super_admin';

export interface PlanInput {
  project: Project;
  state: DirectoryState;
  sources: SourceSnapshot[];
  /**
   * Live accounts of every provisioning target (for a write-back app, its import snapshot). Without
   * it (JIT, directory-only runs) no account changes are planned.
   */
  targets?: SourceSnapshot[];
  /**
   * Apps that could not be read and are left out (onUnreachable: skip). A source among them is simply
   * absent from `sources` (its users keep their stored records); a target gets no account change.
   */
  notPlanned?: NotPlannedApp[];
  configFingerprint: string;
  version: string;
  /** Told as each stage starts (done 0), now and then inside long ones, and as it ends (done = total). */
  observe?: PlanObserver;
  /**
   * The safeguards' bases when `state` is a slice of the directory (a JIT run), not all of it; by default
   * they are counted on `state`.
   */
  population?: Population;
}

export type PlanStage = 'correlate' | 'map' | 'diff' | 'provision';
export type PlanObserver = (stage: PlanStage, done: number, total: number) => void;

/**
 * Whether users whose accounts did not change can be left as they are: the state was last evaluated with
 * this very config and the store found no edit made outside idplane.
 */
export function evaluatesOnlyChanged(project: Project, state: DirectoryState): boolean {
  return !state.edited && state.pipeline !== null && state.pipeline === project.pipelineFingerprint;
}

export function buildPlan(input: PlanInput): Plan {
  const { project, state } = input;
  const onlyChanged = evaluatesOnlyChanged(project, state);
  const observe: PlanObserver = input.observe ?? (() => {});
  const selection = selectInputs(project, state, input.sources);
  const accounts = selection.sources.reduce((n, s) => n + s.accounts.length, 0);
  observe('correlate', 0, accounts);
  const correlation = correlate(project, state, selection.sources, selection.columns, (done, total) => observe('correlate', done, total), !state.edited);
  const resolved = resolveSources(project, correlation, { onlyChanged, tick: () => observe('correlate', accounts, accounts) });
  observe('correlate', accounts, accounts);
  observe('map', 0, resolved.users.length);
  const desired = desiredDirectory(project, state, resolved.pairings, resolved.users, (done, total) => observe('map', done, total));
  observe('map', resolved.users.length, resolved.users.length);
  observe('diff', 0, desired.users.length);

  const conflicts: PlanIssue[] = [...correlation.conflicts, ...desired.issues];
  const warnings: PlanIssue[] = [...rowWarnings(selection.sources), ...selection.warnings, ...correlation.warnings, ...unknownSetUsers(project, correlation.named, desired.users)];
  if (state.edited) {
    warnings.push({ code: 'state-edited', message: 'the stored directory was changed outside idplane since idplane last wrote it, so every user was checked again; sourced values edited there are restored from their source' });
  }
  for (const user of desired.users) {
    append(conflicts, user.issues);
    if (user.lifecycle.blocked) {
      warnings.push({
        code: 'protected-user', users: [user.after.login],
        message: `${user.lifecycle.blocked.transition} of ${user.after.login} blocked (${user.lifecycle.blocked.reason})`,
      });
    }
  }
  append(conflicts, uniqueViolations(project, state, desired.users, onlyChanged));

  // Per user: the change, the links their new pairings add and the records their accounts write. A new
  // user with a conflict is not created, so nothing of theirs is linked or recorded either.
  const reasons = new Map<string, string>();
  const users: UserChange[] = [];
  const desiredLogins = new Map<string, string>();
  const links: LinkChange[] = [];
  const imports: ImportChange[] = [];
  const none: readonly string[] = [];
  let diffed = 0;
  for (const user of desired.users) {
    if ((++diffed & 4095) === 0) observe('diff', diffed, desired.users.length);
    if (user.issues.length > 0 && user.sourced.current === null) continue;
    const change = diffUser(user.sourced.current, user.after, intern(reasons, reasonFor(user)), user.outOfBand);
    if (change) users.push(change);
    for (const p of user.sourced.accounts.pairings()) {
      const link = linkOf(p, user.after.login);
      if (link) links.push(link);
      const record = importOf(state, p, selection.columns.get(p.app) ?? none, desired.disabled.get(p.account) === true);
      if (record) imports.push(record);
    }
  }
  sortByKey(users, (u) => u.login);
  if (correlation.relinked.length + correlation.missing.length > 0) {
    for (const u of desired.users) desiredLogins.set(u.after.id, u.after.login);
  }
  append(links, unlinks(correlation, (id) => desiredLogins.get(id) ?? correlation.byId.get(id)?.login ?? id));
  links.sort((a, b) => compare(a.app, b.app) || compare(a.key, b.key) || compare(a.action, b.action));
  append(imports, forgets(state, correlation.missing));
  imports.sort((a, b) => compare(a.app, b.app) || compare(a.key, b.key));

  observe('diff', desired.users.length, desired.users.length);
  const provisioning = input.targets && Object.values(project.apps).some((a) => a.provision);
  let provisioned: ReturnType<typeof provisionTargets> = { accounts: [], conflicts: [], warnings: [] };
  if (provisioning) {
    const after = usersAfter(state, users);
    observe('provision', 0, after.length);
    provisioned = provisionTargets({
      apps: Object.values(project.apps), attributeNames: Object.keys(project.attributes), state,
      users: after, targets: input.targets!, links: linksAfter(state, links),
      notPlanned: new Set((input.notPlanned ?? []).map((n) => n.app)),
    });
    observe('provision', after.length, after.length);
  }
  append(conflicts, provisioned.conflicts);
  append(warnings, provisioned.warnings);

  const safeguards = evaluateSafeguards(project.safeguards, state, users, imports, provisioned.accounts, input.population);
  const blockers: PlanBlocker[] = [];
  if (conflicts.length > 0) blockers.push({ code: 'conflicts', message: `${conflicts.length} conflict(s) must be settled before this plan can be applied` });
  for (const verdict of safeguards.filter((v) => v.tripped)) {
    if (project.safeguards.allowMassChange) warnings.push({ code: 'safeguard-overridden', message: `${describeVerdict(verdict)}; allowed by safeguards.allowMassChange` });
    else blockers.push({ code: 'safeguard', message: `${describeVerdict(verdict)}; review it, then apply with --allow-mass-change` });
  }
  const policies = evaluatePolicies(project.policies, project.attributes, state, users, provisioned.accounts);
  for (const verdict of policies.filter((v) => v.broken)) blockers.push({ code: 'policy', policy: verdict.name, message: describeBroken(verdict) });
  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    idplane_version: input.version,
    state: { lineage: state.lineage, serial: state.serial, digest: state.digest },
    fingerprints: {
      config: input.configFingerprint, pipeline: project.pipelineFingerprint,
      inputs: Object.fromEntries(input.sources.map((s) => [s.app, s.fingerprint])),
      targets: Object.fromEntries((input.targets ?? []).map((t) => [t.app, t.fingerprint])),
    },
    unmaskedAttributes: unmaskedAttributes(project.attributes),
    evaluated: onlyChanged ? 'changed' : 'all',
    summary: emptySummary(),
    users, links, imports,
    accounts: provisioned.accounts,
    watermarks: selection.watermarks,
    reviews: correlation.reviews,
    conflicts, warnings, safeguards, policies,
    applyable: blockers.length === 0,
    blockers,
    ...(input.notPlanned && input.notPlanned.length > 0 ? { notPlanned: input.notPlanned } : {}),
  };
  plan.summary = summarise(plan);
  return plan;
}

/** Appends without spreading into arguments (a spread of a million items overflows the call stack). */
export function append<T>(target: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]!);
}

function intern(cache: Map<string, string>, text: string): string {
  const known = cache.get(text);
  if (known !== undefined) return known;
  cache.set(text, text);
  return text;
}

/** The directory after the plan's user changes, ordered by login (provisioning reads it). */
function usersAfter(state: DirectoryState, changes: readonly UserChange[]): UserRecord[] {
  const final = new Map(state.users.map((u) => [u.id, u]));
  for (const change of changes) final.set(change.id, change.after);
  return [...final.values()].sort((a, b) => compare(a.login, b.login));
}

export function summarise(plan: Pick<Plan, 'users' | 'links' | 'imports' | 'accounts' | 'reviews' | 'conflicts' | 'warnings'>): PlanSummary {
  const s = emptySummary();
  for (const u of plan.users) {
    s.users[u.action] += 1;
    if (u.attributes) for (const name in u.attributes) if (u.attributes[name]!.outOfBand) s.outOfBand += 1;
  }
  for (const l of plan.links) s.links[l.action] += 1;
  for (const a of plan.accounts) s.accounts[a.action] += 1;
  s.imports = plan.imports.length;
  s.reviews = plan.reviews.length;
  s.conflicts = plan.conflicts.length;
  s.warnings = plan.warnings.length;
  const granted: string[] = [];
  const removed: string[] = [];
  const breakdown = new Map<string, { action: string; status: string; source: string; count: number }>();
  for (const u of plan.users) {
    const id = `${u.action}\u0000${u.after.status}\u0000${u.after.profileSource}`;
    const row = breakdown.get(id);
    if (row) row.count += 1;
    else breakdown.set(id, { action: u.action, status: u.after.status, source: u.after.profileSource, count: 1 });
    const had = u.before?.roles.includes(SUPER_ADMIN) === true;
    const has = u.after.roles.includes(SUPER_ADMIN);
    if (has && !had) granted.push(u.login);
    else if (had && !has) removed.push(u.login);
  }
  if (granted.length + removed.length > 0) s.superAdmin = { granted, removed };
  if (breakdown.size > 0) s.breakdown = [...breakdown.values()].sort((a, b) => b.count - a.count || compare(`${a.action} ${a.status} ${a.source}`, `${b.action} ${b.status} ${b.source}`));
  const heldBack = plan.warnings.filter((w) => w.code === 'held-back').length;
  if (heldBack > 0) s.heldBack = heldBack;
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

export function reasonFor(user: DesiredUser): string {
  const parts: string[] = [];
  const { sourced, after, lifecycle } = user;
  if (sourced.current === null) parts.push(sourced.declared ? 'declared in the config' : `new account in ${sourced.createdBy}`);
  else if (sourced.current.profileSource !== after.profileSource) parts.push(`profile source switches from ${sourced.current.profileSource} to ${after.profileSource}`);
  if (lifecycle.reason && (sourced.current === null || sourced.current.status !== after.status)) parts.push(lifecycle.reason);
  const before = sourced.current?.roles ?? [];
  const given = after.roles.filter((r) => !before.includes(r));
  const taken = before.filter((r) => !after.roles.includes(r));
  const grantor = sourced.declared ? 'users:' : after.profileSource === 'directory' ? 'users: or set:' : 'set:';
  if (given.length > 0) parts.push(`${grantor} gives the role${given.length > 1 ? 's' : ''} ${given.join(', ')}`);
  if (taken.length > 0) parts.push(`no ${grantor} entry grants the role${taken.length > 1 ? 's' : ''} ${taken.join(', ')} any more`);
  if (parts.length === 0) parts.push(sourced.declared ? 'declared in the config' : `sourced from ${after.profileSource}`);
  return [...new Set(parts)].join('; ');
}

/** `set:` entries for logins that are not in the directory (and are not being created). */
function unknownSetUsers(project: Project, named: ReadonlyMap<string, UserRecord>, desired: DesiredUser[]): PlanIssue[] {
  if (project.setValues.size === 0) return [];
  const known = new Set([...project.setValues.keys()].filter((login) => named.has(login)));
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

/**
 * login and every `unique: true` attribute, over the whole directory after the plan. With `onlyChanged`
 * the stored directory was checked when it was written, with this same config, and nobody edited it
 * since: a stored user can then clash only with a value a desired user takes that they did not hold
 * before (a desired user keeping their value clashed with nobody stored), so the stored users are
 * looked at only when there is such a value, and only for those values; desired users are always
 * checked against each other (two of them may swap a value).
 * Holders are named only for the values that clash (a new user by the account that creates them). A
 * first pass finds the clashing values with one set insertion per value (a million users have three
 * million); only when there are some does a second pass gather their holders, in the order met.
 */
function uniqueViolations(project: Project, state: DirectoryState, desired: DesiredUser[], onlyChanged: boolean): PlanIssue[] {
  const names = uniqueAttributes(project);
  if (names.length === 0) return [];
  let desiredIds: Set<string> | null = null;
  const stored = (): UserRecord[] => {
    if (state.users.length === 0) return [];
    if (!desiredIds) {
      desiredIds = new Set<string>();
      for (const d of desired) desiredIds.add(d.after.id);
    }
    const ids = desiredIds;
    return state.users.filter((u) => !ids.has(u.id));
  };
  let others: UserRecord[] | null = null;
  const label = (holder: DesiredUser | UserRecord): string => {
    if (!('sourced' in holder)) return holder.login;
    const d = holder;
    const origin = d.sourced.createdBy ? d.sourced.accounts.get(d.sourced.createdBy) : undefined;
    return d.sourced.current === null && origin ? `${d.after.login || '(no login)'} (new from ${d.sourced.createdBy}/${origin.key})` : d.after.login;
  };
  const issues: PlanIssue[] = [];
  for (const name of names) {
    const valueOf = (user: UserRecord) => uniqueValue(name === 'login' ? user.login : user.profile[name]);
    const values = new Set<string>();
    const clashing = new Set<string>();
    /** With onlyChanged: the values desired users take that they did not hold before. */
    const taken = new Set<string>();
    for (const d of desired) {
      const norm = valueOf(d.after);
      if (norm === null) continue;
      const size = values.size;
      if (values.add(norm).size === size) clashing.add(norm);
      if (onlyChanged && (d.sourced.current === null || valueOf(d.sourced.current) !== norm)) taken.add(norm);
    }
    if (!onlyChanged || taken.size > 0) {
      others ??= stored();
      for (const user of others) {
        const norm = valueOf(user);
        if (norm === null) continue;
        if (onlyChanged) {
          if (taken.has(norm)) clashing.add(norm);
          continue;
        }
        const size = values.size;
        if (values.add(norm).size === size) clashing.add(norm);
      }
    }
    if (clashing.size === 0) continue;
    // value → every holder, in the order met: desired users first, then stored ones.
    const holders = new Map<string, (DesiredUser | UserRecord)[]>();
    const gather = (norm: string | null, holder: DesiredUser | UserRecord) => {
      if (norm === null || !clashing.has(norm)) return;
      const list = holders.get(norm);
      if (list) list.push(holder);
      else holders.set(norm, [holder]);
    };
    for (const d of desired) gather(valueOf(d.after), d);
    for (const user of others ?? stored()) gather(valueOf(user), user);
    for (const list of holders.values()) {
      const logins = list.map(label);
      issues.push({
        code: 'unique-violation', attribute: name, users: logins,
        message: `${logins.length} users would share the same ${name}: ${logins.join(', ')}`,
        resolution: `fix the source data or the mapping for ${name}`,
      });
    }
  }
  return issues;
}

/**
 * Sorts `list` in place by a string key, stably (as Array.prototype.sort does), comparing keys held in
 * one array: a million users spread over gigabytes of heap are compared without touching each object
 * at every comparison.
 */
function sortByKey<T>(list: T[], keyOf: (item: T) => string): void {
  const keys = list.map(keyOf);
  const order = Array.from({ length: list.length }, (_, i) => i);
  order.sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  const items = order.map((i) => list[i]!);
  for (let i = 0; i < items.length; i++) list[i] = items[i]!;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
