/**
 * Provisioning (SPEC §1.4) and write-back (§1.5), pure and in memory: buildPlan with `targets`, then
 * applyTargetResults. The directory comes from an HR import (the `hr` app); targets are added to the
 * project by hand with their CompiledProvision, since testing.ts builds import apps only.
 */
import { describe, expect, it } from 'vitest';
import type { SafeguardsConfig } from '../schemas/generated/config.ts';
import type { AccountChange, Plan } from '../schemas/generated/plan.ts';
import { applyPlanToState, applyTargetResults, type AccountResult } from './apply-plan.ts';
import { compileExpression, type CompiledExpression } from './expressions.ts';
import type { CompiledApp, CompiledProvision, DirectoryState, DisabledPolicy, Project, SourceSnapshot, UserRecord } from './model.ts';
import { buildPlan } from './plan.ts';
import { DEFAULT_ATTRIBUTES, emptyState, HR_MAPPINGS as BASE_HR_MAPPINGS, makeProject, snapshot, storedRecord } from './testing.ts';

// ---- builders ----------------------------------------------------------------------------------------------

function cel(text: string): CompiledExpression {
  const outcome = compileExpression(text);
  if (!outcome.ok) throw new Error(`test expression ${text} does not compile: ${outcome.message}`);
  return outcome.expression;
}

type Outbound = string | { value: string; on?: 'create' | 'always' };

interface ProvisionSpec {
  assign?: string;
  create?: boolean;
  update?: boolean;
  deactivate?: boolean;
  delete?: boolean;
  match?: { app: string; user: string };
  status?: { attribute: string; enabled: string; disabled: string };
  mappings: Record<string, Outbound>;
  /** Write-back: the app attributes the app's own import reads. */
  sourced?: string[];
}

/** The CompiledProvision compileProvision would give for `spec` (same defaults). */
function provision(spec: ProvisionSpec): CompiledProvision {
  return {
    assign: spec.assign === undefined ? null : cel(spec.assign),
    create: spec.create ?? true,
    update: spec.update ?? true,
    deactivate: spec.deactivate ?? true,
    delete: spec.delete ?? false,
    match: spec.match ?? null,
    status: spec.status ?? { attribute: 'active', enabled: 'true', disabled: 'false' },
    mappings: Object.entries(spec.mappings).map(([attribute, m]) => (typeof m === 'string'
      ? { attribute, expression: cel(m), on: 'always' as const }
      : { attribute, expression: cel(m.value), on: m.on ?? 'always' })),
    sourcedAttributes: new Set(spec.sourced ?? []),
  };
}

function targetApp(name: string, spec: ProvisionSpec, key = 'id'): CompiledApp {
  return { name, key, config: { provider: 'csv', connection: { path: `${name}.csv` }, key }, import: null, provision: provision(spec) };
}

const ATTRIBUTES = {
  ...DEFAULT_ATTRIBUTES,
  department: { type: 'string' as const },
  phone: { type: 'string' as const, source: 'directory' },
};

const HR_MAPPINGS = { ...BASE_HR_MAPPINGS, department: 'app.dept' };

/** Every column the hr import reads: what a write-back to hr must never write. */
const HR_READS = ['id', 'email', 'first', 'last', 'title', 'dept', 'status'];

interface WorldSpec {
  /** Provisioning targets (not import apps, not profile sources). */
  targets?: Record<string, ProvisionSpec>;
  /** Makes hr a write-back target too. */
  hrProvision?: ProvisionSpec;
  newUserStatus?: 'STAGED' | 'ACTIVE';
  onDisabled?: DisabledPolicy;
  reactivateDeactivated?: boolean;
  safeguards?: SafeguardsConfig;
  set?: { user: string; attributes: Record<string, unknown> }[];
}

function world(spec: WorldSpec): Project {
  const project = makeProject({
    attributes: ATTRIBUTES,
    apps: {
      hr: {
        import: {
          mappings: HR_MAPPINGS, newUserStatus: spec.newUserStatus ?? 'ACTIVE', disabled: 'app.status == "Terminated"',
          onDisabled: spec.onDisabled ?? 'deactivate', reactivate: { deactivated: spec.reactivateDeactivated ?? false },
        },
      },
    },
    ...(spec.safeguards ? { safeguards: spec.safeguards } : {}),
    ...(spec.set ? { set: spec.set } : {}),
  });
  for (const [name, p] of Object.entries(spec.targets ?? {})) project.apps[name] = targetApp(name, p);
  if (spec.hrProvision) project.apps.hr!.provision = provision(spec.hrProvision);
  return project;
}

type Row = Record<string, string>;

function person(id: string, first: string, last: string, dept: string, extra: Row = {}): Row {
  return { id, first, last, email: `${first}.${last}@example.com`.toLowerCase(), dept, title: 'Engineer', status: 'Active', ...extra };
}

const ADA = person('1', 'Ada', 'Lovelace', 'Sales');
const ALAN = person('2', 'Alan', 'Turing', 'Engineering');
const GRACE = person('3', 'Grace', 'Hopper', 'Sales');
const PEOPLE = [ADA, ALAN, GRACE];
const LOGIN = { ada: 'ada.lovelace@example.com', alan: 'alan.turing@example.com', grace: 'grace.hopper@example.com' };

/** The default CRM target: keyed by the employee number, userName set once. */
const CRM: ProvisionSpec = {
  mappings: {
    id: 'user.employeeNumber',
    userName: { value: 'user.email', on: 'create' },
    displayName: 'user.firstName + " " + user.lastName',
    title: 'user.title',
    department: 'user.department',
  },
};

/** The CRM row idplane would have created for `p` (an HR row). */
function crmRow(p: Row, extra: Row = {}): Row {
  return { id: p.id!, userName: p.email!, displayName: `${p.first} ${p.last}`, title: p.title!, department: p.dept!, active: 'true', ...extra };
}

const hr = (rows: Row[]) => snapshot('hr', rows);
const crm = (rows: Row[]) => snapshot('crm', rows);

function planWith(project: Project, state: DirectoryState, sources: SourceSnapshot[], targets: SourceSnapshot[]): Plan {
  return buildPlan({ project, state, sources, targets, configFingerprint: 'sha256:test', version: 'test' });
}

