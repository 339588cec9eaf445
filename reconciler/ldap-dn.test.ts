/**
 * Provisioning into ldap targets, pure and in memory: the DN each change carries (provision.dn), renames
 * and moves planned as updates, and Active Directory's ACCOUNTDISABLE bit read as the account's status.
 */
import { describe, expect, it } from 'vitest';
import type { LdapApp } from '../schemas/generated/config.ts';
import type { Plan } from '../schemas/generated/plan.ts';
import { applyPlanToState } from './apply-plan.ts';
import { compileExpression, type CompiledExpression } from './expressions.ts';
import { buildDn } from './ldap-escape.ts';
import type { CompiledApp, DirectoryState, Project, SourceSnapshot } from './model.ts';
import { buildPlan } from './plan.ts';
import { emptyState, makeProject, snapshot } from './testing.ts';

function cel(text: string): CompiledExpression {
  const outcome = compileExpression(text);
  if (!outcome.ok) throw new Error(`test expression ${text} does not compile: ${outcome.message}`);
  return outcome.expression;
}

const PARENT = 'user.department == "Sales" ? "ou=sales,dc=example,dc=com" : "ou=eng,dc=example,dc=com"';

function ldapTarget(options: { flavor?: 'ad' | 'openldap'; parent?: string; status?: boolean } = {}): CompiledApp {
  const config: LdapApp = {
    provider: 'ldap', key: 'uid',
    connection: { url: 'ldap://127.0.0.1:1', baseDN: 'dc=example,dc=com', ...(options.flavor ? { flavor: options.flavor } : {}) },
    provision: {
      mappings: { uid: 'user.employeeNumber', cn: 'user.firstName + " " + user.lastName', sn: 'user.lastName' },
      dn: { rdn: 'cn', parent: options.parent ?? PARENT },
      ...(options.status === false ? {} : { status: { attribute: 'description', enabled: 'active', disabled: 'disabled' } }),
    },
  };
  return {
    name: 'dir', key: 'uid', config, import: null,
    provision: {
      assign: null, create: true, update: true, deactivate: true, delete: false, match: null,
      status: options.status === false ? { attribute: 'active', enabled: 'true', disabled: 'false' } : { attribute: 'description', enabled: 'active', disabled: 'disabled' },
      mappings: Object.entries(config.provision!.mappings).map(([attribute, text]) => ({ attribute, expression: cel(text as string), on: 'always' as const })),
      sourcedAttributes: new Set(),
      dn: { rdn: 'cn', parent: cel(options.parent ?? PARENT) },
    },
  };
}

function world(target: CompiledApp): Project {
  const project = makeProject({
    attributes: {
      login: { type: 'string', required: true, unique: true }, employeeNumber: { type: 'string', unique: true },
      firstName: { type: 'string' }, lastName: { type: 'string' }, department: { type: 'string' },
    },
    apps: {
      hr: {
        import: {
          newUserStatus: 'ACTIVE', disabled: 'app.status == "Terminated"',
          mappings: { login: 'app.email', employeeNumber: 'app.id', firstName: 'app.first', lastName: 'app.last', department: 'app.dept' },
        },
      },
    },
  });
  project.apps.dir = target;
  return project;
}

type Row = Record<string, string>;
const person = (id: string, first: string, last: string, dept: string, status = 'Active'): Row =>
  ({ id, first, last, dept, status, email: `${id}@example.com` });

function plan(project: Project, state: DirectoryState, rows: Row[], live: Row[]): Plan {
  const targets: SourceSnapshot[] = [snapshot('dir', live, 'uid')];
  return buildPlan({ project, state, sources: [snapshot('hr', rows)], targets, configFingerprint: 'sha256:t', version: 't' });
}

/** The directory after importing `rows`, with each user linked to the entry keyed by their number. */
function imported(project: Project, rows: Row[]): DirectoryState {
  const first = buildPlan({ project, state: emptyState(), sources: [snapshot('hr', rows)], configFingerprint: 'sha256:t', version: 't' });
  return applyPlanToState(emptyState(), first, 'lineage');
}

