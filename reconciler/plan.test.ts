import { describe, expect, it } from 'vitest';
import { applyPlanToState } from './apply-plan.ts';
import { changedAttributes } from './diff.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan, planAndApply, snapshot } from './testing.ts';

const hrProject = (imp: Record<string, unknown> = {}) => makeProject({
  apps: { hr: { import: { mappings: HR_MAPPINGS, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE', ...imp } } },
});

const rows = [hrRow('1', 'Ada', 'Lovelace'), hrRow('2', 'Zoë', 'Müller'), hrRow('3', 'Alan', 'Turing')];

describe('first import', () => {
  it('creates one user per account, links it and records the imported values', () => {
    const p = plan(hrProject(), emptyState(), [snapshot('hr', rows)]);
    expect(p.applyable).toBe(true);
    expect(p.summary.users.create).toBe(3);
    expect(p.summary.links.link).toBe(3);
    expect(p.imports.map((i) => [i.action, i.key])).toEqual([['record', '1'], ['record', '2'], ['record', '3']]);
    const zoe = p.users.find((u) => u.login === 'zoë.müller@example.com')!;
    expect(zoe.action).toBe('create');
    expect(zoe.after.status).toBe('ACTIVE');
    expect(zoe.after.profileSource).toBe('hr');
    expect(zoe.attributes).toBeUndefined(); // a create lists no attributes: after.profile holds them all
    expect(changedAttributes(zoe).firstName).toEqual({ from: null, to: 'Zoë' });
  });

  it('uses newUserStatus for new users', () => {
    const p = plan(hrProject({ newUserStatus: 'STAGED' }), emptyState(), [snapshot('hr', rows)]);
    expect(p.users.every((u) => u.after.status === 'STAGED')).toBe(true);
  });

  it('is deterministic: the same inputs give the same plan', () => {
    const a = plan(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const b = plan(hrProject(), emptyState(), [snapshot('hr', [...rows].reverse())]);
    expect(b.users).toEqual(a.users);
    expect(b.links).toEqual(a.links);
  });
});

describe('second import', () => {
  it('has nothing to do when nothing changed', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrProject(), state, [snapshot('hr', rows)]);
    expect(p.summary.changes).toBe(0);
    expect(p.summary.imports).toBe(0);
    expect(p.state).toEqual({ lineage: 'lineage-1', serial: 1, digest: null });
  });

  it('shows only the attribute that changed, from → to', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const edited = rows.map((r) => (r.id === '3' ? { ...r, title: 'Fellow' } : r));
    const p = plan(hrProject(), state, [snapshot('hr', edited)]);
    expect(p.users).toHaveLength(1);
    expect(p.users[0]!.action).toBe('update');
    expect(p.users[0]!.attributes).toEqual({ title: { from: 'Engineer', to: 'Fellow' } });
    expect(p.imports.map((i) => [i.action, i.key])).toEqual([['refresh', '3']]);
  });

  it('refreshes the imported record, and changes no user, when only an unmapped column changes', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const edited = rows.map((r) => (r.id === '1' ? { ...r, unmapped: 'x' } : r));
    const p = plan(hrProject(), state, [snapshot('hr', edited)]);
    expect(p.summary.changes).toBe(0);
    expect(p.imports).toHaveLength(1);
  });

  it('clears an attribute whose source value became empty (no fallback)', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const edited = rows.map((r) => (r.id === '1' ? { ...r, title: '' } : r));
    const p = plan(hrProject(), state, [snapshot('hr', edited)]);
    expect(p.users[0]!.attributes).toEqual({ title: { from: 'Engineer', to: null } });
    expect(p.users[0]!.after.profile.title).toBeUndefined();
  });
});