/** The directory after importing `rows` from hr (no targets read, so no account changes). */
function directory(project: Project, rows: Row[]): DirectoryState {
  const p = buildPlan({ project, state: emptyState(), sources: [hr(rows)], configFingerprint: 'sha256:test', version: 'test' });
  expect(p.applyable).toBe(true);
  expect(p.accounts).toEqual([]);
  return applyPlanToState(emptyState(), p, 'lineage-1');
}

function userId(state: DirectoryState, login: string): string {
  const user = state.users.find((u) => u.login === login);
  if (!user) throw new Error(`no user ${login}`);
  return user.id;
}

function withLink(state: DirectoryState, app: string, key: string, login: string): DirectoryState {
  return { ...state, links: [...state.links, { app, key, userId: userId(state, login) }] };
}

const accountsOf = (plan: Plan, app: string) => plan.accounts.filter((a) => a.app === app);
const byLogin = (plan: Plan, app: string, login: string) => plan.accounts.filter((a) => a.app === app && a.login === login);
const summaryOf = (changes: AccountChange[]) => changes.map((a) => [a.action, a.key, a.login]);

/** What a target does with the plan's changes: the snapshot it would return afterwards. */
function pushTo(target: SourceSnapshot, changes: AccountChange[], app: CompiledApp): SourceSnapshot {
  const p = app.provision!;
  const rows = new Map(target.accounts.map((a) => [a.key, { ...a.attributes }]));
  for (const c of changes) {
    if (c.app !== target.app) continue;
    const write = (row: Row) => {
      for (const [k, v] of Object.entries(c.attributes)) row[k] = v.to ?? '';
    };
    switch (c.action) {
      case 'create': {
        const row: Row = { [app.key]: c.key, [p.status.attribute]: p.status.enabled };
        write(row);
        rows.set(c.key, row);
        break;
      }
      case 'update':
        write(rows.get(c.key)!);
        break;
      case 'enable':
      case 'disable': {
        const row = rows.get(c.key)!;
        write(row);
        row[p.status.attribute] = c.action === 'enable' ? p.status.enabled : p.status.disabled;
        break;
      }
      case 'delete':
        rows.delete(c.key);
        break;
      case 'link':
        break;
    }
  }
  return snapshot(target.app, [...rows.values()], app.key);
}

const allDone = (plan: Plan): AccountResult[] => plan.accounts.map((a) => ({ app: a.app, key: a.key, action: a.action, outcome: 'done' }));
const writeBackApps = (project: Project) => new Set(Object.values(project.apps).filter((a) => a.import && a.provision).map((a) => a.name));

/**
 * One `idplane apply`: plans with `targets`, writes the directory, lets the targets carry out every account
 * change and records the results. Returns the plan, the next state and the targets as they are now.
 */
function applyRound(project: Project, state: DirectoryState, hrRows: Row[], targets: SourceSnapshot[]) {
  const sources = [hr(hrRows)];
  const plan = planWith(project, state, sources, targets);
  if (!plan.applyable) throw new Error(`plan not applyable: ${JSON.stringify(plan.blockers)} ${JSON.stringify(plan.conflicts)}`);
  const next = applyTargetResults(applyPlanToState(state, plan, 'lineage-1'), plan, allDone(plan), writeBackApps(project));
  const after = targets.map((t) => pushTo(t, plan.accounts, project.apps[t.app]!));
  return { plan, state: next, targets: after };
}

/** A directory of `rows` whose CRM accounts exist and are linked (one converged apply). */
function provisioned(project: Project, rows: Row[] = PEOPLE) {
  const round = applyRound(project, emptyState(), rows, [crm([])]);
  return { state: round.state, live: round.targets[0]! };
}

// ---- assignment ----------------------------------------------------------------------------------------------

describe('assignment', () => {
  it('creates accounts only for the users the assign expression selects (over user.department)', () => {
    const project = world({ targets: { crm: { ...CRM, assign: 'user.department == "Sales"' } } });
    const p = planWith(project, directory(project, PEOPLE), [hr(PEOPLE)], [crm([])]);
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada], ['create', '3', LOGIN.grace]]);
    expect(p.applyable).toBe(true);
    expect(p.summary.accounts).toEqual({ create: 2, update: 0, disable: 0, enable: 0, delete: 0, link: 0 });
  });

  it('assigns everyone when assign is null', () => {
    const project = world({ targets: { crm: CRM } });
    const p = planWith(project, directory(project, PEOPLE), [hr(PEOPLE)], [crm([])]);
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada], ['create', '2', LOGIN.alan], ['create', '3', LOGIN.grace]]);
  });

  it('evaluates assign with unset attributes as null, and with user.status and user.roles', () => {
    const project = world({ targets: { crm: { ...CRM, assign: 'user.phone == null && user.status == "ACTIVE" && !("admin" in user.roles)' } } });
    const p = planWith(project, directory(project, PEOPLE), [hr(PEOPLE)], [crm([])]);
    expect(p.accounts).toHaveLength(3);
    expect(p.warnings.filter((w) => w.code === 'expression-error')).toEqual([]);
  });

  it('provisions users the same plan creates, under their new ids', () => {
    const project = world({ targets: { crm: CRM } });
    const p = planWith(project, emptyState(), [hr(PEOPLE)], [crm([])]);
    expect(p.summary.users.create).toBe(3);
    expect(p.accounts.map((a) => [a.action, a.userId])).toEqual(p.users.map((u) => ['create', u.id]));
  });

  it('only ACTIVE users get an account: STAGED, PROVISIONED, SUSPENDED and DEPROVISIONED users get none', () => {
    const project = world({ targets: { crm: CRM } });
    const statuses: UserRecord['status'][] = ['ACTIVE', 'STAGED', 'PROVISIONED', 'SUSPENDED', 'DEPROVISIONED'];
    const users: UserRecord[] = statuses.map((status, i) => ({
      id: `u-${i}`, login: `${status.toLowerCase()}@example.com`, status, roles: [], profileSource: 'directory',
      profile: { login: `${status.toLowerCase()}@example.com`, email: `${status.toLowerCase()}@example.com`, employeeNumber: `${100 + i}`, firstName: 'F', lastName: status },
    }));
    const state: DirectoryState = { ...emptyState(), lineage: 'lineage-1', serial: 1, users };
    const p = planWith(project, state, [], [crm([])]);
    expect(p.users).toEqual([]);
    expect(summaryOf(p.accounts)).toEqual([['create', '100', 'active@example.com']]);
  });

  it('creates no account for users an import stages or deactivates', () => {
    const staged = world({ targets: { crm: CRM }, newUserStatus: 'STAGED' });
    expect(planWith(staged, emptyState(), [hr(PEOPLE)], [crm([])]).accounts).toEqual([]);

    const project = world({ targets: { crm: CRM } });
    const rows = [ADA, { ...ALAN, status: 'Terminated' }];
    const p = planWith(project, emptyState(), [hr(rows)], [crm([])]);
    expect(p.users.find((u) => u.login === LOGIN.alan)!.after.status).toBe('DEPROVISIONED');
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada]]);
  });

  it('creates no account for a user the import suspends', () => {
    const project = world({ targets: { crm: CRM }, onDisabled: 'suspend' });
    const state = directory(project, PEOPLE);
    const rows = [ADA, { ...ALAN, status: 'Terminated' }, GRACE];
    const p = planWith(project, state, [hr(rows)], [crm([])]);
    expect(p.users.map((u) => [u.login, u.action])).toEqual([[LOGIN.alan, 'suspend']]);
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada], ['create', '3', LOGIN.grace]]);
  });

  it('an assign expression that fails leaves that user alone and warns', () => {
    const project = world({ targets: { crm: { ...CRM, assign: 'user.department.startsWith("S")' } } });
    const rows = [ADA, { ...ALAN, dept: '' }];
    const p = planWith(project, directory(project, rows), [hr(rows)], [crm([])]);
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada]]);
    expect(p.warnings.filter((w) => w.code === 'expression-error')).toEqual([
      expect.objectContaining({ app: 'crm', users: [LOGIN.alan] }),
    ]);
  });
});

