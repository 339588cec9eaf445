import { describe, expect, it } from 'vitest';
import type { Plan } from '../schemas/generated/plan.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan as makePlan, snapshot } from '../reconciler/testing.ts';
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
async function saved(edit: (items: PlanItem[], header: Plan) => void = () => {}, write = (item: PlanItem) => JSON.stringify(item)): Promise<RawPlan> {
  const plan = fresh();
  const items: PlanItem[] = [];
  for await (const batch of planSource(plan).batches()) items.push(...structuredClone(batch));
  const header = structuredClone(headerOf(plan)) as Plan;
  edit(items, header);
  return { header, async *lines() { yield items.map((item, i) => ({ t: item.t, text: write(item), lineNo: i + 2 })); } };
}

async function refusal(source: Promise<RawPlan>): Promise<IdplaneError> {
  return verifySavedPlan(await source, fresh(), project, 'p.plan').then(() => { throw new Error('expected a refusal'); }, (e: IdplaneError) => e);
}

describe('verifySavedPlan', () => {
  it('accepts the plan the inputs produce, whenever it was made, however its lines are spaced', async () => {
    await expect(verifySavedPlan(await saved((_i, h) => (h.created_at = '2020-01-01T00:00:00Z')), fresh(), project, 'p.plan')).resolves.toBeUndefined();
    await expect(verifySavedPlan(await saved(() => {}, (item) => JSON.stringify(item, null, 1).replace(/\n/g, ' ')), fresh(), project, 'p.plan')).resolves.toBeUndefined();
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

  it('calls changed input fingerprints stale', async () => {
    const e = await refusal(saved((_i, h) => (h.fingerprints.inputs.hr = 'sha256:other')));
    expect(e.code).toBe('PLAN_STALE');
    expect(e.message).toContain("hr's data changed since it was made");
  });
});