describe('ldap targets: DNs in the plan', () => {
  it('a create carries the DN, its RDN value escaped, under the parent the CEL gives', () => {
    const project = world(ldapTarget());
    const rows = [person('1', 'Ann', 'Lee', 'Eng'), person('2', 'Evil *)(uid=*', ',+"\\', 'Sales')];
    const p = plan(project, emptyState(), rows, []);
    const creates = p.accounts.filter((a) => a.app === 'dir');
    expect(creates.map((a) => [a.action, a.key, a.dn])).toEqual([
      ['create', '1', 'cn=Ann Lee,ou=eng,dc=example,dc=com'],
      ['create', '2', 'cn=Evil *)(uid\\=* \\,\\+\\"\\5c,ou=sales,dc=example,dc=com'],
    ]);
  });

  it('an entry already at its DN has no change; a new parent is a move, a new RDN value a rename with the attribute', () => {
    const project = world(ldapTarget());
    const rows = [person('1', 'Ann', 'Lee', 'Eng'), person('2', 'Bob', 'Ray', 'Eng')];
    const state = imported(project, rows);
    const live = [
      { uid: '1', cn: 'Ann Lee', sn: 'Lee', description: 'active', dn: 'CN=Ann Lee, OU=eng,dc=example,dc=com' },
      { uid: '2', cn: 'Bob Ray', sn: 'Ray', description: 'active', dn: 'cn=Bob Ray,ou=eng,dc=example,dc=com' },
    ];
    const settled = plan(project, state, rows, live).accounts.filter((a) => a.action !== 'link');
    expect(settled).toEqual([]);

    const moved = plan(project, state, [person('1', 'Ann', 'Lee', 'Sales'), person('2', 'Bob', 'Roe', 'Eng')], live).accounts;
    expect(moved.find((a) => a.key === '1')).toMatchObject({ action: 'update', attributes: {}, dn: 'cn=Ann Lee,ou=sales,dc=example,dc=com' });
    expect(moved.find((a) => a.key === '1')!.reason).toContain('moves to cn=Ann Lee,ou=sales');
    expect(moved.find((a) => a.key === '2')).toMatchObject({
      action: 'update', dn: 'cn=Bob Roe,ou=eng,dc=example,dc=com',
      attributes: { cn: { from: 'Bob Ray', to: 'Bob Roe' }, sn: { from: 'Ray', to: 'Roe' } },
    });
  });

  it('a parent that is not a DN is a conflict for a create, and never stops a disable', () => {
    const project = world(ldapTarget({ parent: 'user.department == "Gone" ? "" : "not a dn"' }));
    const p = plan(project, emptyState(), [person('1', 'Ann', 'Lee', 'Eng')], []);
    expect(p.accounts.filter((a) => a.app === 'dir')).toEqual([]);
    expect(p.conflicts).toContainEqual(expect.objectContaining({ code: 'expression-error', app: 'dir', message: expect.stringContaining('not a valid DN') }));

    const rows = [person('1', 'Ann', 'Lee', 'Gone', 'Terminated')];
    const state = imported(world(ldapTarget()), [person('1', 'Ann', 'Lee', 'Eng')]);
    const live = [{ uid: '1', cn: 'Ann Lee', sn: 'Lee', description: 'active', dn: buildDn('cn', 'Ann Lee', 'ou=eng,dc=example,dc=com') }];
    const withLink = { ...state, links: [{ app: 'dir', key: '1', userId: state.users[0]!.id }] };
    const disabled = plan(project, withLink, rows, live).accounts.find((a) => a.app === 'dir');
    expect(disabled).toMatchObject({ action: 'disable', key: '1' });
    expect(disabled!.dn).toBeUndefined();
  });
});

describe('Active Directory targets', () => {
  it('read the ACCOUNTDISABLE bit of userAccountControl as the account status', () => {
    const project = world(ldapTarget({ flavor: 'ad', status: false }));
    const rows = [person('1', 'Ann', 'Lee', 'Eng'), person('2', 'Bob', 'Ray', 'Eng', 'Terminated')];
    const state = imported(project, rows);
    const users = Object.fromEntries(state.users.map((u) => [u.profile.employeeNumber, u.id]));
    const linked = { ...state, links: [{ app: 'dir', key: '1', userId: users['1']! }, { app: 'dir', key: '2', userId: users['2']! }] };
    const entry = (uid: string, name: string, uac: string) => ({ uid, cn: name, sn: name.split(' ')[1]!, userAccountControl: uac, dn: buildDn('cn', name, 'ou=eng,dc=example,dc=com') });

    // Ann's account is disabled (514 = NORMAL_ACCOUNT + ACCOUNTDISABLE) and she is active: enable.
    // Bob's is enabled (66048 = NORMAL_ACCOUNT + DONT_EXPIRE_PASSWORD) and he is terminated: disable.
    const p = plan(project, linked, rows, [entry('1', 'Ann Lee', '514'), entry('2', 'Bob Ray', '66048')]);
    expect(p.accounts.filter((a) => a.app === 'dir').map((a) => [a.key, a.action])).toEqual([['1', 'enable'], ['2', 'disable']]);

    const settled = plan(project, linked, rows, [entry('1', 'Ann Lee', '512'), entry('2', 'Bob Ray', '66050')]);
    expect(settled.accounts.filter((a) => a.app === 'dir')).toEqual([]);
  });
});