// ---- creating accounts ---------------------------------------------------------------------------------------

describe('creating accounts', () => {
  it('creates with every mapping (on: create included), keyed by the key mapping, and records the link', () => {
    const project = world({ targets: { crm: CRM } });
    const state = directory(project, [ADA]);
    const p = planWith(project, state, [hr([ADA])], [crm([])]);
    expect(p.accounts).toEqual([{
      action: 'create', app: 'crm', key: '1', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: true,
      attributes: {
        userName: { from: null, to: LOGIN.ada },
        displayName: { from: null, to: 'Ada Lovelace' },
        title: { from: null, to: 'Engineer' },
        department: { from: null, to: 'Sales' },
      },
      reason: `${LOGIN.ada} is assigned to crm`,
    }]);
  });

  it('leaves mapped values that are empty out of a create', () => {
    const project = world({ targets: { crm: CRM } });
    const rows = [{ ...ADA, title: '' }];
    const p = planWith(project, directory(project, rows), [hr(rows)], [crm([])]);
    expect(Object.keys(p.accounts[0]!.attributes)).toEqual(['userName', 'displayName', 'department']);
  });

  it('an empty key mapping is a conflict, not an account with an empty key', () => {
    const project = world({
      targets: { phones: { mappings: { id: 'user.phone', owner: 'user.login' } } },
      set: [{ user: LOGIN.ada, attributes: { phone: '555-0100' } }],
    });
    const rows = [ADA, ALAN];
    const p = planWith(project, directory(project, rows), [hr(rows)], [snapshot('phones', [])]);
    expect(summaryOf(p.accounts)).toEqual([['create', '555-0100', LOGIN.ada]]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'missing-required', app: 'phones', attribute: 'id', users: [LOGIN.alan] })]);
    expect(p.applyable).toBe(false);
    expect(p.blockers.map((b) => b.code)).toEqual(['conflicts']);
  });

  it('a mapping that fails to evaluate is a conflict for that user', () => {
    const project = world({ targets: { crm: { ...CRM, mappings: { ...CRM.mappings, nick: 'user.phone.lowerAscii()' } } } });
    const p = planWith(project, directory(project, [ADA]), [hr([ADA])], [crm([])]);
    expect(p.accounts).toEqual([]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'expression-error', app: 'crm', attribute: 'nick', users: [LOGIN.ada] })]);
  });
});

// ---- linking existing accounts -------------------------------------------------------------------------------

describe('linking existing accounts instead of creating them', () => {
  const matching: ProvisionSpec = { ...CRM, match: { app: 'userName', user: 'email' } };

  it('links an account found by the match rule (other key, same email in another case)', () => {
    const project = world({ targets: { crm: matching } });
    const state = directory(project, [ADA]);
    const live = [crmRow(ADA, { id: 'x-99', userName: 'ADA.Lovelace@Example.COM' })];
    const p = planWith(project, state, [hr([ADA])], [crm(live)]);
    expect(p.accounts).toEqual([{
      action: 'link', app: 'crm', key: 'x-99', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: true, attributes: {},
      reason: `existing crm account matches ${LOGIN.ada}`,
    }]);
  });

  it('updates a matched account whose values differ, recording the link (never a create)', () => {
    const project = world({ targets: { crm: matching } });
    const live = [crmRow(ADA, { id: 'x-99', userName: ' ada.lovelace@EXAMPLE.com ', title: 'Intern' })];
    const p = planWith(project, directory(project, [ADA]), [hr([ADA])], [crm(live)]);
    expect(p.accounts).toEqual([expect.objectContaining({ action: 'update', key: 'x-99', link: true, attributes: { title: { from: 'Intern', to: 'Engineer' } } })]);
  });

  it('finds an existing account by the key the mappings give, without a match rule', () => {
    const project = world({ targets: { crm: CRM } });
    const p = planWith(project, directory(project, [ADA]), [hr([ADA])], [crm([crmRow(ADA)])]);
    expect(summaryOf(p.accounts)).toEqual([['link', '1', LOGIN.ada]]);
    expect(p.accounts[0]).toMatchObject({ link: true, attributes: {} });
  });

  it('prefers the account with the mapped key over one the match rule finds', () => {
    const project = world({ targets: { crm: matching } });
    const live = [crmRow(ADA), crmRow(ADA, { id: 'x-99' })];
    const p = planWith(project, directory(project, [ADA]), [hr([ADA])], [crm(live)]);
    expect(summaryOf(p.accounts)).toEqual([['link', '1', LOGIN.ada]]);
    expect(p.conflicts).toEqual([]);
  });

  it('two live accounts matching one user are a conflict: nothing is linked or created', () => {
    const project = world({ targets: { crm: matching } });
    const live = [crmRow(ADA, { id: 'x-1' }), crmRow(ADA, { id: 'x-2', userName: LOGIN.ada.toUpperCase() })];
    const p = planWith(project, directory(project, [ADA]), [hr([ADA])], [crm(live)]);
    expect(p.accounts).toEqual([]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'ambiguous-match', app: 'crm', users: [LOGIN.ada] })]);
    expect(p.conflicts[0]!.message).toContain('x-1, x-2');
    expect(p.applyable).toBe(false);
  });

  it('an account already linked to another user is a conflict, not a link and not a create', () => {
    const project = world({ targets: { crm: matching } });
    const rows = [ADA, ALAN];
    // x-99 is Alan's account, but it carries Ada's address.
    const state = withLink(directory(project, rows), 'crm', 'x-99', LOGIN.alan);
    const live = [crmRow(ALAN, { id: 'x-99', userName: LOGIN.ada })];
    const p = planWith(project, state, [hr(rows)], [crm(live)]);
    expect(p.accounts).toEqual([]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'already-linked', app: 'crm', key: 'x-99', users: [LOGIN.ada] })]);
  });

  it('one account is never given to two users in the same plan', () => {
    const project = world({ targets: { crm: { ...CRM, match: { app: 'surname', user: 'lastName' } } } });
    const byron = person('4', 'Byron', 'Lovelace', 'Sales');
    const rows = [ADA, byron];
    const p = planWith(project, directory(project, rows), [hr(rows)], [crm([{ id: 'x-7', surname: 'LOVELACE', active: 'true' }])]);
    expect(p.accounts.map((a) => [a.action, a.key, a.login, a.link])).toEqual([['update', 'x-7', LOGIN.ada, true]]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'already-linked', key: 'x-7', users: ['byron.lovelace@example.com'] })]);
  });
});