describe('lifecycle from the source', () => {
  it('deactivates a user whose account is disabled at the source', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const edited = rows.map((r) => (r.id === '2' ? { ...r, status: 'Terminated' } : r));
    const p = plan(hrProject(), state, [snapshot('hr', edited)]);
    expect(p.users).toHaveLength(1);
    expect(p.users[0]!.action).toBe('deactivate');
    expect(p.users[0]!.status).toEqual({ from: 'ACTIVE', to: 'DEPROVISIONED' });
    expect(p.imports[0]!.disabled).toBe(true);
  });

  it('creates an already-terminated new account as DEPROVISIONED', () => {
    const p = plan(hrProject(), emptyState(), [snapshot('hr', [hrRow('9', 'Old', 'Timer', { status: 'Terminated' })])]);
    expect(p.users[0]!.after.status).toBe('DEPROVISIONED');
  });

  it('suspends under onDisabled: suspend and unsuspends when enabled again', () => {
    const project = hrProject({ onDisabled: 'suspend' });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows)]);
    const off = rows.map((r) => (r.id === '1' ? { ...r, status: 'Terminated' } : r));
    const suspended = planAndApply(project, state, [snapshot('hr', off)]);
    expect(suspended.plan.users[0]!.action).toBe('suspend');
    const back = plan(project, suspended.state, [snapshot('hr', rows)]);
    expect(back.users[0]!.action).toBe('unsuspend');
  });

  it('deactivates instead of suspending a STAGED user, and says why', () => {
    const project = hrProject({ onDisabled: 'suspend', newUserStatus: 'STAGED' });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows)]);
    const off = rows.map((r) => (r.id === '1' ? { ...r, status: 'Terminated' } : r));
    const p = plan(project, state, [snapshot('hr', off)]);
    expect(p.users[0]!.action).toBe('deactivate');
    expect(p.users[0]!.reason).toContain('cannot be suspended');
  });

  it('does not reactivate a deactivated user unless reactivate.deactivated is set', () => {
    const off = rows.map((r) => (r.id === '1' ? { ...r, status: 'Terminated' } : r));
    for (const deactivated of [false, true]) {
      const project = hrProject({ reactivate: { deactivated } });
      const first = planAndApply(project, emptyState(), [snapshot('hr', off)]);
      const p = plan(project, first.state, [snapshot('hr', rows)]);
      expect(p.users.map((u) => u.action)).toEqual(deactivated ? ['activate'] : []);
    }
  });

  it('deactivates a user whose account vanished from a full import (onMissing), and unlinks it', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrProject(), state, [snapshot('hr', rows.slice(0, 2))]);
    expect(p.users).toHaveLength(1);
    expect(p.users[0]!.action).toBe('deactivate');
    expect(p.users[0]!.reason).toContain('vanished from hr');
    expect(p.links).toEqual([expect.objectContaining({ action: 'unlink', app: 'hr', key: '3' })]);
    expect(p.imports).toEqual([{ action: 'forget', app: 'hr', key: '3' }]);
  });

  it('never treats an account as missing when rows could not be read', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrProject(), state, [snapshot('hr', rows.slice(0, 2), 'id', [{ line: 4, message: 'wrong number of fields' }])]);
    expect(p.summary.changes).toBe(0);
    expect(p.applyable).toBe(true);
    expect(p.warnings.map((w) => w.code)).toEqual(['row-error', 'held-back', 'missing-suspended']);
    expect(p.warnings[0]!.line).toBe(4);
  });

  it('keeps a bad row with a recovered key from counting as missing, while other vanished accounts still do', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrProject(), state, [snapshot('hr', [rows[0]!], 'id', [{ line: 3, message: 'bad quote', key: '2' }])]);
    expect(p.users.map((u) => [u.login, u.action])).toEqual([['alan.turing@example.com', 'deactivate']]);
  });

  it('blocks the deactivation of a protected user and reports it', () => {
    const project = makeProject({
      apps: { hr: { import: { mappings: HR_MAPPINGS, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE' } } },
      set: [{ user: 'ada.lovelace@example.com', roles: ['super_admin'] }],
    });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows)]);
    const off = rows.map((r) => (r.id === '1' ? { ...r, status: 'Terminated' } : r));
    const p = plan(project, state, [snapshot('hr', off)]);
    expect(p.users).toHaveLength(0);
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'protected-user', users: ['ada.lovelace@example.com'] })]);
  });
});

