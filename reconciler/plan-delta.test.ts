import { describe, expect, it } from 'vitest';
import { planDelta } from './plan-delta.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan, planAndApply, snapshot } from './testing.ts';

describe('planDelta with countBy', () => {
  // The change adds a `disabled:` expression: the terminated rows are deactivated, counted by department.
  const attributes = { login: { type: 'string' as const, required: true, unique: true }, email: { type: 'string' as const }, employeeNumber: { type: 'string' as const }, firstName: { type: 'string' as const }, lastName: { type: 'string' as const }, title: { type: 'string' as const }, department: { type: 'string' as const } };
  const mappings = { ...HR_MAPPINGS, department: 'app.department' };
  const base = makeProject({ attributes, apps: { hr: { import: { mappings, newUserStatus: 'ACTIVE' } } } });
  const head = makeProject({ attributes, apps: { hr: { import: { mappings, newUserStatus: 'ACTIVE', disabled: 'app.status == "Terminated"' } } } });
  const rows = [
    hrRow('1', 'Ann', 'Lee', { department: 'Sales', status: 'Terminated' }),
    hrRow('2', 'Bo', 'Chen', { department: 'Sales', status: 'Terminated' }),
    hrRow('3', 'Cy', 'Dunn', { department: 'Finance', status: 'Terminated' }),
    hrRow('4', 'Di', 'Ek', { department: 'Finance' }),
  ];
  const state = planAndApply(base, emptyState(), [snapshot('hr', rows)]).state;

  it('counts the users whose planned action differs by the attribute\'s value, the largest first', () => {
    const delta = planDelta(plan(base, state, [snapshot('hr', rows)]), plan(head, state, [snapshot('hr', rows)]), { ref: 'main', commit: 'c0ffee' }, 'department');
    expect(delta.countedBy).toEqual({ attribute: 'department', rows: [{ action: 'deactivate', value: 'Sales', count: 2 }, { action: 'deactivate', value: 'Finance', count: 1 }] });
    expect(planDelta(plan(base, state, [snapshot('hr', rows)]), plan(head, state, [snapshot('hr', rows)]), { ref: 'main', commit: 'c0ffee' }).countedBy).toBeUndefined();
  });
});