// ---- crash between create and record -------------------------------------------------------------------------

describe('a crash between the create and recording its link', () => {
  it('links the account on the next plan and never creates it twice', () => {
    const project = world({ targets: { crm: CRM } });
    const state = directory(project, [ADA]);
    const first = planWith(project, state, [hr([ADA])], [crm([])]);
    expect(summaryOf(first.accounts)).toEqual([['create', '1', LOGIN.ada]]);
    // The target created the account, then the process died: the state has no crm link.
    const live = pushTo(crm([]), first.accounts, project.apps.crm!);
    expect(state.links.some((l) => l.app === 'crm')).toBe(false);

    const again = planWith(project, state, [hr([ADA])], [live]);
    expect(again.accounts).toEqual([expect.objectContaining({ action: 'link', key: '1', link: true, attributes: {}, userId: userId(state, LOGIN.ada) })]);
    expect(again.summary.accounts.create).toBe(0);

    const recorded = applyTargetResults(state, again, allDone(again), new Set());
    expect(recorded.links).toContainEqual({ app: 'crm', key: '1', userId: userId(state, LOGIN.ada) });
    expect(planWith(project, recorded, [hr([ADA])], [live]).accounts).toEqual([]);
  });

  it('also links through the match rule when the created account carries another key', () => {
    const project = world({ targets: { crm: { ...CRM, match: { app: 'userName', user: 'email' } } } });
    const state = directory(project, [ADA]);
    const p = planWith(project, state, [hr([ADA])], [crm([crmRow(ADA, { id: 'crm-0001' })])]);
    expect(summaryOf(p.accounts)).toEqual([['link', 'crm-0001', LOGIN.ada]]);
  });

  it('a linked account that is gone from the target is created again, with a warning', () => {
    const project = world({ targets: { crm: CRM } });
    const { state } = provisioned(project, [ADA]);
    const p = planWith(project, state, [hr([ADA])], [crm([])]);
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada]]);
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'target-skipped', app: 'crm', key: '1', users: [LOGIN.ada] })]);
  });
});

// ---- partial updates -----------------------------------------------------------------------------------------

describe('updates are partial', () => {
  it('pushes only the attributes whose mapped value changed, each with from and to', () => {
    const project = world({ targets: { crm: CRM } });
    const { state, live } = provisioned(project);
    const rows = [{ ...ADA, title: 'Fellow' }, ALAN, GRACE];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(p.accounts).toEqual([{
      action: 'update', app: 'crm', key: '1', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: false,
      attributes: { title: { from: 'Engineer', to: 'Fellow' } }, reason: `${LOGIN.ada}'s mapped values changed`,
    }]);
  });

  it('never lists unmapped attributes of the live account', () => {
    const project = world({ targets: { crm: CRM } });
    const { state, live } = provisioned(project, [ADA]);
    const edited = snapshot('crm', live.accounts.map((a) => ({ ...a.attributes, phone: '+44 1', notes: 'VIP', title: 'Intern' })));
    const p = planWith(project, state, [hr([ADA])], [edited]);
    expect(p.accounts).toHaveLength(1);
    expect(p.accounts[0]!.attributes).toEqual({ title: { from: 'Intern', to: 'Engineer' } });
  });

  it('sets an attribute the account lacks (from null) and clears one that became empty (to null)', () => {
    const project = world({ targets: { crm: CRM } });
    const { state } = provisioned(project, [ADA]);
    const live = crm([{ id: '1', userName: LOGIN.ada, displayName: 'Ada Lovelace', title: 'Engineer', active: 'true' }]);
    const p = planWith(project, state, [hr([{ ...ADA, title: '' }])], [live]);
    expect(p.accounts[0]!.attributes).toEqual({ title: { from: 'Engineer', to: null }, department: { from: null, to: 'Sales' } });
  });

  it('does not push an on: create attribute when its directory value changes later', () => {
    const project = world({ targets: { crm: CRM } });
    const { state, live } = provisioned(project, [ADA]);
    const rows = [{ ...ADA, email: 'ada.king@example.com' }];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(p.users.map((u) => [u.login, u.attributes!.email])).toEqual([['ada.king@example.com', { from: LOGIN.ada, to: 'ada.king@example.com' }]]);
    expect(p.accounts).toEqual([]);
    expect(live.accounts[0]!.attributes.userName).toBe(LOGIN.ada);
  });

  it('never pushes a change to the key attribute', () => {
    const project = world({ targets: { crm: CRM } });
    const { state } = provisioned(project, [ADA]);
    // A linked account whose key differs from the mapped one (it was linked through a match rule).
    const relinked = { ...state, links: state.links.map((l) => (l.app === 'crm' ? { ...l, key: 'x-99' } : l)) };
    const p = planWith(project, relinked, [hr([ADA])], [crm([crmRow(ADA, { id: 'x-99' })])]);
    expect(p.accounts).toEqual([]);
  });
});

