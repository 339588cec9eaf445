/**
 * Import semantics, rule by rule, as SPEC §1.1–1.3, §1.6 and docs/config.md state them: matching, profile
 * source priority, attribute-level sourcing, lifecycle, declared and protected users, full versus incremental
 * imports, and safeguards. Every expectation is derived from the SPEC, not from the code; in-memory only.
 */
import { describe, expect, it } from 'vitest';
import type { MatchRule } from '../schemas/generated/config.ts';
import type { Plan } from '../schemas/generated/plan.ts';
import type { DirectoryState, UserRecord } from './model.ts';
import { DEFAULT_ATTRIBUTES, emptyState, hrRow, HR_MAPPINGS, makeProject, plan, planAndApply, snapshot, type AppSpec, type ProjectSpec } from './testing.ts';

type Import = AppSpec['import'];
type Row = Record<string, string>;

const TERMINATED = 'app.status == "Terminated"';
const hr = (imp: Partial<Import> = {}): AppSpec => ({ import: { mappings: HR_MAPPINGS, disabled: TERMINATED, newUserStatus: 'ACTIVE', ...imp } });
const hrOnly = (imp: Partial<Import> = {}, extra: Omit<ProjectSpec, 'apps'> = {}) => makeProject({ apps: { hr: hr(imp) }, ...extra });

const ADA = 'ada.lovelace@example.com';
const ALAN = 'alan.turing@example.com';
const GRACE = 'grace.hopper@example.com';
const rows = [hrRow('1', 'Ada', 'Lovelace'), hrRow('2', 'Alan', 'Turing'), hrRow('3', 'Grace', 'Hopper')];

const edit = (list: Row[], id: string, values: Row): Row[] => list.map((r) => (r.id === id ? { ...r, ...values } : r));
const terminate = (list: Row[], ...ids: string[]): Row[] => list.map((r) => (ids.includes(r.id!) ? { ...r, status: 'Terminated' } : r));
const userOf = (state: DirectoryState, login: string): UserRecord => state.users.find((u) => u.login === login)!;
const changeOf = (p: Plan, login: string) => p.users.find((u) => u.login === login);
const actions = (p: Plan) => p.users.map((u) => [u.login, u.action]);

/** A directory of users no app sources yet, so that matching rules have someone to find. */
function directoryOf(...people: { login: string; profile?: Record<string, string> }[]): DirectoryState {
  return {
    ...emptyState(), lineage: 'L', serial: 1,
    users: people.map((p) => ({ id: `u-${p.login}`, login: p.login, status: 'ACTIVE', profile: { login: p.login, ...p.profile }, profileSource: 'directory', roles: [] })),
  };
}

