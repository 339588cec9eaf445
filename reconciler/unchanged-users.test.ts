/**
 * Leaving unchanged users alone (issue 9): once the state records the pipeline fingerprint of the config
 * that evaluated everyone, a plan re-evaluates only users with an account that changed, a missing account,
 * or whom the config singles out; everything else must come out exactly as a full evaluation would say,
 * and an edit the store reports (`edited`), a config change or a new semantics version brings back the
 * full evaluation. In memory only.
 */
import { describe, expect, it } from 'vitest';
import { applyPlanToState } from './apply-plan.ts';
import type { DirectoryState } from './model.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan, planAndApply, snapshot, storedRecord, type ProjectSpec } from './testing.ts';

const ADA = 'ada.lovelace@example.com';
const ALAN = 'alan.turing@example.com';
const rows = [hrRow('1', 'Ada', 'Lovelace'), hrRow('2', 'Alan', 'Turing'), hrRow('3', 'Grace', 'Hopper')];
const spec = (extra: Partial<ProjectSpec> = {}): ProjectSpec => ({
  apps: { hr: { import: { mappings: HR_MAPPINGS, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE' } } }, ...extra,
});
const applied = (project = makeProject(spec()), input = rows) => planAndApply(project, emptyState(), [snapshot('hr', input)]).state;
const edited = (state: DirectoryState, login: string, title: string): DirectoryState => ({
  ...state, users: state.users.map((u) => (u.login === login ? { ...u, profile: { ...u.profile, title } } : u)),
});

describe('a plan after an apply with the same config', () => {
  it('records the config that evaluated every user, and then evaluates only changed accounts', () => {
    const project = makeProject(spec());
    const first = plan(project, emptyState(), [snapshot('hr', rows)]);
    expect(first.evaluated).toBe('all');
    const state = applied(project);
    expect(state.pipeline).toBe(project.pipelineFingerprint);
    const again = plan(project, state, [snapshot('hr', rows)]);
    expect(again.evaluated).toBe('changed');
    expect(again.summary.changes + again.summary.imports).toBe(0);
  });

  it('gives the changed user exactly what a full evaluation gives', () => {
    const project = makeProject(spec());
    const state = applied(project);
    const input = [snapshot('hr', rows.map((r) => (r.id === '2' ? { ...r, title: 'Fellow', last: 'Turing-Smith' } : r)))];
    const fast = plan(project, state, input);
    const full = plan(project, { ...state, pipeline: null }, input);
    expect(fast.evaluated).toBe('changed');
    expect(full.evaluated).toBe('all');
    expect(fast.users).toEqual(full.users);
    expect(fast.imports).toEqual(full.imports);
    expect(fast.users.map((u) => [u.login, u.attributes])).toEqual([[ALAN, { lastName: { from: 'Turing', to: 'Turing-Smith' }, title: { from: 'Engineer', to: 'Fellow' } }]]);
  });

  it('lets two users swap a unique value, and finds the clash when only one takes the other\'s, as a full evaluation does', () => {
    const project = makeProject(spec());
    const state = applied(project);
    const swap = [snapshot('hr', rows.map((r) => (r.id === '1' ? { ...r, email: ALAN } : r.id === '2' ? { ...r, email: ADA } : r)))];
    const swapped = plan(project, state, swap);
    expect(swapped.evaluated).toBe('changed');
    expect(swapped.conflicts).toEqual([]);
    expect(swapped.conflicts).toEqual(plan(project, { ...state, pipeline: null }, swap).conflicts);
    const taken = [snapshot('hr', rows.map((r) => (r.id === '3' ? { ...r, email: ALAN } : r)))];
    const clash = plan(project, state, taken);
    expect(clash.conflicts.map((c) => [c.attribute, c.users])).toEqual([['login', [ALAN, ALAN]], ['email', [ALAN, ALAN]]]);
    expect(clash.conflicts).toEqual(plan(project, { ...state, pipeline: null }, taken).conflicts);
  });

  it('still finds a value clash between a changed user and one left alone', () => {
    const project = makeProject(spec());
    const state = applied(project);
    const input = [snapshot('hr', rows.map((r) => (r.id === '2' ? { ...r, email: ADA } : r)))];
    const p = plan(project, state, input);
    expect(p.evaluated).toBe('changed');
    // Alan's login and email both become Ada's: two clashes, found as a full evaluation finds them.
    expect(p.conflicts.map((c) => [c.code, c.attribute, c.users])).toEqual([['unique-violation', 'login', [ADA, ADA]], ['unique-violation', 'email', [ADA, ADA]]]);
    expect(p.conflicts).toEqual(plan(project, { ...state, pipeline: null }, input).conflicts);
    expect(p.applyable).toBe(false);
  });

  it('deactivates a user whose account vanished, and leaves the others alone', () => {
    const project = makeProject(spec());
    const p = plan(project, applied(project), [snapshot('hr', rows.filter((r) => r.id !== '3'))]);
    expect(p.users.map((u) => [u.login, u.action])).toEqual([['grace.hopper@example.com', 'deactivate']]);
  });

  it('warns about a protected user on every plan, though their account did not change', () => {
    const project = makeProject(spec({ set: [{ user: ADA, roles: ['super_admin'] }] }));
    const state = applied(project);
    const terminated = rows.map((r) => (r.id === '1' ? { ...r, status: 'Terminated' } : r));
    const once = planAndApply(project, state, [snapshot('hr', terminated)]);
    expect(once.plan.warnings.map((w) => w.code)).toEqual(['protected-user']);
    const twice = plan(project, once.state, [snapshot('hr', terminated)]);
    expect(twice.evaluated).toBe('changed');
    expect(twice.warnings.map((w) => w.code)).toEqual(['protected-user']);
  });
});

describe('what brings back the full evaluation', () => {
  it('a state the store found edited outside idplane: the edit is found and restored, with a warning', () => {
    const project = makeProject(spec());
    const tampered = edited(applied(project), ALAN, 'Hacker');
    // The store vouches for its content: an edit it did not notice is not looked for...
    expect(plan(project, tampered, [snapshot('hr', rows)]).users).toEqual([]);
    // ...and one it noticed is.
    const p = plan(project, { ...tampered, edited: true }, [snapshot('hr', rows)]);
    expect(p.evaluated).toBe('all');
    expect(p.users.map((u) => [u.login, u.attributes])).toEqual([[ALAN, { title: { from: 'Hacker', to: 'Engineer', outOfBand: true } }]]);
    expect(p.warnings.map((w) => w.code)).toContain('state-edited');
  });

  it('a changed mapping re-maps every user, not only those whose account changed, and calls nothing an edit', () => {
    const state = applied();
    const upper = makeProject(spec({ apps: { hr: { import: { mappings: { ...HR_MAPPINGS, title: 'toUpperCase(app.title)' }, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE' } } } }));
    const p = plan(upper, state, [snapshot('hr', rows)]);
    expect(p.evaluated).toBe('all');
    expect(p.users.map((u) => u.attributes)).toEqual(rows.map(() => ({ title: { from: 'Engineer', to: 'ENGINEER' } })));
  });

  it('a changed disabled expression refreshes the records whose flag it changes', () => {
    const state = applied();
    const strict = makeProject(spec({ apps: { hr: { import: { mappings: HR_MAPPINGS, disabled: 'app.first == "Alan"', newUserStatus: 'ACTIVE' } } } }));
    const p = plan(strict, state, [snapshot('hr', rows)]);
    expect(p.users.map((u) => [u.login, u.action])).toEqual([[ALAN, 'deactivate']]);
    expect(p.imports.map((i) => [i.action, i.key, i.disabled])).toEqual([['refresh', '2', true]]);
  });

  it('an apply of a partial plan keeps the recorded fingerprint and the edited flag', () => {
    const project = makeProject(spec());
    const state = { ...applied(project), pipeline: 'sha256:older', edited: true };
    const p = plan(project, state, [snapshot('hr', rows)]);
    expect(applyPlanToState(state, { ...p, evaluated: 'changed' }, 'L')).toMatchObject({ pipeline: 'sha256:older', edited: true });
    expect(applyPlanToState(state, p, 'L')).toMatchObject({ pipeline: project.pipelineFingerprint, edited: false });
  });
});

describe('imported records', () => {
  it('a new empty column changes no record; a new column with values refreshes them, and no user', () => {
    const project = makeProject(spec());
    const state = applied(project);
    const empty = plan(project, state, [snapshot('hr', rows.map((r) => ({ ...r, cost_center: '' })))]);
    expect(empty.summary.changes + empty.summary.imports).toBe(0);
    const filled = planAndApply(project, state, [snapshot('hr', rows.map((r) => ({ ...r, cost_center: `CC-${r.id}` })))]);
    expect(filled.plan.summary.changes).toBe(0);
    expect(filled.plan.imports.map((i) => [i.action, i.key])).toEqual([['refresh', '1'], ['refresh', '2'], ['refresh', '3']]);
    expect(storedRecord(filled.state, 'hr', '2')!.attributes).toEqual({ ...rows[1], cost_center: 'CC-2' });
    expect(filled.state.imported.get('hr')!.columns).toEqual([...Object.keys(rows[0]!), 'cost_center']);
  });

  it('a reordered CSV (same values, other column order) changes nothing', () => {
    const project = makeProject(spec());
    const state = applied(project);
    const reordered = rows.map((r) => Object.fromEntries(Object.entries(r).reverse()));
    const p = plan(project, state, [snapshot('hr', reordered)]);
    expect(p.summary.changes + p.summary.imports).toBe(0);
  });
});