// ---- removal -------------------------------------------------------------------------------------------------

describe('removal', () => {
  const sales: ProvisionSpec = { ...CRM, assign: 'user.department == "Sales"' };
  const setup = (spec: ProvisionSpec, extra: Partial<WorldSpec> = {}) => {
    const project = world({ targets: { crm: spec }, ...extra });
    return { project, ...provisioned(project) };
  };

  it('unassigning a user (department change) disables the account, with no attribute changes', () => {
    const { project, state, live } = setup(sales);
    const rows = [{ ...ADA, dept: 'Marketing', title: 'Fellow' }, ALAN, GRACE];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(p.accounts).toEqual([{
      action: 'disable', app: 'crm', key: '1', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: false, attributes: {},
      reason: `${LOGIN.ada} is no longer assigned to crm`,
    }]);
  });

  it('deactivating a user disables the account', () => {
    const { project, state, live } = setup(CRM);
    const rows = [{ ...ADA, status: 'Terminated' }, ALAN, GRACE];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(p.users.map((u) => [u.login, u.action])).toEqual([[LOGIN.ada, 'deactivate']]);
    expect(p.accounts).toEqual([expect.objectContaining({ action: 'disable', key: '1', attributes: {}, userStatus: 'DEPROVISIONED', reason: `${LOGIN.ada} is DEPROVISIONED` })]);
  });

  it('suspending a user disables the account', () => {
    const { project, state, live } = setup(CRM, { onDisabled: 'suspend' });
    const rows = [ADA, ALAN, { ...GRACE, status: 'Terminated' }];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(summaryOf(p.accounts)).toEqual([['disable', '3', LOGIN.grace]]);
    // The user's status travels with the disable, for a target that can suspend (okta).
    expect(p.accounts[0]!.userStatus).toBe('SUSPENDED');
  });

  it('deletes instead when the target has delete: true', () => {
    const { project, state, live } = setup({ ...sales, delete: true });
    const rows = [{ ...ADA, dept: 'Marketing' }, ALAN, GRACE];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(p.accounts).toEqual([expect.objectContaining({ action: 'delete', key: '1', attributes: {}, link: false })]);
  });

  it('leaves the account alone with deactivate: false', () => {
    const { project, state, live } = setup({ ...sales, deactivate: false });
    const rows = [{ ...ADA, dept: 'Marketing', status: 'Terminated' }, ALAN, GRACE];
    expect(planWith(project, state, [hr(rows)], [live]).accounts).toEqual([]);
  });

  it('leaves an account that is disabled already alone', () => {
    const { project, state, live } = setup(sales);
    const rows = [{ ...ADA, dept: 'Marketing' }, ALAN, GRACE];
    const disabled = snapshot('crm', live.accounts.map((a) => (a.key === '1' ? { ...a.attributes, active: 'false' } : a.attributes)));
    expect(planWith(project, state, [hr(rows)], [disabled]).accounts).toEqual([]);
  });

  it('reassigning a user enables their disabled account, carrying changed values', () => {
    const { project, state, live } = setup(sales);
    const away = [{ ...ADA, dept: 'Marketing' }, ALAN, GRACE];
    const round = applyRound(project, state, away, [live]);
    expect(summaryOf(round.plan.accounts)).toEqual([['disable', '1', LOGIN.ada]]);
    expect(round.targets[0]!.accounts.find((a) => a.key === '1')!.attributes.active).toBe('false');

    const back = [{ ...ADA, title: 'Fellow' }, ALAN, GRACE];
    const p = planWith(project, round.state, [hr(back)], round.targets);
    expect(p.accounts).toEqual([{
      action: 'enable', app: 'crm', key: '1', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: false,
      attributes: { title: { from: 'Engineer', to: 'Fellow' } }, reason: `${LOGIN.ada} is assigned and active again`,
    }]);
  });

  it('reactivating a user enables their account', () => {
    const { project, state, live } = setup(CRM, { reactivateDeactivated: true });
    const gone = applyRound(project, state, [{ ...ADA, status: 'Terminated' }, ALAN, GRACE], [live]);
    expect(summaryOf(gone.plan.accounts)).toEqual([['disable', '1', LOGIN.ada]]);
    const p = planWith(project, gone.state, [hr(PEOPLE)], gone.targets);
    expect(p.users.map((u) => [u.login, u.action])).toEqual([[LOGIN.ada, 'activate']]);
    expect(p.accounts).toEqual([expect.objectContaining({ action: 'enable', key: '1', attributes: {} })]);
  });

  it('uses the target\'s own status values', () => {
    const status = { attribute: 'IsActive', enabled: 'yes', disabled: 'no' };
    const project = world({ targets: { crm: { ...sales, status } } });
    const state = withLink(directory(project, PEOPLE), 'crm', '1', LOGIN.ada);
    const p1 = planWith(project, state, [hr(PEOPLE)], [crm([crmRow(ADA, { active: 'false', IsActive: 'no' })])]);
    expect(p1.accounts.filter((a) => a.key === '1')).toEqual([expect.objectContaining({ action: 'enable' })]);
    // "false" in another column means nothing; "yes" is enabled, so an unassigned user's account is disabled.
    const rows = [{ ...ADA, dept: 'Marketing' }, ALAN, GRACE];
    const p2 = planWith(project, state, [hr(rows)], [crm([crmRow(ADA, { active: 'false', IsActive: 'yes' })])]);
    expect(p2.accounts.filter((a) => a.key === '1')).toEqual([expect.objectContaining({ action: 'disable' })]);
  });
});

// ---- switches ------------------------------------------------------------------------------------------------