describe('correlation never guesses', () => {
  it('reports duplicate keys as a conflict and imports neither row', () => {
    const p = plan(hrProject(), emptyState(), [snapshot('hr', [...rows, hrRow('2', 'Other', 'Person')])]);
    expect(p.applyable).toBe(false);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'duplicate-key', key: '2', line: 3 })]);
    expect(p.conflicts[0]!.message).toContain('lines 3, 5');
    expect(p.users.map((u) => u.login)).not.toContain('other.person@example.com');
    expect(p.blockers[0]!.message).toContain('1 conflict');
  });

  it('links an existing user found by a case-insensitive rule instead of creating a duplicate', () => {
    const project = hrProject({ match: [{ app: 'email', user: 'email', normalize: ['case'] }] });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows)]);
    // The HR system re-keyed Ada: the old account vanished, a new key carries her email in capitals.
    const rekeyed = [{ ...rows[0]!, id: '100', email: 'ADA.LOVELACE@EXAMPLE.COM' }, rows[1]!, rows[2]!];
    const p = plan(project, state, [snapshot('hr', rekeyed)]);
    expect(p.summary.users.create).toBe(0);
    const ada = state.users.find((u) => u.login === 'ada.lovelace@example.com')!;
    expect(p.links.filter((l) => l.action === 'link')).toEqual([expect.objectContaining({ key: '100', userId: ada.id, reason: 'matched by a rule' })]);
    expect(p.users.map((u) => [u.id, u.action])).toEqual([[ada.id, 'update']]);
  });

  it('reports an account that matches several users as ambiguous', () => {
    const project = makeProject({
      apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE', match: [{ app: 'last', user: 'lastName' }] } } },
    });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', [hrRow('1', 'Ada', 'Smith'), hrRow('2', 'Bob', 'Smith')])]);
    const p = plan(project, state, [snapshot('hr', [hrRow('1', 'Ada', 'Smith'), hrRow('2', 'Bob', 'Smith'), hrRow('3', 'Cy', 'Smith')])]);
    expect(p.applyable).toBe(false);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'ambiguous-match', key: '3', users: ['ada.smith@example.com', 'bob.smith@example.com'] })]);
    expect(p.conflicts[0]!.resolution).toContain('links:');
  });

  it('reports several accounts matching one user as ambiguous', () => {
    const project = hrProject({ match: [{ app: 'email', user: 'email' }] });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', [rows[0]!])]);
    const p = plan(project, state, [snapshot('hr', [{ ...rows[0]!, id: '7' }, { ...rows[0]!, id: '8' }])]);
    expect(p.conflicts.filter((c) => c.code === 'ambiguous-match').map((c) => c.key)).toEqual(['7', '8']);
  });

  it('never links a declared user silently', () => {
    const project = makeProject({
      apps: { hr: { import: { mappings: HR_MAPPINGS, match: [{ app: 'email', user: 'email' }] } } },
      users: [{ login: 'ada.lovelace@example.com', roles: ['super_admin'], profile: { email: 'ada.lovelace@example.com' } }],
    });
    const p = plan(project, emptyState(), [snapshot('hr', rows)]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'declared-user-match', key: '1' })]);
  });

  it('follows a links: entry over the rules', () => {
    const base = hrProject();
    const { state } = planAndApply(base, emptyState(), [snapshot('hr', rows)]);
    const pinned = makeProject({
      apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } },
      links: [{ app: 'hr', key: '50', user: 'alan.turing@example.com' }],
    });
    const p = plan(pinned, state, [snapshot('hr', [...rows.slice(0, 2), { ...rows[2]!, id: '50' }])]);
    expect(p.summary.users.create).toBe(0);
    expect(p.links).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'link', key: '50', login: 'alan.turing@example.com', reason: 'pinned by a links: entry' }),
      expect.objectContaining({ action: 'unlink', key: '3' }),
    ]));
  });

  it('says when a links: entry pins a key the full read does not have, and changes nothing for it', () => {
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const pinned = makeProject({
      apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } },
      links: [{ app: 'hr', key: '9999', user: 'alan.turing@example.com' }],
    });
    const p = plan(pinned, state, [snapshot('hr', rows)]);
    expect(p.summary.changes).toBe(0);
    expect(p.warnings).toEqual([expect.objectContaining({
      code: 'stale-link', app: 'hr', key: '9999', users: ['alan.turing@example.com'],
      message: 'links: pins hr/9999 to alan.turing@example.com, but hr has no account 9999; the entry does nothing until one appears',
    })]);
  });

  it('lists review items with the links: entry that settles them', () => {
    const p = plan(hrProject({ onNoMatch: 'review' }), emptyState(), [snapshot('hr', rows)]);
    expect(p.reviews).toHaveLength(3);
    expect(p.reviews[0]!.resolution).toContain('links: [{ app: hr, key: "1"');
    expect(p.applyable).toBe(true);
    expect(p.summary.changes).toBe(0);
  });
});

