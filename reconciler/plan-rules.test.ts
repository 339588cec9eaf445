import { describe, expect, it } from 'vitest';
import type { UserChange } from '../schemas/generated/plan.ts';
import { planRules } from './plan-rules.ts';
import { HR_MAPPINGS, makeProject } from './testing.ts';

const project = makeProject({
  apps: { hr: { import: { mappings: HR_MAPPINGS } } },
  users: [{ login: 'root@example.com', roles: ['super_admin'] }, { login: 'gone@example.com', roles: ['super_admin'], status: 'DEPROVISIONED' }],
});
const rules = planRules(project);

function change(action: UserChange['action'], login: string, before: string[] | null, after: string[], status: UserChange['after']['status'] = 'ACTIVE'): UserChange {
  const record = (roles: string[], s: UserChange['after']['status']) => ({ id: 'u1', login, status: s, profile: { login }, profileSource: 'hr', roles });
  return { action, id: 'u1', login, before: before === null ? null : record(before, 'ACTIVE'), after: record(after, status), reason: '' };
}

describe('planRules', () => {
  it('lets through roles the config gives and roles a user already has', () => {
    expect(rules(change('update', 'root@example.com', [], ['super_admin']))).toBeNull();
    expect(rules(change('update', 'zoe@example.com', ['auditor'], ['auditor']))).toBeNull();
    expect(rules(change('update', 'zoe@example.com', ['auditor'], []))).toBeNull();
  });

  it('refuses a role that neither the config nor the stored directory gives', () => {
    expect(rules(change('create', 'zoe@example.com', null, ['super_admin', 'auditor']))).toBe('gives zoe@example.com the roles super_admin, auditor, which the config does not give them (roles come only from users: and set:)');
    expect(rules(change('update', 'Root@Example.com', [], ['auditor']))).toMatch(/^gives Root@Example\.com the role auditor/);
  });

  it('refuses to deactivate or suspend a protected user unless a declared status says so', () => {
    expect(rules(change('deactivate', 'zoe@example.com', ['super_admin'], ['super_admin'], 'DEPROVISIONED'))).toBe('deactivates zoe@example.com, a protected user (directory.protect.roles), which only a status declared in users: can do');
    expect(rules(change('suspend', 'root@example.com', ['super_admin'], ['super_admin'], 'SUSPENDED'))).toMatch(/^suspends root@example\.com, a protected user/);
    expect(rules(change('deactivate', 'gone@example.com', ['super_admin'], ['super_admin'], 'DEPROVISIONED'))).toBeNull();
    expect(rules(change('deactivate', 'zoe@example.com', [], [], 'DEPROVISIONED'))).toBeNull();
  });
});