describe('create and update switches', () => {
  it('create: false creates nothing but still updates linked accounts', () => {
    const project = world({ targets: { crm: CRM } });
    const { state, live } = provisioned(project, [ADA]);
    const noCreate = world({ targets: { crm: { ...CRM, create: false } } });
    const rows = [{ ...ADA, title: 'Fellow' }, ALAN];
    const p = planWith(noCreate, state, [hr(rows)], [live]);
    expect(summaryOf(p.accounts)).toEqual([['update', '1', LOGIN.ada]]);
  });

  it('create: false still links an existing account', () => {
    const project = world({ targets: { crm: { ...CRM, create: false } } });
    const p = planWith(project, directory(project, [ADA, ALAN]), [hr([ADA, ALAN])], [crm([crmRow(ADA)])]);
    expect(summaryOf(p.accounts)).toEqual([['link', '1', LOGIN.ada]]);
  });

  it('update: false pushes no changed values to linked accounts', () => {
    const project = world({ targets: { crm: { ...CRM, update: false } } });
    const { state, live } = provisioned(project, [ADA]);
    const p = planWith(project, state, [hr([{ ...ADA, title: 'Fellow' }])], [live]);
    expect(p.accounts).toEqual([]);
  });

  it('update: false links a matched account without writing to it', () => {
    const project = world({ targets: { crm: { ...CRM, update: false, match: { app: 'userName', user: 'email' } } } });
    const live = [crmRow(ADA, { id: 'x-99', title: 'Intern' })];
    const p = planWith(project, directory(project, [ADA]), [hr([ADA])], [crm(live)]);
    expect(p.accounts).toEqual([expect.objectContaining({ action: 'link', key: 'x-99', link: true, attributes: {} })]);
    expect(p.summary.accounts.update).toBe(0);
  });

  it('update: false enables a disabled account without attribute changes', () => {
    const project = world({ targets: { crm: { ...CRM, update: false } } });
    const state = withLink(directory(project, [ADA]), 'crm', '1', LOGIN.ada);
    const p = planWith(project, state, [hr([ADA])], [crm([crmRow(ADA, { active: 'false', title: 'Intern' })])]);
    expect(p.accounts).toEqual([expect.objectContaining({ action: 'enable', key: '1', attributes: {} })]);
  });
});

// ---- write-back ----------------------------------------------------------------------------------------------

describe('write-back to a profile source', () => {
  const hrProvision: ProvisionSpec = {
    create: false,
    mappings: { id: 'user.employeeNumber', work_phone: 'user.phone', title: 'toUpperCase(user.title)' },
    sourced: HR_READS,
  };
  const phones = [{ user: LOGIN.ada, attributes: { phone: '555-0100' } }];
  const rows = [{ ...ADA, work_phone: '555-0000' }, { ...ALAN, work_phone: '' }];

  function setup(spec: ProvisionSpec = hrProvision) {
    const project = world({ hrProvision: spec, set: phones });
    const state = directory(project, rows);
    expect(storedRecord(state, 'hr', '1')!.attributes.work_phone).toBe('555-0000');
    return { project, state };
  }

  it('writes a value the source has not changed since the last import, and never an attribute the source sources', () => {
    const { project, state } = setup();
    const p = planWith(project, state, [hr(rows)], [hr(rows)]);
    expect(p.accounts).toEqual([{
      action: 'update', app: 'hr', key: '1', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: false,
      attributes: { work_phone: { from: '555-0000', to: '555-0100' } },
      skipped: [{ attribute: 'title', reason: 'hr sources title; a write-back never overwrites it' }],
      reason: `${LOGIN.ada}'s mapped values changed`,
    }]);
    // Alan has no phone (nothing to write) and title is the source's: no change at all.
    expect(byLogin(p, 'hr', LOGIN.alan)).toEqual([]);
    expect(p.warnings).toEqual([]);
  });

  it('skips a value the source changed since the last import and warns write-back-race, naming the attribute', () => {
    const { project, state } = setup();
    const now = [{ ...ADA, work_phone: '555-0199' }, { ...ALAN, work_phone: '' }];
    const p = planWith(project, state, [hr(now)], [hr(now)]);
    expect(p.accounts).toEqual([]);
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'write-back-race', app: 'hr', key: '1', attribute: 'work_phone', users: [LOGIN.ada] })]);
    expect(p.warnings[0]!.message).toContain('work_phone');
  });

  it('lists the raced attribute as skipped while writing the others', () => {
    const spec: ProvisionSpec = { ...hrProvision, mappings: { ...hrProvision.mappings, it_login: 'user.login' } };
    const { project, state } = setup(spec);
    const now = [{ ...ADA, work_phone: '555-0199' }, { ...ALAN, work_phone: '' }];
    const p = planWith(project, state, [hr(now)], [hr(now)]);
    const ada = byLogin(p, 'hr', LOGIN.ada);
    expect(ada).toHaveLength(1);
    expect(ada[0]!.attributes).toEqual({ it_login: { from: null, to: LOGIN.ada } });
    expect(ada[0]!.skipped).toEqual([
      { attribute: 'work_phone', reason: 'changed in hr since the last import ("555-0000" → "555-0199"); not overwritten' },
      { attribute: 'title', reason: 'hr sources title; a write-back never overwrites it' },
    ]);
    expect(p.warnings.map((w) => [w.code, w.attribute, w.users])).toEqual([['write-back-race', 'work_phone', [LOGIN.ada]]]);
  });

  it('records the written values as last imported, so the next plan converges', () => {
    const { project, state } = setup();
    const round = applyRound(project, state, rows, [hr(rows)]);
    expect(summaryOf(round.plan.accounts)).toEqual([['update', '1', LOGIN.ada]]);
    const record = storedRecord(round.state, 'hr', '1')!;
    expect(record.attributes).toEqual({ ...rows[0], work_phone: '555-0100' });
    const liveRows = round.targets[0]!.accounts.map((a) => a.attributes);
    const next = planWith(project, round.state, [hr(liveRows)], round.targets);
    expect(next.accounts).toEqual([]);
    expect(next.imports).toEqual([]);
    expect(next.warnings).toEqual([]);
    expect(next.summary.changes).toBe(0);
  });

  it('a disable of a write-back account writes nothing else and raises no race warning', () => {
    const spec: ProvisionSpec = { ...hrProvision, assign: 'user.department != "Marketing"' };
    const { project, state } = setup(spec);
    const now = [{ ...ADA, dept: 'Marketing', work_phone: '555-0199' }, { ...ALAN, work_phone: '' }];
    const p = planWith(project, state, [hr(now)], [hr(now)]);
    expect(p.accounts).toEqual([{
      action: 'disable', app: 'hr', key: '1', userId: userId(state, LOGIN.ada), login: LOGIN.ada, link: false, attributes: {},
      reason: `${LOGIN.ada} is no longer assigned to hr`,
    }]);
    expect(p.warnings).toEqual([]);
  });

  it('with update: false nothing is pushed, so nothing races', () => {
    const { project, state } = setup({ ...hrProvision, update: false });
    const now = [{ ...ADA, work_phone: '555-0199' }, { ...ALAN, work_phone: '' }];
    const p = planWith(project, state, [hr(now)], [hr(now)]);
    expect(p.accounts).toEqual([]);
    expect(p.warnings).toEqual([]);
  });
});