// ---------------------------------------------------------------------------------------------------------
describe('1. matching', () => {
  /** Imports that only map `title`, so a link never rewrites the matched user's login. */
  const matcher = (imp: Partial<Import>, extra: Omit<ProjectSpec, 'apps'> = {}) => makeProject({
    attributes: { ...DEFAULT_ATTRIBUTES, displayName: {} },
    apps: { hr: { import: { mappings: { title: 'app.title' }, newUserStatus: 'ACTIVE', onNoMatch: 'review', ...imp } } },
    ...extra,
  });
  const people = directoryOf(
    { login: 'ada@example.com', profile: { employeeNumber: 'E1', email: 'ada@example.com', firstName: 'Ada', lastName: 'Smith' } },
    { login: 'bob@example.com', profile: { employeeNumber: 'E2', email: 'bob@example.com', firstName: 'Bob', lastName: 'Smith' } },
  );
  const account = (id: string, values: Row): Row => ({ id, title: 'Engineer', ...values });
  const link = (key: string, login: string, reason = 'matched by a rule') => ({ action: 'link', app: 'hr', key, userId: `u-${login}`, login, reason });
  const byEmp = { app: 'emp', user: 'employeeNumber' };
  const byEmail = { app: 'email', user: 'email' };

  it('tries the rules in order: the first rule that finds a user decides', () => {
    const row = account('7', { emp: 'E1', email: 'bob@example.com' });
    const first = plan(matcher({ match: [byEmp, byEmail] }), people, [snapshot('hr', [row])]);
    expect(first.links).toEqual([link('7', 'ada@example.com')]);
    expect(changeOf(first, 'ada@example.com')!.source).toEqual({ from: 'directory', to: 'hr' });
    const swapped = plan(matcher({ match: [byEmail, byEmp] }), people, [snapshot('hr', [row])]);
    expect(swapped.links).toEqual([link('7', 'bob@example.com')]);
    // A rule that finds nobody hands over to the next one.
    const fallThrough = plan(matcher({ match: [byEmp, byEmail] }), people, [snapshot('hr', [account('8', { emp: 'E9', email: 'bob@example.com' })])]);
    expect(fallThrough.links).toEqual([link('8', 'bob@example.com')]);
    expect(fallThrough.reviews).toEqual([]);
  });

  it.each([
    [[], false],
    [['case', 'trim'], false],
    [['case', 'diacritics'], false],
    [['trim', 'diacritics'], false],
    [['case', 'trim', 'diacritics'], true],
  ] as const)('normalises per rule: "José  García" vs "jose garcia" with %j matches: %s', (normalize, matches) => {
    const jose = directoryOf({ login: 'jose@example.com', profile: { displayName: 'jose garcia' } });
    const p = plan(matcher({ match: [{ app: 'full_name', user: 'displayName', normalize: [...normalize] }] }), jose, [snapshot('hr', [account('5', { full_name: 'José  García' })])]);
    if (matches) {
      expect(p.links).toEqual([link('5', 'jose@example.com')]);
      expect(p.reviews).toEqual([]);
    } else {
      expect(p.links).toEqual([]);
      expect(p.reviews).toEqual([expect.objectContaining({ kind: 'no-match', key: '5', candidates: [] })]);
    }
  });

  it('matches a combination (all) only when every pair agrees, after normalisation', () => {
    const zoe = directoryOf({ login: 'zoe@example.com', profile: { firstName: 'Zoë', lastName: 'Müller' } });
    const rule: MatchRule = { all: [{ app: 'first', user: 'firstName' }, { app: 'last', user: 'lastName' }], normalize: ['case', 'trim', 'diacritics'] };
    const both = plan(matcher({ match: [rule] }), zoe, [snapshot('hr', [account('1', { first: ' zoe ', last: 'MULLER' })])]);
    expect(both.links).toEqual([link('1', 'zoe@example.com')]);
    const oneOfTwo = plan(matcher({ match: [rule] }), zoe, [snapshot('hr', [account('2', { first: 'Zoe', last: 'Meyer' })])]);
    expect(oneOfTwo.links).toEqual([]);
    expect(oneOfTwo.reviews.map((r) => [r.kind, r.key])).toEqual([['no-match', '2']]);
  });

  it('matches by expression: a CEL key over the account equals a CEL key over the user', () => {
    const ada = directoryOf({ login: 'ada.lovelace@example.com' });
    const expression = { app: 'app.email.split("@")[0]', user: 'user.login.split("@")[0]' };
    const rows = [account('3', { email: 'Ada.Lovelace@corp.example' })];
    const p = plan(matcher({ match: [{ expression, normalize: ['case'] }] }), ada, [snapshot('hr', rows)]);
    expect(p.links).toEqual([link('3', 'ada.lovelace@example.com')]);
    // Exact by default: without `case` the local parts differ.
    const exact = plan(matcher({ match: [{ expression }] }), ada, [snapshot('hr', rows)]);
    expect(exact.links).toEqual([]);
    expect(exact.reviews.map((r) => r.kind)).toEqual(['no-match']);
  });

  it('turns a partial match into a review item, never a link or a new user, and a links: entry settles it', () => {
    const ada = directoryOf({ login: ADA, profile: { email: 'ada@old.example', firstName: 'Ada', lastName: 'Lovelace' } });
    const partial: MatchRule = { all: [{ app: 'first', user: 'firstName' }, { app: 'last', user: 'lastName' }], partial: true };
    const imp: Partial<Import> = { mappings: { login: 'app.email', email: 'app.email', title: 'app.title' }, onNoMatch: 'create', onMatch: 'link', match: [partial, byEmail] };
    const row = account('7', { first: 'Ada', last: 'Lovelace', email: 'ada@new.example' });
    const p = plan(matcher(imp), ada, [snapshot('hr', [row])]);
    expect(p.reviews).toEqual([expect.objectContaining({ kind: 'partial', app: 'hr', key: '7', line: 2, candidates: [ADA] })]);
    expect(p.reviews[0]!.resolution).toContain(`links: [{ app: hr, key: "7", user: ${ADA} }]`);
    expect(p.users).toEqual([]);
    expect(p.links).toEqual([]);
    expect(p.imports).toEqual([]);
    expect(p.applyable).toBe(true);

    const settled = plan(matcher(imp, { links: [{ app: 'hr', key: '7', user: ADA }] }), ada, [snapshot('hr', [row])]);
    expect(settled.reviews).toEqual([]);
    // The link is to Ada's id; her login follows the mapping (app.email) from now on.
    expect(settled.links).toEqual([{ ...link('7', ADA, 'pinned by a links: entry'), login: 'ada@new.example' }]);
  });

  it('tries every exact rule before any partial rule, whatever their order', () => {
    const partial: MatchRule = { all: [{ app: 'first', user: 'firstName' }, { app: 'last', user: 'lastName' }], partial: true };
    const p = plan(matcher({ match: [partial, byEmail] }), people, [snapshot('hr', [account('7', { first: 'Ada', last: 'Smith', email: 'bob@example.com' })])]);
    expect(p.links).toEqual([link('7', 'bob@example.com')]);
    expect(p.reviews).toEqual([]);
  });

  it('reviews an exact match under onMatch: review, and links it once a links: entry confirms it', () => {
    const row = account('7', { email: 'ada@example.com' });
    const p = plan(matcher({ match: [byEmail], onMatch: 'review' }), people, [snapshot('hr', [row])]);
    expect(p.reviews).toEqual([expect.objectContaining({ kind: 'match', key: '7', candidates: ['ada@example.com'] })]);
    expect(p.reviews[0]!.resolution).toContain('links: [{ app: hr, key: "7", user: ada@example.com }]');
    expect(p.links).toEqual([]);
    expect(p.users).toEqual([]);
    expect(p.applyable).toBe(true);
    const confirmed = plan(matcher({ match: [byEmail], onMatch: 'review' }, { links: [{ app: 'hr', key: '7', user: 'ada@example.com' }] }), people, [snapshot('hr', [row])]);
    expect(confirmed.links).toEqual([link('7', 'ada@example.com', 'pinned by a links: entry')]);
    expect(confirmed.reviews).toEqual([]);
  });

  it('follows onNoMatch: create (with newUserStatus), review, or ignore', () => {
    const row = [hrRow('9', 'New', 'Person', { emp: 'E9' })];
    const create = plan(hrOnly({ match: [byEmp], newUserStatus: 'STAGED' }), people, [snapshot('hr', row)]);
    expect(actions(create)).toEqual([['new.person@example.com', 'create']]);
    expect(create.users[0]!.after).toEqual(expect.objectContaining({ status: 'STAGED', profileSource: 'hr' }));
    expect(create.links).toEqual([expect.objectContaining({ action: 'link', key: '9', login: 'new.person@example.com', reason: 'new account creates the user' })]);

    const review = plan(hrOnly({ match: [byEmp], onNoMatch: 'review' }), people, [snapshot('hr', row)]);
    expect(review.reviews).toEqual([expect.objectContaining({ kind: 'no-match', key: '9', candidates: [] })]);
    expect(review.reviews[0]!.resolution).toContain('links: [{ app: hr, key: "9"');
    expect([review.users, review.links, review.imports]).toEqual([[], [], []]);

    const ignore = plan(hrOnly({ match: [byEmp], onNoMatch: 'ignore' }), people, [snapshot('hr', row)]);
    expect([ignore.users, ignore.links, ignore.imports, ignore.reviews, ignore.conflicts]).toEqual([[], [], [], [], []]);
  });

  it('reports one account matching several users as a conflict; the plan is not applyable until a links: entry settles it', () => {
    const row = account('3', { last: 'Smith', email: 'ada@example.com' });
    // The first rule that finds anyone decides, even when it finds two: the email rule is never consulted.
    const p = plan(matcher({ match: [{ app: 'last', user: 'lastName' }, byEmail] }), people, [snapshot('hr', [row])]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'ambiguous-match', app: 'hr', key: '3', line: 2, users: ['ada@example.com', 'bob@example.com'] })]);
    expect(p.conflicts[0]!.resolution).toContain('links: [{ app: hr, key: "3", user: <login> }]');
    expect(p.applyable).toBe(false);
    expect(p.blockers.map((b) => b.code)).toEqual(['conflicts']);
    expect([p.links, p.users]).toEqual([[], []]);

    const settled = plan(matcher({ match: [{ app: 'last', user: 'lastName' }] }, { links: [{ app: 'hr', key: '3', user: 'bob@example.com' }] }), people, [snapshot('hr', [row])]);
    expect(settled.conflicts).toEqual([]);
    expect(settled.applyable).toBe(true);
    expect(settled.links).toEqual([link('3', 'bob@example.com', 'pinned by a links: entry')]);
  });

  it('reports several accounts matching one user as a conflict for each, and links none of them', () => {
    const p = plan(matcher({ match: [byEmail] }), people, [snapshot('hr', [account('7', { email: 'ada@example.com' }), account('8', { email: 'ada@example.com' })])]);
    expect(p.conflicts.map((c) => [c.code, c.key, c.users])).toEqual([
      ['ambiguous-match', '7', ['ada@example.com']],
      ['ambiguous-match', '8', ['ada@example.com']],
    ]);
    expect(p.conflicts[0]!.resolution).toContain('links: [{ app: hr, key: "7", user: ada@example.com }]');
    expect(p.applyable).toBe(false);
    expect(p.links).toEqual([]);
  });

  it('never matches on an empty value', () => {
    const blank = directoryOf({ login: 'nobody@example.com', profile: { firstName: 'No' } });
    const rule: MatchRule = { all: [{ app: 'first', user: 'firstName' }, { app: 'email', user: 'email' }] };
    const p = plan(matcher({ match: [{ app: 'email', user: 'email' }, rule] }), blank, [snapshot('hr', [account('4', { first: 'No', email: '' })])]);
    expect(p.links).toEqual([]);
    expect(p.reviews.map((r) => [r.kind, r.key])).toEqual([['no-match', '4']]);
  });

  it('reports an account matching a user already linked to another account of the app as a conflict', () => {
    const keepsEmail = matcher({ match: [byEmail], mappings: { email: 'app.email', title: 'app.title' } });
    const { state } = planAndApply(keepsEmail, people, [snapshot('hr', [account('7', { email: 'ada@example.com' })])]);
    const p = plan(keepsEmail, state, [snapshot('hr', [account('7', { email: 'ada@example.com' }), account('8', { email: 'ada@example.com' })])]);
    expect(p.conflicts.map((c) => [c.code, c.key, c.users])).toEqual([['already-linked', '8', ['ada@example.com']]]);
    expect(p.conflicts[0]!.resolution).toContain('links: [{ app: hr, key: "8", user: ada@example.com }]');
    expect(p.applyable).toBe(false);
    expect(p.links).toEqual([]);
  });

  it('lets a links: entry win over the rules', () => {
    const p = plan(matcher({ match: [byEmail] }, { links: [{ app: 'hr', key: '7', user: 'bob@example.com' }] }), people, [snapshot('hr', [account('7', { email: 'ada@example.com' })])]);
    expect(p.links).toEqual([link('7', 'bob@example.com', 'pinned by a links: entry')]);
    expect(p.conflicts).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('2. several profile sources', () => {
  // hr (first in priority) does not map title; ad maps title but no names.
  const twoSources = (hrImp: Partial<Import> = {}) => makeProject({
    apps: {
      hr: hr({ mappings: { login: 'app.email', email: 'app.email', employeeNumber: 'app.id', firstName: 'app.first', lastName: 'app.last' }, match: [{ app: 'email', user: 'email' }], ...hrImp }),
      ad: { key: 'sam', import: { mappings: { login: 'app.mail', email: 'app.mail', title: 'app.title' }, disabled: 'app.enabled == "false"', newUserStatus: 'ACTIVE', match: [{ app: 'mail', user: 'email' }] } },
    },
    profileSources: ['hr', 'ad'],
  });
  const adaHr = hrRow('1', 'Ada', 'Lovelace');
  const adaAd: Row = { sam: 'alovelace', mail: ADA, title: 'AD title', enabled: 'true' };
  const ad = (...list: Row[]) => snapshot('ad', list, 'sam');
  const hrProfile = { login: ADA, email: ADA, employeeNumber: '1', firstName: 'Ada', lastName: 'Lovelace' };

  it('sources a user linked to both from the higher-priority one only; what it does not map stays empty', () => {
    const p = plan(twoSources(), emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    expect(actions(p)).toEqual([[ADA, 'create']]);
    expect(p.users[0]!.after.profileSource).toBe('hr');
    expect(p.users[0]!.after.profile).toEqual(hrProfile); // no title: ad's value is no fallback
    expect(p.links.map((l) => [l.app, l.key, l.userId])).toEqual([['ad', 'alovelace', p.users[0]!.id], ['hr', '1', p.users[0]!.id]]);
  });

  it('ignores value changes in the lower-priority source', () => {
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    const p = plan(twoSources(), state, [snapshot('hr', [adaHr]), ad({ ...adaAd, title: 'Countess' })]);
    expect(p.users).toEqual([]);
    expect(p.imports.map((i) => [i.action, i.app, i.key])).toEqual([['refresh', 'ad', 'alovelace']]);
  });

  it('switches source mid-life: hr drops the user, ad takes over; later hr links them again', () => {
    const first = planAndApply(twoSources(), emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    const id = userOf(first.state, ADA).id;

    // hr drops Ada (onMissing deactivate is the default, but ad still links her: a switch, no lifecycle change).
    const dropped = planAndApply(twoSources(), first.state, [snapshot('hr', []), ad(adaAd)]);
    expect(dropped.plan.users).toHaveLength(1);
    const out = dropped.plan.users[0]!;
    expect(out.action).toBe('update');
    expect(out.status).toBeUndefined();
    expect(out.after.status).toBe('ACTIVE');
    expect(out.source).toEqual({ from: 'hr', to: 'ad' });
    expect(out.attributes).toStrictEqual({
      employeeNumber: { from: '1', to: null }, firstName: { from: 'Ada', to: null }, lastName: { from: 'Lovelace', to: null },
      title: { from: null, to: 'AD title' },
    });
    expect(dropped.plan.links).toEqual([expect.objectContaining({ action: 'unlink', app: 'hr', key: '1', userId: id })]);
    expect(dropped.plan.imports).toEqual([{ action: 'forget', app: 'hr', key: '1' }]);
    expect(userOf(dropped.state, ADA).profileSource).toBe('ad');

    // hr has her again: matched by email, linked, and the source switches back with every attribute it changes.
    const back = plan(twoSources(), dropped.state, [snapshot('hr', [adaHr]), ad(adaAd)]);
    expect(back.users).toHaveLength(1);
    const again = back.users[0]!;
    expect([again.id, again.action, again.status]).toEqual([id, 'update', undefined]);
    expect(again.source).toEqual({ from: 'ad', to: 'hr' });
    expect(again.attributes).toStrictEqual({
      employeeNumber: { from: null, to: '1' }, firstName: { from: null, to: 'Ada' }, lastName: { from: null, to: 'Lovelace' },
      title: { from: 'AD title', to: null },
    });
    expect(back.links).toEqual([expect.objectContaining({ action: 'link', app: 'hr', key: '1', userId: id, reason: 'matched by a rule' })]);
  });

  it('switches to a higher-priority source that links a user the lower one created', () => {
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', []), ad(adaAd)]);
    expect(userOf(state, ADA).profileSource).toBe('ad');
    const p = plan(twoSources(), state, [snapshot('hr', [adaHr]), ad(adaAd)]);
    expect(actions(p)).toEqual([[ADA, 'update']]);
    expect(p.users[0]!.source).toEqual({ from: 'ad', to: 'hr' });
    expect(Object.keys(p.users[0]!.attributes!).sort()).toEqual(['employeeNumber', 'firstName', 'lastName', 'title']);
    expect(p.users[0]!.after.profile).toEqual(hrProfile);
  });

  it('deactivates a user the higher-priority source disables, although the lower one is enabled', () => {
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    const p = plan(twoSources(), state, [snapshot('hr', terminate([adaHr], '1')), ad(adaAd)]);
    expect(actions(p)).toEqual([[ADA, 'deactivate']]);
    expect(p.users[0]!.status).toEqual({ from: 'ACTIVE', to: 'DEPROVISIONED' });
    expect(p.users[0]!.source).toBeUndefined(); // a disabled account stays linked: no switch
    expect(p.links).toEqual([]);
    expect(p.imports).toEqual([expect.objectContaining({ action: 'refresh', app: 'hr', key: '1', disabled: true })]);
  });

  it('applies nothing but an unlink when a lower-priority source drops the user', () => {
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    const p = plan(twoSources(), state, [snapshot('hr', [adaHr]), ad()]);
    expect(p.users).toEqual([]);
    expect(p.links).toEqual([expect.objectContaining({ action: 'unlink', app: 'ad', key: 'alovelace' })]);
  });

  it('applies the onMissing of the primary that dropped the user when no source is left', () => {
    const project = makeProject({
      apps: {
        hr: hr({ match: [{ app: 'email', user: 'email' }], onMissing: 'suspend' }),
        ad: { key: 'sam', import: { mappings: { login: 'app.mail', email: 'app.mail' }, newUserStatus: 'ACTIVE', onMissing: 'deactivate', match: [{ app: 'mail', user: 'email' }] } },
      },
      profileSources: ['hr', 'ad'],
    });
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    const p = plan(project, state, [snapshot('hr', []), ad()]);
    expect(actions(p)).toEqual([[ADA, 'suspend']]);
    expect(p.users[0]!.source).toEqual({ from: 'hr', to: 'directory' });
    expect(p.links.map((l) => [l.action, l.app])).toEqual([['unlink', 'ad'], ['unlink', 'hr']]);
  });

  it('lets only the primary drive the lifecycle: the lower source disabling the account changes nothing', () => {
    const { state } = planAndApply(twoSources(), emptyState(), [snapshot('hr', [adaHr]), ad(adaAd)]);
    const p = plan(twoSources(), state, [snapshot('hr', [adaHr]), ad({ ...adaAd, enabled: 'false' })]);
    expect(p.users).toEqual([]);
    expect(p.imports).toEqual([expect.objectContaining({ action: 'refresh', app: 'ad', disabled: true })]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('3. attribute-level sourcing', () => {
  const attributes = { ...DEFAULT_ATTRIBUTES, deskPhone: { source: 'directory' }, costCenter: { source: 'ad' } };
  const sourced = (set: ProjectSpec['set'] = [{ user: ADA, attributes: { deskPhone: '+1 415 555 0100' } }]) => makeProject({
    attributes,
    apps: {
      hr: hr({ mappings: { ...HR_MAPPINGS, deskPhone: 'app.phone', costCenter: 'app.cc' }, match: [{ app: 'email', user: 'email' }] }),
      ad: { key: 'sam', import: { mappings: { login: 'app.mail', email: 'app.mail', costCenter: 'app.cc' }, newUserStatus: 'ACTIVE', match: [{ app: 'mail', user: 'email' }] } },
    },
    profileSources: ['hr', 'ad'],
    set,
  });
  const hrRows = [hrRow('1', 'Ada', 'Lovelace', { phone: '999', cc: 'HR-CC' }), hrRow('2', 'Alan', 'Turing', { phone: '998', cc: 'HR-CC' })];
  const adRows: Row[] = [{ sam: 'alovelace', mail: ADA, cc: 'CC-42' }];
  const inputs = (h: Row[] = hrRows, a: Row[] = adRows) => [snapshot('hr', h), snapshot('ad', a, 'sam')];
  const applied = () => planAndApply(sourced(), emptyState(), inputs()).state;

  it('takes directory-owned values from set:, never from an import, and source: <app> values from that app', () => {
    const p = plan(sourced(), emptyState(), inputs());
    const ada = changeOf(p, ADA)!;
    expect(ada.after.profileSource).toBe('hr');
    expect(ada.after.profile).toEqual({ login: ADA, email: ADA, employeeNumber: '1', firstName: 'Ada', lastName: 'Lovelace', title: 'Engineer', deskPhone: '+1 415 555 0100', costCenter: 'CC-42' });
    // Alan has no ad account: costCenter stays empty, hr's value is no fallback; no set: entry, no deskPhone.
    expect(changeOf(p, ALAN)!.after.profile).toEqual({ login: ALAN, email: ALAN, employeeNumber: '2', firstName: 'Alan', lastName: 'Turing', title: 'Engineer' });
  });

  it('never lets an import overwrite a directory-owned attribute; a set: change updates it', () => {
    const state = applied();
    const hrChanged = plan(sourced(), state, inputs(edit(hrRows, '1', { phone: '111' })));
    expect(hrChanged.users).toEqual([]);
    const setChanged = plan(sourced([{ user: ADA, attributes: { deskPhone: '+1 415 555 0199' } }]), state, inputs());
    expect(actions(setChanged)).toEqual([[ADA, 'update']]);
    expect(setChanged.users[0]!.attributes).toStrictEqual({ deskPhone: { from: '+1 415 555 0100', to: '+1 415 555 0199' } });
    expect(setChanged.summary.outOfBand).toBe(0);
  });

  it('leaves a directory-owned value edited in the directory alone (it is editable there)', () => {
    const state = planAndApply(sourced([]), emptyState(), inputs()).state;
    state.users = state.users.map((u) => (u.login === ALAN ? { ...u, profile: { ...u.profile, deskPhone: '+44 20 7946 0000' } } : u));
    const p = plan(sourced([]), state, inputs());
    expect(p.users).toEqual([]);
    expect(p.summary.changes).toBe(0);
  });

  it('takes a source: <app> attribute from that app whatever the primary is, and ignores the primary for it', () => {
    const state = applied();
    const adChanged = plan(sourced(), state, inputs(hrRows, [{ ...adRows[0]!, cc: 'CC-43' }]));
    expect(actions(adChanged)).toEqual([[ADA, 'update']]);
    expect(adChanged.users[0]!.source).toBeUndefined();
    expect(adChanged.users[0]!.attributes).toStrictEqual({ costCenter: { from: 'CC-42', to: 'CC-43' } });
    const hrChanged = plan(sourced(), state, inputs(edit(hrRows, '1', { cc: 'HR-CC-2' })));
    expect(hrChanged.users).toEqual([]);
  });

  it('restores sourced values changed out of band, marks them outOfBand and counts them', () => {
    const state = applied();
    state.users = state.users.map((u) => {
      if (u.login !== ADA) return u;
      const { firstName: _dropped, ...rest } = u.profile;
      return { ...u, profile: { ...rest, title: 'Hacker', costCenter: 'CC-0' } };
    });
    const p = plan(sourced(), state, inputs());
    expect(actions(p)).toEqual([[ADA, 'update']]);
    expect(p.users[0]!.attributes).toStrictEqual({
      title: { from: 'Hacker', to: 'Engineer', outOfBand: true },
      costCenter: { from: 'CC-0', to: 'CC-42', outOfBand: true },
      firstName: { from: null, to: 'Ada', outOfBand: true },
    });
    expect(p.summary.outOfBand).toBe(3);
  });

  it('does not mark a change as outOfBand when the source itself changed', () => {
    const state = applied();
    const p = plan(sourced(), state, inputs(edit(hrRows, '1', { title: 'Fellow' })));
    expect(p.users[0]!.attributes).toStrictEqual({ title: { from: 'Engineer', to: 'Fellow' } });
    expect(p.summary.outOfBand).toBe(0);
    // Edited here and changed at the source: the source's new value wins, and it is the source's change.
    state.users = state.users.map((u) => (u.login === ADA ? { ...u, profile: { ...u.profile, title: 'Hacker' } } : u));
    const both = plan(sourced(), state, inputs(edit(hrRows, '1', { title: 'Fellow' })));
    expect(both.users[0]!.attributes).toStrictEqual({ title: { from: 'Hacker', to: 'Fellow' } });
    expect(both.summary.outOfBand).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('4. lifecycle (SPEC §1.3)', () => {
  const start = (imp: Partial<Import> = {}, input: Row[] = rows) => planAndApply(hrOnly(imp), emptyState(), [snapshot('hr', input)]).state;

  it('uses newUserStatus for new users, and creates an already-disabled account DEPROVISIONED', () => {
    for (const status of ['STAGED', 'ACTIVE'] as const) {
      const p = plan(hrOnly({ newUserStatus: status }), emptyState(), [snapshot('hr', terminate(rows, '3'))]);
      expect(p.users.map((u) => [u.login, u.after.status])).toEqual([[ADA, status], [ALAN, status], [GRACE, 'DEPROVISIONED']]);
    }
  });

  it('reads "disabled" from the configured expression: a flag or a status value', () => {
    const state = start();
    const onLeave = plan(hrOnly(), state, [snapshot('hr', edit(rows, '1', { status: 'On Leave' }))]);
    expect(onLeave.users).toEqual([]);
    const flag = hrOnly({ disabled: 'app.active == "false"' });
    const flagged = plan(flag, planAndApply(flag, emptyState(), [snapshot('hr', rows.map((r) => ({ ...r, active: 'true' })))]).state,
      [snapshot('hr', rows.map((r) => ({ ...r, active: r.id === '2' ? 'false' : 'true' })))]);
    expect(actions(flagged)).toEqual([[ALAN, 'deactivate']]);
  });

  it('onDisabled: deactivate (default) deactivates, and the disabled account stays linked', () => {
    const p = plan(hrOnly(), start(), [snapshot('hr', terminate(rows, '2'))]);
    expect(actions(p)).toEqual([[ALAN, 'deactivate']]);
    expect(p.users[0]!.status).toEqual({ from: 'ACTIVE', to: 'DEPROVISIONED' });
    expect(p.users[0]!.after.profileSource).toBe('hr');
    expect(p.links).toEqual([]);
  });

  it('onDisabled: suspend suspends an ACTIVE user; onDisabled: none changes no status', () => {
    const suspended = plan(hrOnly({ onDisabled: 'suspend' }), start({ onDisabled: 'suspend' }), [snapshot('hr', terminate(rows, '2'))]);
    expect(actions(suspended)).toEqual([[ALAN, 'suspend']]);
    expect(suspended.users[0]!.status).toEqual({ from: 'ACTIVE', to: 'SUSPENDED' });
    const none = plan(hrOnly({ onDisabled: 'none' }), start({ onDisabled: 'none' }), [snapshot('hr', terminate(rows, '2'))]);
    expect(none.users).toEqual([]);
    expect(none.imports).toEqual([expect.objectContaining({ action: 'refresh', key: '2', disabled: true })]);
  });

  it.each([[true, true], [true, false], [false, true], [false, false]])('reactivate { suspended: %s, deactivated: %s } governs a suspended user only by `suspended`', (suspended, deactivated) => {
    const imp: Partial<Import> = { onDisabled: 'suspend', reactivate: { suspended, deactivated } };
    const off = planAndApply(hrOnly(imp), start(imp), [snapshot('hr', terminate(rows, '2'))]).state;
    expect(userOf(off, ALAN).status).toBe('SUSPENDED');
    const p = plan(hrOnly(imp), off, [snapshot('hr', rows)]);
    expect(actions(p)).toEqual(suspended ? [[ALAN, 'unsuspend']] : []);
    if (suspended) expect(p.users[0]!.status).toEqual({ from: 'SUSPENDED', to: 'ACTIVE' });
  });

  it.each([[true, true], [true, false], [false, true], [false, false]])('reactivate { suspended: %s, deactivated: %s } governs a deactivated user only by `deactivated`', (suspended, deactivated) => {
    const imp: Partial<Import> = { onDisabled: 'deactivate', reactivate: { suspended, deactivated } };
    const off = planAndApply(hrOnly(imp), start(imp), [snapshot('hr', terminate(rows, '2'))]).state;
    expect(userOf(off, ALAN).status).toBe('DEPROVISIONED');
    const p = plan(hrOnly(imp), off, [snapshot('hr', rows)]);
    expect(actions(p)).toEqual(deactivated ? [[ALAN, 'activate']] : []);
    if (deactivated) expect(p.users[0]!.status).toEqual({ from: 'DEPROVISIONED', to: 'ACTIVE' });
  });

  it('deactivates a STAGED user instead of suspending them, and says why (onDisabled and onMissing)', () => {
    const imp: Partial<Import> = { newUserStatus: 'STAGED', onDisabled: 'suspend', onMissing: 'suspend' };
    const state = start(imp);
    const p = plan(hrOnly(imp), state, [snapshot('hr', terminate(rows, '1').filter((r) => r.id !== '3'))]);
    expect(actions(p)).toEqual([[ADA, 'deactivate'], [GRACE, 'deactivate']]);
    for (const u of p.users) {
      expect(u.status).toEqual({ from: 'STAGED', to: 'DEPROVISIONED' });
      expect(u.reason).toMatch(/STAGED user cannot be suspended, so it is deactivated instead/);
    }
  });

  it.each([
    ['deactivate', 'deactivate', 'DEPROVISIONED'],
    ['suspend', 'suspend', 'SUSPENDED'],
    ['none', 'update', 'ACTIVE'],
  ] as const)('onMissing: %s on a full import, when no other source links the user', (onMissing, action, status) => {
    const state = start({ onMissing });
    const p = plan(hrOnly({ onMissing }), state, [snapshot('hr', rows.slice(0, 2))]);
    expect(actions(p)).toEqual([[GRACE, action]]);
    const grace = p.users[0]!;
    expect(grace.after.status).toBe(status);
    expect(grace.status).toEqual(status === 'ACTIVE' ? undefined : { from: 'ACTIVE', to: status });
    expect(grace.source).toEqual({ from: 'hr', to: 'directory' });
    expect(grace.attributes).toEqual({}); // the directory keeps the last values
    expect(p.links).toEqual([expect.objectContaining({ action: 'unlink', key: '3' })]);
  });

  it('names each transition by Okta\'s table', () => {
    // anything → DEPROVISIONED, from SUSPENDED: a suspended user whose account vanishes under onMissing: deactivate.
    const imp: Partial<Import> = { onDisabled: 'suspend', onMissing: 'deactivate' };
    const suspended = planAndApply(hrOnly(imp), start(imp), [snapshot('hr', terminate(rows, '3'))]).state;
    const gone = plan(hrOnly(imp), suspended, [snapshot('hr', rows.slice(0, 2))]);
    expect(actions(gone)).toEqual([[GRACE, 'deactivate']]);
    expect(gone.users[0]!.status).toEqual({ from: 'SUSPENDED', to: 'DEPROVISIONED' });
    // activate, from STAGED: a declared user whose declared status becomes ACTIVE.
    const declared = (status: 'STAGED' | 'ACTIVE' | 'DEPROVISIONED') => hrOnly({}, { users: [{ login: 'svc@example.com', status }] });
    const staged = planAndApply(declared('STAGED'), emptyState(), []).state;
    const activated = plan(declared('ACTIVE'), staged, []);
    expect(activated.users.map((u) => [u.action, u.status])).toEqual([['activate', { from: 'STAGED', to: 'ACTIVE' }]]);
    // deactivate from ACTIVE, activate from DEPROVISIONED.
    const active = planAndApply(declared('ACTIVE'), staged, []).state;
    const off = planAndApply(declared('DEPROVISIONED'), active, []);
    expect(off.plan.users.map((u) => [u.action, u.status])).toEqual([['deactivate', { from: 'ACTIVE', to: 'DEPROVISIONED' }]]);
    expect(plan(declared('ACTIVE'), off.state, []).users.map((u) => [u.action, u.status])).toEqual([['activate', { from: 'DEPROVISIONED', to: 'ACTIVE' }]]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('5. declared users', () => {
  const declared = (links: ProjectSpec['links'] = []) => hrOnly({ match: [{ app: 'email', user: 'email' }] }, {
    users: [{ login: ADA, roles: ['super_admin'], profile: { email: ADA, firstName: 'Countess' } }],
    links,
  });
  const stored = () => planAndApply(declared(), emptyState(), []).state;

  it('are sourced by the directory, with the declared profile, status and roles', () => {
    const p = plan(declared(), emptyState(), []);
    expect(p.users.map((u) => [u.action, u.after.login, u.after.status, u.after.profileSource, u.after.roles, u.after.profile])).toEqual([
      ['create', ADA, 'ACTIVE', 'directory', ['super_admin'], { login: ADA, email: ADA, firstName: 'Countess' }],
    ]);
  });

  it('reports an account that matches one as a conflict, not a link', () => {
    const p = plan(declared(), stored(), [snapshot('hr', [rows[0]!])]);
    expect(p.conflicts).toEqual([expect.objectContaining({ code: 'declared-user-match', app: 'hr', key: '1', users: [ADA] })]);
    expect(p.conflicts[0]!.resolution).toContain(`links: [{ app: hr, key: "1", user: ${ADA} }]`);
    expect(p.applyable).toBe(false);
    expect([p.users, p.links]).toEqual([[], []]);
  });

  it('are never sourced by an import, even when a links: entry links an account to them', () => {
    const pinned = declared([{ app: 'hr', key: '1', user: ADA }]);
    const { plan: p, state } = planAndApply(pinned, stored(), [snapshot('hr', [rows[0]!])]);
    expect(p.links).toEqual([expect.objectContaining({ action: 'link', key: '1', login: ADA, reason: 'pinned by a links: entry' })]);
    expect(p.users).toEqual([]); // hr's names and title are not applied
    expect(userOf(state, ADA).profileSource).toBe('directory');
    // Nor does the account's lifecycle reach them.
    const terminated = plan(pinned, state, [snapshot('hr', terminate([rows[0]!], '1'))]);
    expect(terminated.users).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('6. protected users', () => {
  const admin = (imp: Partial<Import> = {}, extra: Omit<ProjectSpec, 'apps'> = {}) => hrOnly(imp, { set: [{ user: ADA, roles: ['super_admin'] }], ...extra });

  it('never deactivates a super admin terminated in HR: the blocked transition is a warning, other updates still happen', () => {
    const { state } = planAndApply(admin(), emptyState(), [snapshot('hr', rows)]);
    expect(userOf(state, ADA).roles).toEqual(['super_admin']);
    const p = plan(admin(), state, [snapshot('hr', edit(terminate(rows, '1', '2'), '1', { title: 'CTO' }))]);
    expect(actions(p)).toEqual([[ADA, 'update'], [ALAN, 'deactivate']]);
    const ada = changeOf(p, ADA)!;
    expect(ada.status).toBeUndefined();
    expect(ada.after.status).toBe('ACTIVE');
    expect(ada.attributes).toStrictEqual({ title: { from: 'Engineer', to: 'CTO' } });
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'protected-user', users: [ADA] })]);
    expect(p.warnings[0]!.message).toMatch(/deactivate/);
    expect(p.warnings[0]!.message).toContain('account is disabled at the source');
    expect(p.applyable).toBe(true);
  });

  it('never suspends one either, nor applies onMissing to them', () => {
    const suspend = admin({ onDisabled: 'suspend' });
    const { state } = planAndApply(suspend, emptyState(), [snapshot('hr', rows)]);
    const p = plan(suspend, state, [snapshot('hr', terminate(rows, '1'))]);
    expect(p.users).toEqual([]);
    expect(p.warnings.map((w) => [w.code, w.users])).toEqual([['protected-user', [ADA]]]);
    expect(p.warnings[0]!.message).toMatch(/suspend/);

    const missing = plan(admin(), planAndApply(admin(), emptyState(), [snapshot('hr', rows)]).state, [snapshot('hr', rows.slice(1))]);
    const ada = changeOf(missing, ADA)!;
    expect(ada.after.status).toBe('ACTIVE');
    expect(ada.status).toBeUndefined();
    expect(missing.warnings).toEqual([expect.objectContaining({ code: 'protected-user', users: [ADA] })]);
    expect(missing.warnings[0]!.message).toContain('vanished from hr');
  });

  it('protects the roles named in protect.roles', () => {
    const vip = hrOnly({}, { protectRoles: ['vip'], set: [{ user: ALAN, roles: ['vip'] }] });
    const { state } = planAndApply(vip, emptyState(), [snapshot('hr', rows)]);
    const p = plan(vip, state, [snapshot('hr', terminate(rows, '1', '2'))]);
    expect(actions(p)).toEqual([[ADA, 'deactivate']]);
    expect(p.warnings.map((w) => [w.code, w.users])).toEqual([['protected-user', [ALAN]]]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('7. full and incremental imports', () => {
  const incremental = hrOnly({ mode: 'incremental', watermark: 'updated_at' });
  const marked = [
    hrRow('1', 'Ada', 'Lovelace', { updated_at: '2024-01-01T00:00:00Z' }),
    hrRow('2', 'Alan', 'Turing', { updated_at: '2024-01-02T00:00:00Z' }),
    hrRow('3', 'Grace', 'Hopper', { updated_at: '2024-01-03T00:00:00Z' }),
  ];

  it('applies only rows past the stored watermark, yields the new watermark, and never removes anyone', () => {
    const first = planAndApply(incremental, emptyState(), [snapshot('hr', marked)]);
    expect(first.plan.summary.users.create).toBe(3);
    expect(first.plan.watermarks).toEqual([{ app: 'hr', from: null, to: '2024-01-03T00:00:00Z' }]);
    expect(first.state.watermarks).toEqual({ hr: '2024-01-03T00:00:00Z' });

    // Ada's row is older than the watermark (ignored even though it differs); Grace's is exactly at it
    // (read again: it changed in the same second as the last row applied, and must not be lost); Alan's is
    // past it (applied). Nobody else is mentioned: nobody is removed.
    const p = plan(incremental, first.state, [snapshot('hr', [
      { ...marked[0]!, title: 'Countess' },
      { ...marked[2]!, title: 'Admiral' },
      { ...marked[1]!, title: 'Fellow', updated_at: '2024-01-04T00:00:00Z' },
    ])]);
    expect(actions(p)).toEqual([[ALAN, 'update'], [GRACE, 'update']]);
    expect(p.users[0]!.attributes).toStrictEqual({ title: { from: 'Engineer', to: 'Fellow' } });
    expect(p.users[1]!.attributes).toStrictEqual({ title: { from: 'Engineer', to: 'Admiral' } });
    expect(p.watermarks).toEqual([{ app: 'hr', from: '2024-01-03T00:00:00Z', to: '2024-01-04T00:00:00Z' }]);
    expect(p.links).toEqual([]);
    expect(p.imports.map((i) => [i.action, i.key])).toEqual([['refresh', '2'], ['refresh', '3']]);

    const empty = plan(incremental, first.state, [snapshot('hr', [])]);
    expect([empty.users, empty.links, empty.imports, empty.watermarks]).toEqual([[], [], [], []]);
  });

  it('still applies the lifecycle of rows in the increment', () => {
    const { state } = planAndApply(incremental, emptyState(), [snapshot('hr', marked)]);
    const p = plan(incremental, state, [snapshot('hr', [{ ...marked[1]!, status: 'Terminated', updated_at: '2024-01-05T00:00:00Z' }])]);
    expect(actions(p)).toEqual([[ALAN, 'deactivate']]);
  });

  it('treats absence from a full import as removal', () => {
    const { state } = planAndApply(hrOnly(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrOnly(), state, [snapshot('hr', rows.slice(0, 2))]);
    expect(actions(p)).toEqual([[GRACE, 'deactivate']]);
  });

  it('deactivates nobody because of a row that failed to parse (no key recovered)', () => {
    const { state } = planAndApply(hrOnly(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrOnly(), state, [snapshot('hr', rows.slice(0, 2), 'id', [{ line: 4, message: 'unterminated quote' }])]);
    expect([p.users, p.links, p.imports]).toEqual([[], [], []]);
    expect(p.warnings.map((w) => [w.code, w.line])).toEqual([['row-error', 4], ['held-back', undefined], ['missing-suspended', undefined]]);
    expect(p.warnings[1]!.message).toBe('1 row of hr could not be read; 1 linked account missing from hr was not treated as missing, so their users are left as they are until hr reads whole');
    expect(p.summary.heldBack).toBe(1);
    expect(p.applyable).toBe(true);
  });

  it('deactivates nobody because of a row that failed to parse (key recovered)', () => {
    const { state } = planAndApply(hrOnly(), emptyState(), [snapshot('hr', rows)]);
    const p = plan(hrOnly(), state, [snapshot('hr', [rows[0]!, rows[2]!], 'id', [{ line: 3, message: 'wrong number of fields', key: '2' }])]);
    expect([p.users, p.links, p.imports]).toEqual([[], [], []]);
    expect(p.warnings.map((w) => [w.code, w.key])).toEqual([['row-error', '2'], ['held-back', undefined]]);
  });

  it('does not switch the source of a user whose primary row failed to parse', () => {
    const project = makeProject({
      apps: {
        hr: hr({ match: [{ app: 'email', user: 'email' }] }),
        ad: { key: 'sam', import: { mappings: { login: 'app.mail', email: 'app.mail' }, newUserStatus: 'ACTIVE', match: [{ app: 'mail', user: 'email' }] } },
      },
      profileSources: ['hr', 'ad'],
    });
    const ad = snapshot('ad', [{ sam: 'alovelace', mail: ADA }], 'sam');
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows), ad]);
    const unkeyed = plan(project, state, [snapshot('hr', rows.slice(1), 'id', [{ line: 2, message: 'unterminated quote' }]), ad]);
    expect([unkeyed.users, unkeyed.links, unkeyed.imports]).toEqual([[], [], []]);
    const keyed = plan(project, state, [snapshot('hr', rows.slice(1), 'id', [{ line: 2, message: 'unterminated quote', key: '1' }]), ad]);
    expect([keyed.users, keyed.links, keyed.imports]).toEqual([[], [], []]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('8. safeguards', () => {
  const staff = Array.from({ length: 10 }, (_, i) => hrRow(String(i + 1), `p${i + 1}`, 'staff'));
  const ids = (n: number) => staff.slice(0, n).map((r) => r.id!);
  const guarded = (safeguards: ProjectSpec['safeguards'], imp: Partial<Import> = {}) => hrOnly(imp, { safeguards });
  const run = (safeguards: ProjectSpec['safeguards'], next: Row[], imp: Partial<Import> = {}) => {
    const { state } = planAndApply(guarded({}, imp), emptyState(), [snapshot('hr', staff)]);
    return plan(guarded(safeguards, imp), state, [snapshot('hr', next)]);
  };
  const verdict = (kind: string, count: number, base: number, threshold: number | string, limit: number, tripped: boolean, scope = 'all') => ({ scope, kind, count, base, threshold, limit, tripped });

  it.each([
    [2, 2, false],
    [2, 3, true],
    ['20%', 2, false],
    ['20%', 3, true],
  ] as const)('deactivateUsers %j with %i deactivations: tripped %s (exactly at the threshold passes)', (threshold, n, tripped) => {
    const p = run({ deactivateUsers: threshold }, terminate(staff, ...ids(n)));
    expect(p.summary.users.deactivate).toBe(n);
    expect(p.safeguards).toEqual([verdict('deactivateUsers', n, 10, threshold, 2, tripped)]);
    expect(p.applyable).toBe(!tripped);
    if (tripped) {
      expect(p.blockers).toEqual([{ code: 'safeguard', message: expect.stringContaining(`${n} users to deactivate is over the safeguard deactivateUsers: ${threshold}`) }]);
      if (typeof threshold === 'string') expect(p.blockers[0]!.message).toContain('of 10 (at most 2)');
    } else {
      expect(p.blockers).toEqual([]);
    }
  });

  it('takes a percentage that is not a whole count as the largest count under it', () => {
    expect(run({ deactivateUsers: '15%' }, terminate(staff, ...ids(1))).safeguards).toEqual([verdict('deactivateUsers', 1, 10, '15%', 1.5, false)]);
    expect(run({ deactivateUsers: '15%' }, terminate(staff, ...ids(2))).safeguards).toEqual([verdict('deactivateUsers', 2, 10, '15%', 1.5, true)]);
  });

  it.each([[2, false], [3, true]] as const)('suspendUsers 2 with %i suspensions: tripped %s', (n, tripped) => {
    const p = run({ suspendUsers: 2 }, terminate(staff, ...ids(n)), { onDisabled: 'suspend' });
    expect(p.summary.users.suspend).toBe(n);
    expect(p.safeguards).toEqual([verdict('suspendUsers', n, 10, 2, 2, tripped)]);
    expect(p.applyable).toBe(!tripped);
  });

  it.each([[2, false], [3, true]] as const)('disableAccounts 2 with %i accounts newly disabled: tripped %s', (n, tripped) => {
    const p = run({ disableAccounts: 2 }, terminate(staff, ...ids(n)), { onDisabled: 'none' });
    expect(p.users).toEqual([]);
    expect(p.safeguards).toEqual([verdict('disableAccounts', n, 10, 2, 2, tripped)]);
    expect(p.applyable).toBe(!tripped);
  });

  it('changeAccounts counts changed and vanished accounts: at 20% of 10 two pass, three trip', () => {
    const retitled = staff.map((r) => (['1', '2'].includes(r.id!) ? { ...r, title: 'Lead' } : r));
    const two = run({ changeAccounts: '20%' }, retitled, { onMissing: 'none' });
    expect(two.safeguards).toEqual([verdict('changeAccounts', 2, 10, '20%', 2, false)]);
    const three = run({ changeAccounts: '20%' }, retitled.slice(0, 9), { onMissing: 'none' });
    expect(three.safeguards).toEqual([verdict('changeAccounts', 3, 10, '20%', 2, true)]);
    expect(three.applyable).toBe(false);
  });

  it('counts per app over what that app drives', () => {
    const project = (safeguards: ProjectSpec['safeguards']) => makeProject({
      apps: { hr: hr(), ad: { key: 'sam', import: { mappings: { login: 'app.mail' }, disabled: 'app.enabled == "false"', newUserStatus: 'ACTIVE' } } },
      profileSources: ['hr', 'ad'],
      safeguards,
    });
    const adRows = Array.from({ length: 5 }, (_, i) => ({ sam: `s${i}`, mail: `s${i}@example.com`, enabled: 'true' }));
    const adOff = (n: number) => adRows.map((r, i) => (i < n ? { ...r, enabled: 'false' } : r));
    const { state } = planAndApply(project({}), emptyState(), [snapshot('hr', staff), snapshot('ad', adRows, 'sam')]);
    const limits = { apps: { hr: { deactivateUsers: 1 }, ad: { deactivateUsers: '20%' } } };
    const ok = plan(project(limits), state, [snapshot('hr', terminate(staff, '1')), snapshot('ad', adOff(1), 'sam')]);
    expect(ok.safeguards).toEqual([verdict('deactivateUsers', 1, 10, 1, 1, false, 'hr'), verdict('deactivateUsers', 1, 5, '20%', 1, false, 'ad')]);
    expect(ok.applyable).toBe(true);
    const over = plan(project(limits), state, [snapshot('hr', terminate(staff, '1', '2')), snapshot('ad', adOff(1), 'sam')]);
    expect(over.safeguards).toEqual([verdict('deactivateUsers', 2, 10, 1, 1, true, 'hr'), verdict('deactivateUsers', 1, 5, '20%', 1, false, 'ad')]);
    expect(over.blockers).toEqual([{ code: 'safeguard', message: expect.stringContaining('2 users to deactivate in hr is over the safeguard deactivateUsers: 1') }]);
  });

  it('lists every verdict, tripped or not', () => {
    const limits = { deactivateUsers: 5, suspendUsers: 5, disableAccounts: 5, changeAccounts: 5, apps: { hr: { deactivateUsers: 0, changeAccounts: '50%' } } };
    const p = run(limits, terminate(staff, '1'));
    expect(p.safeguards).toEqual([
      verdict('deactivateUsers', 1, 10, 5, 5, false), verdict('suspendUsers', 0, 10, 5, 5, false),
      verdict('disableAccounts', 1, 10, 5, 5, false), verdict('changeAccounts', 1, 10, 5, 5, false),
      verdict('deactivateUsers', 1, 10, 0, 0, true, 'hr'), verdict('changeAccounts', 1, 10, '50%', 5, false, 'hr'),
    ]);
    expect(p.blockers.map((b) => b.code)).toEqual(['safeguard']);
  });

  it('lets allowMassChange through with a safeguard-overridden warning, still showing the verdict', () => {
    const p = run({ deactivateUsers: 2, allowMassChange: true }, terminate(staff, ...ids(3)));
    expect(p.applyable).toBe(true);
    expect(p.blockers).toEqual([]);
    expect(p.safeguards).toEqual([verdict('deactivateUsers', 3, 10, 2, 2, true)]);
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'safeguard-overridden', message: expect.stringContaining('3 users to deactivate') })]);
  });
});
