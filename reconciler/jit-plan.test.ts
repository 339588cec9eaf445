/**
 * A JIT run planned on its slice of the directory must say exactly what a plan on the whole directory
 * says: the same changes, reviews, conflicts, warnings, safeguard verdicts (bases from the whole
 * directory) and policies, for every kind of account a sign-in can bring (changed, terminated, new,
 * matching an unlinked user, a linked one, a declared one, pinned by `links:`, partially matching, taking
 * someone's unique value, several at once claiming one user); and after each run is carried out in place
 * (the state and its index changed by the run's delta), the next run still agrees. In memory only.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../schemas/generated/plan.ts';
import { DirectoryIndex } from './directory-index.ts';
import { planJit } from './jit-plan.ts';
import { jitSlice } from './jit-slice.ts';
import type { DirectoryState, Project, SourceSnapshot } from './model.ts';
import { buildPlan } from './plan.ts';
import { populationOf } from './safeguards.ts';
import { applyStateDelta, stateDelta } from './state-delta.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, planAndApply, snapshot } from './testing.ts';

const project: Project = makeProject({
  apps: {
    hr: {
      import: {
        mappings: HR_MAPPINGS, disabled: 'app.status == "Terminated"', newUserStatus: 'ACTIVE',
        match: [
          { app: 'id', user: 'employeeNumber' },
          { app: 'email', user: 'email', normalize: ['case', 'trim'] },
          { all: [{ app: 'first', user: 'firstName' }, { app: 'last', user: 'lastName' }], partial: true },
        ],
      },
    },
    ad: { key: 'sam', import: { mappings: { login: 'app.upn', email: 'app.mail', firstName: 'app.first', lastName: 'app.last' }, match: [{ app: 'mail', user: 'email', normalize: ['case'] }] } },
  },
  profileSources: ['hr', 'ad'],
  users: [{ login: 'breakglass@example.com', roles: ['super_admin'], profile: { firstName: 'Break', lastName: 'Glass', email: 'breakglass@example.com' } }],
  links: [{ app: 'hr', key: '77', user: 'eve.adams@corp.example.com' }],
  set: [{ user: 'ada.lovelace@example.com', attributes: {}, roles: ['auditor'] }],
  safeguards: { deactivateUsers: '20%', disableAccounts: 3 },
});

const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Frances Allen', 'John Backus', 'Niklaus Wirth', 'Ken Thompson'];
const hrRows = names.map((n, i) => hrRow(String(i + 1), n.split(' ')[0]!, n.split(' ')[1]!));
const adRow = (sam: string, first: string, last: string, upn: string, mail: string) => ({ sam, first, last, upn, mail });
const adRows = [
  adRow('ada', 'Ada', 'Lovelace', 'ada.lovelace@example.com', 'ada.lovelace@example.com'),
  adRow('eve', 'Eve', 'Adams', 'eve.adams@corp.example.com', 'eve@corp.example.com'),
  adRow('sam', 'Sam', 'Rivers', 'sam.rivers@corp.example.com', 'sam.rivers@example.com'),
  adRow('bob', 'Bob', 'Stone', 'bob.stone@example.com', 'bobby@corp.example.com'),
];

function baseState(): DirectoryState {
  return planAndApply(project, emptyState(), [snapshot('hr', hrRows), snapshot('ad', adRows, 'sam')]).state;
}

const partial = (accounts: Record<string, string>[]): SourceSnapshot => ({ ...snapshot('hr', accounts), partial: true, fingerprint: 'sha256:jit' });

function both(index: DirectoryIndex, accounts: Record<string, string>[]): { full: Plan; sliced: Plan } {
  const state = index.state;
  const source = partial(accounts);
  const full = buildPlan({ project, state, sources: [source], configFingerprint: 'sha256:test', version: 'test' });
  const sliced = planJit({ project, index, app: 'hr', accounts: source.accounts, fingerprint: source.fingerprint, configFingerprint: 'sha256:test', version: 'test' });
  return { full, sliced };
}

const BATCHES: [string, Record<string, string>[]][] = [
  ['a changed title', [{ ...hrRows[2]!, title: 'Rear Admiral' }]],
  ['a termination (a deactivation, counted against the whole directory)', [{ ...hrRows[3]!, status: 'Terminated' }]],
  ['a new account matching an AD-only user by email', [hrRow('31', 'Sam', 'Rivers', { email: ' SAM.RIVERS@example.com ' })]],
  ['a new account matching a user already linked to hr', [hrRow('32', 'Alan', 'T', { email: 'alan.turing@example.com' })]],
  ['a new person', [hrRow('33', 'Radia', 'Perlman')]],
  ['a new person taking an AD user\'s login', [hrRow('34', 'Bob', 'Stonebridge', { email: 'bob.stone@example.com' })]],
  ['a new account matching the declared break-glass user', [hrRow('35', 'B', 'G', { email: 'breakglass@example.com' })]],
  ['a partial match by name only', [hrRow('36', 'Grace', 'Hopper', { email: 'g.hopper@navy.example.com' })]],
  ['an account pinned by links:', [hrRow('77', 'Eve', 'Adams', { email: 'eve.adams@corp.example.com' })]],
  ['two new accounts claiming one user', [hrRow('41', 'Sam', 'R', { email: 'sam.rivers@example.com' }), hrRow('42', 'S', 'Rivers', { email: 'Sam.Rivers@example.com' })]],
  ['two new people with the same email', [hrRow('43', 'Ann', 'One', { email: 'same@example.com' }), hrRow('44', 'Ann', 'Two', { email: 'same@example.com' })]],
  ['the same key twice', [hrRow('45', 'Dup', 'A'), hrRow('45', 'Dup', 'B')]],
  ['a batch of changes and a new person', [{ ...hrRows[0]!, title: 'Countess' }, { ...hrRows[1]!, status: 'Terminated' }, hrRow('46', 'Margaret', 'Hamilton')]],
];

describe('a JIT run planned on its slice of the directory', () => {
  it.each(BATCHES)('plans %s exactly as a plan of the whole directory does', (_, accounts) => {
    const { full, sliced } = both(new DirectoryIndex(project, baseState()), accounts);
    expect(full.evaluated).toBe('changed');
    expect(sliced).toEqual(full);
  });

  it('keeps agreeing run after run, with the state and its index changed in place by each run', () => {
    let copied = baseState();
    const index = new DirectoryIndex(project, baseState());
    for (const [what, accounts] of BATCHES) {
      const { full, sliced } = both(index, accounts);
      expect(sliced, what).toEqual(both(new DirectoryIndex(project, copied), accounts).full);
      expect(sliced, what).toEqual(full);
      if (!full.applyable) continue;
      index.apply(stateDelta(index.state, sliced, 'L'));
      copied = applyStateDelta(copied, stateDelta(copied, full, 'L'));
    }
    expect(index.state.users.length).toBeGreaterThan(baseState().users.length);
    expect(JSON.stringify(index.state.users)).toBe(JSON.stringify(copied.users));
    expect(JSON.stringify(index.state.links)).toBe(JSON.stringify(copied.links));
    expect(index.population()).toEqual(populationOf(copied));
    const fresh = new DirectoryIndex(project, copied);
    for (const u of copied.users) {
      expect(index.byLogin(u.login)).toEqual(fresh.byLogin(u.login));
      expect(index.linksOf([u.id])).toEqual(fresh.linksOf([u.id]));
      for (const name of index.uniqueNames) expect(index.holding(name, u.profile[name]).map((h) => h.id).sort()).toEqual(fresh.holding(name, u.profile[name]).map((h) => h.id).sort());
    }
  });

  it('looks at a handful of users, not the directory', () => {
    const state = baseState();
    const index = new DirectoryIndex(project, state);
    const grace = hrRows[2]!;
    const slice = jitSlice(project, index, 'hr', [{ key: grace.id!, attributes: { ...grace, title: 'Rear Admiral' } }]);
    // Grace (linked), the declared break-glass admin and the user `set:` names: three of fourteen.
    expect(slice.users.map((u) => u.login).sort()).toEqual(['ada.lovelace@example.com', 'breakglass@example.com', 'grace.hopper@example.com']);
    expect(state.users.length).toBe(14);
    expect([...slice.imported.get('hr')!.records.keys()].sort()).toEqual(['1', '3']);
    const ids = new Set(slice.users.map((u) => u.id));
    expect(slice.links.map((l) => `${l.app}/${l.key}`).sort()).toEqual(['ad/ada', 'hr/1', 'hr/3']);
    expect(slice.links).toEqual(state.links.filter((l) => ids.has(l.userId))); // in the state's order
  });
});