// ---- unreadable targets --------------------------------------------------------------------------------------

describe('a target with unreadable rows', () => {
  it('plans no changes for it, warns target-skipped, and still plans the other targets', () => {
    const project = world({ targets: { crm: CRM, wiki: { mappings: { id: 'user.employeeNumber', name: 'user.login' } } } });
    const state = directory(project, [ADA, ALAN]);
    const broken = crm([]);
    broken.rowErrors = [{ line: 3, message: 'wrong number of fields', key: '1' }];
    const p = planWith(project, state, [hr([ADA, ALAN])], [broken, snapshot('wiki', [])]);
    expect(accountsOf(p, 'crm')).toEqual([]);
    expect(summaryOf(accountsOf(p, 'wiki'))).toEqual([['create', '1', LOGIN.ada], ['create', '2', LOGIN.alan]]);
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'target-skipped', app: 'crm' })]);
    expect(p.warnings[0]!.message).toContain('line 3');
    expect(p.applyable).toBe(true);
  });
});

// ---- safeguards ----------------------------------------------------------------------------------------------

describe('safeguards count target changes', () => {
  const spec: ProvisionSpec = { ...CRM, assign: 'user.department != "Marketing"' };
  const limits = { disableAccounts: 1, changeAccounts: 1 };

  function dayTwo(extra: Partial<ProvisionSpec> = {}) {
    const project = world({ targets: { crm: { ...spec, ...extra } }, safeguards: { apps: { crm: limits } } });
    const { state, live } = provisioned(project);
    const rows = [{ ...ADA, dept: 'Marketing' }, { ...ALAN, title: 'Fellow' }, { ...GRACE, dept: 'Marketing' }];
    return planWith(project, state, [hr(rows)], [live]);
  }

  it('disables count as disableAccounts and updates as changeAccounts, against the linked accounts', () => {
    const p = dayTwo();
    expect(summaryOf(p.accounts)).toEqual([['disable', '1', LOGIN.ada], ['update', '2', LOGIN.alan], ['disable', '3', LOGIN.grace]]);
    const verdicts = p.safeguards.filter((v) => v.scope === 'crm');
    expect(verdicts).toEqual([
      { scope: 'crm', kind: 'disableAccounts', count: 2, base: 3, threshold: 1, limit: 1, tripped: true },
      { scope: 'crm', kind: 'changeAccounts', count: 1, base: 3, threshold: 1, limit: 1, tripped: false },
    ]);
    expect(p.applyable).toBe(false);
    expect(p.blockers).toEqual([expect.objectContaining({ code: 'safeguard' })]);
    expect(p.blockers[0]!.message).toContain('in crm');
  });

  it('deletes count as disableAccounts too', () => {
    const p = dayTwo({ delete: true });
    expect(p.accounts.filter((a) => a.action === 'delete')).toHaveLength(2);
    expect(p.safeguards.find((v) => v.scope === 'crm' && v.kind === 'disableAccounts')).toMatchObject({ count: 2, tripped: true });
  });
});

// ---- applyTargetResults --------------------------------------------------------------------------------------