describe('mapping', () => {
  it('reports two accounts mapping to the same login as a unique violation', () => {
    const p = plan(hrProject(), emptyState(), [snapshot('hr', [rows[0]!, { ...rows[0]!, id: '9' }])]);
    expect(p.applyable).toBe(false);
    expect(p.conflicts.map((c) => [c.code, c.attribute])).toContainEqual(['unique-violation', 'login']);
  });

  it('reports a required attribute that maps to empty, naming the row', () => {
    const p = plan(hrProject(), emptyState(), [snapshot('hr', [{ ...rows[0]!, email: '' }])]);
    expect(p.conflicts).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'missing-required', attribute: 'login', key: '1', line: 2 })]));
    expect(p.users).toHaveLength(0);
  });

  it('converts to the declared type and reports values that do not fit', () => {
    const project = makeProject({
      attributes: { login: { required: true, unique: true }, level: { type: 'integer' } },
      apps: { hr: { import: { mappings: { login: 'app.email', level: 'app.level' } } } },
    });
    const p = plan(project, emptyState(), [snapshot('hr', [hrRow('1', 'A', 'B', { level: '7' }), hrRow('2', 'C', 'D', { level: 'senior' })])]);
    expect(p.users.find((u) => u.login === 'a.b@example.com')!.after.profile.level).toBe(7);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'invalid-value', key: '2', attribute: 'level' })]);
  });

  it('reports an expression that fails at run time with the row', () => {
    const project = makeProject({ apps: { hr: { import: { mappings: { login: 'app.email', title: 'app.no_such_column' } } } } });
    const p = plan(project, emptyState(), [snapshot('hr', [rows[0]!])]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'expression-error', key: '1', line: 2, attribute: 'title' })]);
  });

  it('keeps directory-owned attributes and never overwrites them from the source', () => {
    const project = makeProject({
      attributes: { ...{ login: { required: true, unique: true } }, nickname: { source: 'directory' }, title: {} },
      apps: { hr: { import: { mappings: { login: 'app.email', title: 'app.title', nickname: 'app.first' } } } },
    });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows)]);
    expect(state.users[0]!.profile.nickname).toBeUndefined();
    state.users[0] = { ...state.users[0]!, profile: { ...state.users[0]!.profile, nickname: 'Countess' } };
    const p = plan(project, state, [snapshot('hr', rows)]);
    expect(p.summary.changes).toBe(0);
  });
});

describe('profile source priority', () => {
  const twoSources = () => makeProject({
    apps: {
      hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE', match: [{ app: 'email', user: 'email' }] } },
      ad: { import: { mappings: { login: 'app.email', email: 'app.email', title: 'app.title' }, newUserStatus: 'ACTIVE', match: [{ app: 'email', user: 'email' }] } },
    },
    profileSources: ['hr', 'ad'],
  });

  it('sources a user linked to two apps from the higher-priority one only', () => {
    const ad = snapshot('ad', [{ id: 'a1', email: 'ada.lovelace@example.com', title: 'AD title' }]);
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', [rows[0]!]), ad]);
    const ada = state.users.find((u) => u.login === 'ada.lovelace@example.com')!;
    expect(ada.profileSource).toBe('hr');
    expect(ada.profile.title).toBe('Engineer');
    expect(state.links.map((l) => l.app).sort()).toEqual(['ad', 'hr']);
  });

  it('switches the source when the primary drops the user, and shows what changes', () => {
    const ad = snapshot('ad', [{ id: 'a1', email: 'ada.lovelace@example.com', title: 'AD title' }]);
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', [rows[0]!]), ad]);
    const p = plan(twoSources(), state, [snapshot('hr', []), ad]);
    expect(p.users).toHaveLength(1);
    const change = p.users[0]!;
    expect(change.action).toBe('update');
    expect(change.source).toEqual({ from: 'hr', to: 'ad' });
    expect(change.attributes!.title).toEqual({ from: 'Engineer', to: 'AD title' });
    expect(change.attributes!.firstName).toEqual({ from: 'Ada', to: null });
    expect(change.reason).toContain('switches from hr to ad');
  });
});

