/**
 * Builders for the reconciler's unit tests: a Project from a compact in-memory config, source snapshots
 * from plain rows, and a helper that plans and applies in memory. Test-only; nothing here does I/O.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../bench/generate.ts';
import type { CompiledPolicy } from './policies.ts';
import type { AttributeConfig, DeclaredUser, ImportConfig, SafeguardsConfig } from '../schemas/generated/config.ts';
import type { ImportChange, LinkChange, Plan, UserChange } from '../schemas/generated/plan.ts';
import { applyPlanToState } from './apply-plan.ts';
import { compileExpression, type CompiledExpression } from './expressions.ts';
import { compileMatchRule } from './match-rules.ts';
import { emptyState, type CompiledApp, type DirectoryState, type Project, type RowError, type SourceSnapshot, type UserRecord } from './model.ts';
import type { DirectoryChanges } from './state-delta.ts';
import { buildPlan } from './plan.ts';
import { recordAttributes } from './records.ts';

export interface AppSpec {
  key?: string;
  import: Omit<ImportConfig, 'mappings'> & { mappings: Record<string, string> };
}

export interface ProjectSpec {
  attributes?: Record<string, AttributeConfig>;
  apps: Record<string, AppSpec>;
  profileSources?: string[];
  users?: DeclaredUser[];
  links?: { app: string; key: string; user: string }[];
  protectRoles?: string[];
  /** Default: no thresholds, so tests of other rules on tiny directories are not stopped by them. */
  safeguards?: SafeguardsConfig;
  set?: { user: string; attributes?: Record<string, unknown>; roles?: string[] }[];
  policies?: CompiledPolicy[];
}

export const DEFAULT_ATTRIBUTES: Record<string, AttributeConfig> = {
  login: { type: 'string', required: true, unique: true },
  email: { type: 'string', unique: true },
  employeeNumber: { type: 'string', unique: true },
  firstName: { type: 'string' },
  lastName: { type: 'string' },
  title: { type: 'string' },
};

function compile(text: string): CompiledExpression {
  const outcome = compileExpression(text);
  if (!outcome.ok) throw new Error(`test expression ${text} does not compile: ${outcome.message}`);
  return outcome.expression;
}

export function makeProject(spec: ProjectSpec): Project {
  const apps: Record<string, CompiledApp> = {};
  for (const [name, app] of Object.entries(spec.apps)) {
    const imp = app.import;
    apps[name] = {
      name, key: app.key ?? 'id', provision: null,
      config: { provider: 'csv', connection: { path: `${name}.csv` }, key: app.key ?? 'id' },
      import: {
        mode: imp.mode ?? 'full', watermark: imp.watermark ?? null,
        match: (imp.match ?? []).map((rule, i) => compileMatchRule(rule, `${name}#${i}`, rule.expression ? { app: compile(rule.expression.app), user: compile(rule.expression.user) } : undefined)),
        onMatch: imp.onMatch ?? 'link', onNoMatch: imp.onNoMatch ?? 'create',
        newUserStatus: imp.newUserStatus ?? 'STAGED', disabled: imp.disabled ? compile(imp.disabled) : null,
        onDisabled: imp.onDisabled ?? 'deactivate', onMissing: imp.onMissing ?? 'deactivate',
        reactivate: { suspended: imp.reactivate?.suspended ?? true, deactivated: imp.reactivate?.deactivated ?? false },
        mappings: Object.entries(imp.mappings).map(([attribute, text]) => ({ attribute, expression: compile(text) })),
      },
    };
  }
  return {
    attributes: spec.attributes ?? DEFAULT_ATTRIBUTES,
    protectRoles: spec.protectRoles ?? ['super_admin'],
    declaredUsers: spec.users ?? [],
    profileSources: spec.profileSources ?? Object.keys(spec.apps),
    links: spec.links ?? [],
    apps,
    policies: spec.policies ?? [],
    safeguards: spec.safeguards ?? {},
    setValues: new Map((spec.set ?? []).map((s) => [s.user.toLowerCase(), { attributes: s.attributes ?? {}, ...(s.roles ? { roles: s.roles } : {}) }])),
    pipelineFingerprint: `sha256:test-${createHash('sha256').update(JSON.stringify(spec, (_, v: unknown) => (v instanceof Map ? [...v] : v))).digest('hex')}`,
  };
}