describe('applyTargetResults', () => {
  const result = (change: AccountChange, outcome: AccountResult['outcome']): AccountResult => ({ app: change.app, key: change.key, action: change.action, outcome });

  it('records links for done creates and links only, never for failed or skipped ones', () => {
    const project = world({ targets: { crm: { ...CRM, match: { app: 'userName', user: 'email' } } } });
    const dave = person('4', 'Dave', 'Cutler', 'Sales');
    const rows = [...PEOPLE, dave];
    const state = directory(project, rows);
    const live = [crmRow(ALAN, { id: 'x-2' }), crmRow(dave, { id: 'x-4' })];
    const p = planWith(project, state, [hr(rows)], [crm(live)]);
    expect(summaryOf(p.accounts)).toEqual([['create', '1', LOGIN.ada], ['create', '3', LOGIN.grace], ['link', 'x-2', LOGIN.alan], ['link', 'x-4', 'dave.cutler@example.com']]);
    const [ada, grace, alan, daveLink] = p.accounts as [AccountChange, AccountChange, AccountChange, AccountChange];
    const next = applyTargetResults(state, p, [result(ada, 'done'), result(grace, 'failed'), result(alan, 'done'), result(daveLink, 'skipped')], new Set());
    expect(next.links.filter((l) => l.app === 'crm')).toEqual([
      { app: 'crm', key: '1', userId: userId(state, LOGIN.ada) },
      { app: 'crm', key: 'x-2', userId: userId(state, LOGIN.alan) },
    ]);
    expect(next.serial).toBe(state.serial + 1);
    expect(next.users).toBe(state.users);
    expect(state.links.some((l) => l.app === 'crm')).toBe(false); // the input is not mutated
  });

  it('a result for another action on the same key does not count', () => {
    const project = world({ targets: { crm: CRM } });
    const state = directory(project, [ADA]);
    const p = planWith(project, state, [hr([ADA])], [crm([])]);
    const next = applyTargetResults(state, p, [{ app: 'crm', key: '1', action: 'update', outcome: 'done' }], new Set());
    expect(next).toBe(state);
  });

  it('a done delete removes the link', () => {
    const project = world({ targets: { crm: { ...CRM, assign: 'user.department == "Sales"', delete: true } } });
    const { state, live } = provisioned(project);
    expect(state.links.filter((l) => l.app === 'crm').map((l) => l.key)).toEqual(['1', '3']);
    const p = planWith(project, state, [hr([{ ...ADA, dept: 'Marketing' }, ALAN, GRACE])], [live]);
    expect(summaryOf(p.accounts)).toEqual([['delete', '1', LOGIN.ada]]);
    const next = applyTargetResults(state, p, allDone(p), new Set());
    expect(next.links.filter((l) => l.app === 'crm').map((l) => l.key)).toEqual(['3']);
    expect(next.links.filter((l) => l.app === 'hr')).toEqual(state.links.filter((l) => l.app === 'hr'));
    expect(next.serial).toBe(state.serial + 1);
  });

  it('a failed delete keeps the link', () => {
    const project = world({ targets: { crm: { ...CRM, assign: 'user.department == "Sales"', delete: true } } });
    const { state, live } = provisioned(project);
    const p = planWith(project, state, [hr([{ ...ADA, dept: 'Marketing' }, ALAN, GRACE])], [live]);
    expect(applyTargetResults(state, p, p.accounts.map((a) => result(a, 'failed')), new Set())).toBe(state);
  });

  it('leaves the state (and its serial) alone when nothing was recorded', () => {
    const project = world({ targets: { crm: { ...CRM, assign: 'user.department == "Sales"' } } });
    const { state, live } = provisioned(project);
    const rows = [{ ...ADA, dept: 'Marketing' }, ALAN, { ...GRACE, title: 'Admiral' }];
    const p = planWith(project, state, [hr(rows)], [live]);
    expect(summaryOf(p.accounts)).toEqual([['disable', '1', LOGIN.ada], ['update', '3', LOGIN.grace]]);
    expect(applyTargetResults(state, p, [], new Set())).toBe(state);
    expect(applyTargetResults(state, p, p.accounts.map((a) => result(a, 'skipped')), new Set())).toBe(state);
    // Done, but a disable or an update of an account already linked records nothing.
    expect(applyTargetResults(state, p, allDone(p), new Set())).toBe(state);
  });

  it('updates the imported record of a write-back app with the written values only when done', () => {
    const project = world({
      hrProvision: { create: false, mappings: { id: 'user.employeeNumber', work_phone: 'user.phone', it_login: 'user.login' }, sourced: HR_READS },
      set: [{ user: LOGIN.ada, attributes: { phone: '555-0100' } }],
    });
    const rows = [{ ...ADA, work_phone: '555-0000' }];
    const state = directory(project, rows);
    const p = planWith(project, state, [hr(rows)], [hr(rows)]);
    expect(p.accounts[0]!.attributes).toEqual({ work_phone: { from: '555-0000', to: '555-0100' }, it_login: { from: null, to: LOGIN.ada } });

    const next = applyTargetResults(state, p, allDone(p), new Set(['hr']));
    expect(storedRecord(next, 'hr', '1')).toEqual({ attributes: { ...rows[0], work_phone: '555-0100', it_login: LOGIN.ada }, disabled: false });
    expect(next.serial).toBe(state.serial + 1);
    expect(storedRecord(state, 'hr', '1')!.attributes.work_phone).toBe('555-0000'); // not mutated

    expect(applyTargetResults(state, p, allDone(p), new Set())).toBe(state); // not a write-back app: nothing to record
    expect(applyTargetResults(state, p, p.accounts.map((a) => result(a, 'failed')), new Set(['hr']))).toBe(state);
  });
});

// ---- convergence ---------------------------------------------------------------------------------------------

describe('convergence', () => {
  it('a re-plan after the targets carried out the changes has no account changes', () => {
    const project = world({
      targets: {
        crm: { ...CRM, assign: 'user.department == "Sales"', match: { app: 'userName', user: 'email' } },
        wiki: { mappings: { id: 'user.employeeNumber', name: 'user.firstName', login: { value: 'user.login', on: 'create' } } },
      },
    });
    const dave = person('4', 'Dave', 'Cutler', 'Sales');
    const rows = [...PEOPLE, dave];
    // Grace has an account under another key; Dave's differs in a value.
    const live = [crmRow(GRACE, { id: 'x-3' }), crmRow(dave, { id: 'x-4', title: 'Intern', extra: 'kept' })];
    const first = applyRound(project, emptyState(), rows, [crm(live), snapshot('wiki', [])]);
    expect(summaryOf(accountsOf(first.plan, 'crm'))).toEqual([['create', '1', LOGIN.ada], ['link', 'x-3', LOGIN.grace], ['update', 'x-4', 'dave.cutler@example.com']]);
    expect(accountsOf(first.plan, 'wiki')).toHaveLength(4);
    expect(planWith(project, first.state, [hr(rows)], first.targets).accounts).toEqual([]);

    // Day two: Ada moves out of Sales, Alan into it, Grace is terminated, Dave gets a new title.
    const day2 = [{ ...ADA, dept: 'Marketing' }, { ...ALAN, dept: 'Sales' }, { ...GRACE, status: 'Terminated' }, { ...dave, title: 'Fellow' }];
    const second = applyRound(project, first.state, day2, first.targets);
    expect(summaryOf(accountsOf(second.plan, 'crm'))).toEqual([
      ['disable', '1', LOGIN.ada], ['create', '2', LOGIN.alan], ['disable', 'x-3', LOGIN.grace], ['update', 'x-4', 'dave.cutler@example.com'],
    ]);
    expect(summaryOf(accountsOf(second.plan, 'wiki'))).toEqual([['disable', '3', LOGIN.grace]]);
    const again = planWith(project, second.state, [hr(day2)], second.targets);
    expect(again.accounts).toEqual([]);
    expect(again.summary.changes).toBe(0);
    expect(second.targets[0]!.accounts.find((a) => a.key === 'x-4')!.attributes.extra).toBe('kept');
  });
});

describe('a replaced account', () => {
  it('drops the link to the vanished account when its replacement is created', () => {
    const state = { ...emptyState(), lineage: 'L', serial: 1, links: [{ app: 'crm', key: 'old-key', userId: 'u1' }, { app: 'hr', key: '1', userId: 'u1' }] };
    const plan = { accounts: [{ action: 'create', app: 'crm', key: 'new-key', userId: 'u1', login: 'a@example.com', attributes: {}, link: true, reason: '' }] } as unknown as Parameters<typeof applyTargetResults>[1];
    const next = applyTargetResults(state, plan, [{ app: 'crm', key: 'new-key', action: 'create', outcome: 'done' }], new Set());
    expect(next.links).toEqual([{ app: 'hr', key: '1', userId: 'u1' }, { app: 'crm', key: 'new-key', userId: 'u1' }]);
  });
});
