import { describe, expect, it } from 'vitest';
import type { Plan } from '../schemas/generated/plan.ts';
import type { DirectoryState } from '../reconciler/model.ts';
import { userInputs } from '../reconciler/review-inputs.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan as makePlan, planAndApply, snapshot } from '../reconciler/testing.ts';
import { IdplaneError } from './errors.ts';
import type { RawPlan } from './plan-file.ts';
import { headerOf, planSource, type PlanItem } from './plan-stream.ts';
import { difference, verifySavedPlan } from './plan-verify.ts';

describe('difference', () => {
  it('names the first differing path, treating undefined keys as absent', () => {
    expect(difference({ a: 1, b: [1, { c: 'x' }] }, { a: 1, b: [1, { c: 'x' }] }, '')).toBeNull();
    expect(difference({ a: 1, u: undefined }, { a: 1 }, '')).toBeNull();
    expect(difference({ after: { profile: { title: 'A' } } }, { after: { profile: { title: 'B' } } }, '')).toBe('after.profile.title');
    expect(difference({ roles: ['a'] }, { roles: ['a', 'b'] }, '')).toBe('roles[1]');
    expect(difference({ a: 1 }, { a: 1, extra: 2 }, '')).toBe('extra');
    expect(difference({ a: null }, { a: {} }, '')).toBe('a');
    expect(difference([1], { 0: 1 }, '')).toBe('(the whole value)');
  });
});

const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } } });
const fresh = (): Plan => makePlan(project, emptyState(), [snapshot('hr', [hrRow('1', 'Zoë', 'Müller'), hrRow('2', 'Ann', 'Lee')])]);

/** The plan as saved (plan-stream's planSource, one line per item), after `edit`. */
async function saved(edit: (items: PlanItem[], header: Plan) => void = () => {}, write = (item: PlanItem) => JSON.stringify(item), plan = fresh(), state?: DirectoryState): Promise<RawPlan> {
  const items: PlanItem[] = [];
  for await (const batch of planSource(plan, state && userInputs(state, plan)).batches()) items.push(...structuredClone(batch));
  const header = structuredClone(headerOf(plan)) as Plan;
  edit(items, header);
  return { header, async *lines() { yield items.map((item, i) => ({ t: item.t, text: write(item), lineNo: i + 2 })); } };
}

async function refusal(source: Promise<RawPlan>): Promise<IdplaneError> {
  return verifySavedPlan(await source, fresh(), project, 'p.plan', emptyState()).then(() => { throw new Error('expected a refusal'); }, (e: IdplaneError) => e);
}

describe('verifySavedPlan', () => {
  it('accepts the plan the inputs produce, whenever it was made, however its lines are spaced', async () => {
    const exact = { moved: false, reviewed: 4, since: [], records: 0 };
    await expect(verifySavedPlan(await saved((_i, h) => (h.created_at = '2020-01-01T00:00:00Z')), fresh(), project, 'p.plan', emptyState())).resolves.toEqual(exact);
    await expect(verifySavedPlan(await saved(() => {}, (item) => JSON.stringify(item, null, 1).replace(/\n/g, ' ')), fresh(), project, 'p.plan', emptyState())).resolves.toEqual(exact);
  });

  it('refuses an edited value, naming the user and field but not the value', async () => {
    const e = await refusal(saved((items) => ((items[0]!.v as { after: { profile: Record<string, unknown> } }).after.profile.lastName = 'Secret')));
    expect(e.code).toBe('PLAN_MISMATCH');
    expect(e.message).toMatch(/the create of user \S+ differs at after\.profile\.lastName/);
    expect(e.message).not.toContain('Secret');
  });

  it('refuses an added role with the rule it breaks', async () => {
    const e = await refusal(saved((items) => ((items[0]!.v as { after: { roles: string[] } }).after.roles = ['super_admin'])));
    expect(e.message).toContain("breaks the config's own rules: it gives");
  });

  it('refuses a line too many or too few, and a changed header', async () => {
    expect((await refusal(saved((items) => items.push(structuredClone(items.at(-1)!))))).message).toMatch(/which the config and inputs do not produce|where the recomputed plan has/);
    expect((await refusal(saved((items) => items.pop()))).message).toContain('it leaves out');
    expect((await refusal(saved((_i, h) => (h.applyable = !h.applyable)))).message).toContain('its header differs at applyable');
  });

  it('takes a changed input fingerprint alone for data that moved, with nothing to re-plan when no user changed', async () => {
    const check = await verifySavedPlan(await saved((_i, h) => (h.fingerprints.inputs.hr = 'sha256:other')), fresh(), project, 'p.plan', emptyState());
    expect(check).toEqual({ moved: true, reviewed: 4, since: [], records: 0 });
  });
});