describe('apply', () => {
  it('keeps accounts whose keys are named like Object.prototype members', () => {
    const odd = [hrRow('constructor', 'Con', 'Structor'), hrRow('toString', 'To', 'String'), hrRow('__proto__', 'Pro', 'To')];
    const { state } = planAndApply(hrProject(), emptyState(), [snapshot('hr', odd)]);
    expect([...state.imported.get('hr')!.records.keys()].sort()).toEqual(['__proto__', 'constructor', 'toString']);
    const again = plan(hrProject(), state, [snapshot('hr', odd)]);
    expect(again.summary.changes + again.summary.imports).toBe(0);
  });

  it('writes exactly the plan and bumps the serial', () => {
    const p = plan(hrProject(), emptyState(), [snapshot('hr', rows)]);
    const next = applyPlanToState(emptyState(), p, 'L');
    expect(next.serial).toBe(1);
    expect(next.lineage).toBe('L');
    expect(next.users).toHaveLength(3);
    expect(next.links).toHaveLength(3);
    expect([...next.imported.get('hr')!.records.keys()]).toEqual(['1', '2', '3']);
    const again = applyPlanToState(next, plan(hrProject(), next, [snapshot('hr', rows)]), 'other');
    expect(again.lineage).toBe('L');
  });
});

describe('roles come only from the config', () => {
  const hr = { hr: { import: { mappings: HR_MAPPINGS, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE' as const } } };
  const granting = makeProject({
    apps: hr,
    set: [{ user: 'ada.lovelace@example.com', roles: ['super_admin', 'auditor'] }],
    users: [{ login: 'root@example.com', roles: ['super_admin'], profile: { email: 'root@example.com' } }],
  });

  it('calls out a grant of super_admin in the summary', () => {
    const p = plan(granting, emptyState(), [snapshot('hr', rows)]);
    expect(p.summary.superAdmin).toEqual({ granted: ['ada.lovelace@example.com', 'root@example.com'], removed: [] });
  });

  it('takes a role away when its set: entry is gone, and says why', () => {
    const { state } = planAndApply(granting, emptyState(), [snapshot('hr', rows)]);
    const p = plan(makeProject({ apps: hr, users: granting.declaredUsers }), state, [snapshot('hr', rows)]);
    expect(p.users.map((u) => [u.login, u.action, u.before?.roles, u.after.roles])).toEqual([
      ['ada.lovelace@example.com', 'update', ['super_admin', 'auditor'], []],
    ]);
    expect(p.users[0]!.reason).toContain('no set: entry grants the roles super_admin, auditor any more');
    expect(p.summary.superAdmin).toEqual({ granted: [], removed: ['ada.lovelace@example.com'] });
  });

  it('takes the roles of a user removed from users: and keeps the rest of their record', () => {
    const { state } = planAndApply(granting, emptyState(), [snapshot('hr', rows)]);
    const root = state.users.find((u) => u.login === 'root@example.com')!;
    const p = plan(makeProject({ apps: hr, set: [{ user: 'ada.lovelace@example.com', roles: ['super_admin', 'auditor'] }] }), state, [snapshot('hr', rows)]);
    expect(p.users).toHaveLength(1);
    expect(p.users[0]!.after).toEqual({ ...root, roles: [] });
    expect(p.users[0]!.reason).toContain('no users: or set: entry grants the role super_admin any more');
  });

  it('keeps what set: gives a user whose login the source renamed, until the entry is renamed too', () => {
    const { state } = planAndApply(granting, emptyState(), [snapshot('hr', rows)]);
    const renamed = rows.map((r) => (r.id === '1' ? { ...r, email: 'ada.king@example.com' } : r));
    const p = plan(granting, state, [snapshot('hr', renamed)]);
    const ada = p.users.find((u) => u.after.login === 'ada.king@example.com')!;
    expect(ada.after.roles).toEqual(['super_admin', 'auditor']);
    expect(p.summary.superAdmin).toBeUndefined();
  });

  it('lets a termination through once the config no longer protects the user', () => {
    const { state } = planAndApply(granting, emptyState(), [snapshot('hr', rows)]);
    const off = rows.map((r) => (r.id === '1' ? { ...r, status: 'Terminated' } : r));
    expect(plan(granting, state, [snapshot('hr', off)]).users).toHaveLength(0);
    const p = plan(makeProject({ apps: hr, users: granting.declaredUsers }), state, [snapshot('hr', off)]);
    expect(p.users.map((u) => [u.login, u.action, u.after.roles])).toEqual([['ada.lovelace@example.com', 'deactivate', []]]);
  });
});