/** A snapshot from rows; `line` is the row's position + 2 (after the header), as a CSV reader gives it. */
export function snapshot(app: string, rows: Record<string, string>[], key = 'id', rowErrors: RowError[] = []): SourceSnapshot {
  return {
    app,
    accounts: rows.map((attributes, i) => ({ key: attributes[key] ?? '', attributes, line: i + 2 })),
    rowErrors,
    fingerprint: `sha256:${app}-${rows.length}`,
  };
}

export function plan(project: Project, state: DirectoryState, sources: SourceSnapshot[]): Plan {
  return buildPlan({ project, state, sources, configFingerprint: 'sha256:test', version: 'test' });
}

/** Plans and applies in memory, as `idplane apply` would, returning the plan and the next state. */
export function planAndApply(project: Project, state: DirectoryState, sources: SourceSnapshot[]): { plan: Plan; state: DirectoryState } {
  const p = plan(project, state, sources);
  if (!p.applyable) throw new Error(`plan not applyable: ${p.blockers.join('; ')} ${JSON.stringify(p.conflicts)}`);
  return { plan: p, state: applyPlanToState(state, p, 'lineage-1') };
}

export { emptyState };

/** An imported record as the source gave it (unpacked), or undefined. */
export function storedRecord(state: DirectoryState, app: string, key: string): { attributes: Record<string, string>; disabled: boolean } | undefined {
  const records = state.imported.get(app);
  const record = records?.records.get(key);
  return records && record ? { attributes: recordAttributes(records, record), disabled: record.disabled } : undefined;
}

export const HR_MAPPINGS = {
  login: 'app.email',
  email: 'app.email',
  employeeNumber: 'app.id',
  firstName: 'app.first',
  lastName: 'app.last',
  title: 'app.title',
};

export function hrRow(id: string, first: string, last: string, extra: Record<string, string> = {}): Record<string, string> {
  return { id, first, last, email: `${first}.${last}@example.com`.toLowerCase(), title: 'Engineer', status: 'Active', ...extra };
}

/** A small deterministic PRNG (mulberry32, the benchmark's), so a failure can be replayed from its seed. */
export const random = mulberry32;

const APPS = ['hr', 'ad', 'crm'];

/**
 * A plan's directory changes drawn at random against `state` (ids from a small pool, so they collide):
 * users created and replaced, links set, moved and removed, records written and forgotten, columns added.
 */
export function randomChanges(state: DirectoryState, next: () => number, round: number): DirectoryChanges {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const users: UserChange[] = [];
  const seen = new Set<string>();
  for (let i = 0, n = Math.floor(next() * 6); i < n; i++) {
    const id = `u${Math.floor(next() * 40)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const after: UserRecord = { id, login: `${id}@example.com`, status: pick(['ACTIVE', 'SUSPENDED', 'DEPROVISIONED'] as const), profile: { title: `t${round}-${i}` }, profileSource: pick(APPS), roles: [] };
    users.push({ action: 'update', id, login: after.login, before: null, after, reason: '' } as UserChange);
  }
  const links: LinkChange[] = [];
  for (let i = 0, n = Math.floor(next() * 6); i < n; i++) {
    const app = pick(APPS);
    const key = `k${Math.floor(next() * 30)}`;
    const existing = state.links.find((l) => l.app === app && l.key === key);
    const unlink = existing !== undefined && next() < 0.5;
    links.push({ action: unlink ? 'unlink' : 'link', app, key, userId: unlink && next() < 0.8 ? existing.userId : `u${Math.floor(next() * 40)}`, login: 'x', reason: '' } as LinkChange);
  }
  links.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.action < b.action ? -1 : 1));
  const imports: ImportChange[] = [];
  for (let i = 0, n = Math.floor(next() * 6); i < n; i++) {
    const app = pick(APPS);
    const key = `k${Math.floor(next() * 30)}`;
    if (next() < 0.3) imports.push({ action: 'forget', app, key } as ImportChange);
    else imports.push({ action: 'record', app, key, attributes: { id: key, [`c${Math.floor(next() * 5)}`]: `v${round}` }, disabled: next() < 0.2 } as ImportChange);
  }
  return {
    users, links, imports,
    watermarks: next() < 0.3 ? [{ app: pick(APPS), from: null, to: `w${round}` }] : [],
    evaluated: next() < 0.2 ? 'all' : 'changed',
    fingerprints: { config: 'c', pipeline: `p${round}`, inputs: {}, targets: {} },
  };
}