describe('verifySavedPlan after the data and the state moved', () => {
  // The reviewed change: titles get a suffix. Between the review and the merge a new hire arrives, Ann's
  // row changes and a JIT sign-in moves the state's serial.
  const base = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } } });
  const head = makeProject({ apps: { hr: { import: { mappings: { ...HR_MAPPINGS, title: 'app.title + " (HR)"' }, newUserStatus: 'ACTIVE' } } } });
  const reviewRows = [hrRow('1', 'Zoë', 'Müller'), hrRow('2', 'Ann', 'Lee'), hrRow('3', 'Bo', 'Chen')];
  const state = planAndApply(base, emptyState(), [snapshot('hr', reviewRows)]).state;
  const reviewed = makePlan(head, state, [snapshot('hr', reviewRows)]);
  const mergeRows = [reviewRows[0]!, hrRow('2', 'Ann', 'Lee', { title: 'Manager' }), reviewRows[2]!, hrRow('4', 'Dee', 'Diaz')];
  const moved: DirectoryState = { ...state, serial: state.serial + 1, digest: 'after-a-jit-sign-in' };
  const atMerge = () => makePlan(head, moved, [{ ...snapshot('hr', mergeRows), fingerprint: 'sha256:hr-at-merge' }]);

  it('proves the reviewed effect for users whose inputs did not change, and re-plans the rest as data changes', async () => {
    const check = await verifySavedPlan(await saved(() => {}, undefined, reviewed, state), atMerge(), head, 'p.plan', moved);
    expect(check.moved).toBe(true);
    expect(check.reviewed).toBe(2); // Zoë's and Bo's title updates, as reviewed
    expect(check.since).toEqual([
      { userId: expect.any(String), login: 'ann.lee@example.com', why: 'inputs', changes: 1 },
      { userId: expect.any(String), login: 'dee.diaz@example.com', why: 'new', changes: 2 },
    ]);
    expect(check.records).toBe(2); // Ann's refreshed record, Dee's new one
  });

  it('refuses a change that differs for a user whose inputs did not change, counting each part', async () => {
    const e = await verifySavedPlan(await saved((items) => {
      const bo = items.find((i) => i.t === 'user' && i.v.login === 'bo.chen@example.com')!.v as { after: { profile: Record<string, unknown> } };
      bo.after.profile.title = 'Engineer';
    }, undefined, reviewed, state), atMerge(), head, 'p.plan', moved).then(() => null, (error: IdplaneError) => error);
    expect(e?.code).toBe('PLAN_MISMATCH');
    expect(e?.message).toContain('for users whose inputs did not change since it was made: 1 change(s) differ, the first: the update of user bo.chen@example.com differs at after.profile.title');
    expect(e?.message).toContain('Of the rest, 1 change(s) are the reviewed effect; 2 user(s) changed since the review');
  });

  it('refuses a saved plan without digests once the data moved, unless its changes are exactly the same', async () => {
    const e = await verifySavedPlan(await saved(() => {}, undefined, reviewed), atMerge(), head, 'p.plan', moved).then(() => null, (error: IdplaneError) => error);
    expect(e?.message).toContain('the update of user ann.lee@example.com differs at after.profile.title (the saved plan carries no digest of its inputs');
  });
});
