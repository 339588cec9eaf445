import { describe, expect, it } from 'vitest';
import type { DirectoryState } from './model.ts';
import { userInputs } from './review-inputs.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan, planAndApply, snapshot } from './testing.ts';

const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } } });
const rows = [hrRow('1', 'Zoë', 'Müller'), hrRow('2', 'Ann', 'Lee')];
const applied = planAndApply(project, emptyState(), [snapshot('hr', rows)]);
const idOf = (state: DirectoryState, login: string) => state.users.find((u) => u.login === login)!.id;
const zoe = idOf(applied.state, 'zoë.müller@example.com');
const ann = idOf(applied.state, 'ann.lee@example.com');

describe('userInputs', () => {
  it('is the same for the same stored user and records, whatever order the source gives its values in', () => {
    // Before the apply the values come from the plan's import; after it, from the stored record.
    const reading = userInputs(emptyState(), applied.plan)(zoe);
    const stored = userInputs(applied.state, plan(project, applied.state, [snapshot('hr', rows)]))(zoe);
    expect(stored).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const reordered = plan(project, applied.state, [snapshot('hr', rows.map((r) => Object.fromEntries(Object.entries(r).reverse())))]);
    expect(userInputs(applied.state, reordered)(zoe)).toBe(stored);
    // The stored user record is an input: before the first apply there is none.
    expect(reading).not.toBe(stored);
  });

  it('changes with the user\'s own source values and stored record, and only theirs', () => {
    const now = (state: DirectoryState, sourceRows: Record<string, string>[]) => userInputs(state, plan(project, state, [snapshot('hr', sourceRows)]));
    const same = now(applied.state, rows);
    const moved = now(applied.state, [hrRow('1', 'Zoë', 'Müller', { title: 'Manager' }), rows[1]!]);
    expect(moved(zoe)).not.toBe(same(zoe));
    expect(moved(ann)).toBe(same(ann));
    // An empty value is the same as none.
    expect(now(applied.state, [{ ...rows[0]!, nickname: '' }, rows[1]!])(zoe)).toBe(same(zoe));
    const edited: DirectoryState = { ...applied.state, users: applied.state.users.map((u) => (u.id === ann ? { ...u, profile: { ...u.profile, title: 'Edited' } } : u)) };
    expect(now(edited, rows)(ann)).not.toBe(same(ann));
    expect(now(edited, rows)(zoe)).toBe(same(zoe));
  });
});
