import { describe, expect, it } from 'vitest';
import type { Plan } from '../../schemas/generated/plan.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan as makePlan, planAndApply, snapshot } from '../../reconciler/testing.ts';
import { planSource } from '../../engine/plan-stream.ts';
import { plain } from './style.ts';
import { renderPlanText, type TextOptions } from './plan-text.ts';

async function text(plan: Plan, options: TextOptions = {}): Promise<string> {
  let out = '';
  await renderPlanText(planSource(plan), plain, { write: (s) => void (out += s), drain: async () => {} }, options);
  return out;
}

const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE', disabled: 'app.status == "Terminated"' } } } });
const rows = Array.from({ length: 20_000 }, (_, i) => hrRow(String(i), `First${i}`, `Last${i}`, i % 10 === 0 ? { status: 'Terminated' } : {}));

describe('the text plan of a large change', () => {
  it('opens with the counts by action, status and source, shows 100 blocks per section, and stays small at any size', async () => {
    const plan = makePlan(project, emptyState(), [snapshot('hr', rows)]);
    const out = await text(plan);
    expect(out.split('\n').slice(0, 3)).toEqual([
      'Changes:',
      '  + 20,000 user(s) to create: 18,000 ACTIVE, 2,000 DEPROVISIONED (from hr 20,000)',
      '  links: 20,000 to link, 0 to unlink',
    ]);
    expect(out.split('\n').filter((l) => l.startsWith('  + user ')).length).toBe(100);
    expect(out).toContain('  … and 19,900 more user changes not shown here (--limit 0 shows all;');
    expect(out).toContain('  … and 19,900 more link changes not shown here');
    expect(out.length).toBeLessThan(100_000);
    expect(out).toContain('\nPlan: 20,000 to create, 0 to update, 0 to activate, 0 to deactivate, 0 to suspend, 0 to unsuspend; 20,000 to link, 0 to unlink.\n');
    const all = await text(plan, { limit: 0 });
    expect(all.split('\n').filter((l) => l.startsWith('  + user ')).length).toBe(20_000);
    expect(all).not.toContain('more user changes not shown');
  });

  it('groups the same attribute change made to many users, the largest first, with a few of them named', async () => {
    const { state } = planAndApply(project, emptyState(), [snapshot('hr', rows.slice(0, 300))]);
    const moved = rows.slice(0, 300).map((r, i) => (i < 120 ? { ...r, title: 'Staff Engineer' } : i < 150 ? { ...r, title: 'Fellow' } : r));
    const out = await text(makePlan(project, state, [snapshot('hr', moved)]));
    const grouped = out.slice(out.indexOf('The same change to many'));
    expect(grouped.split('\n').slice(0, 3)).toEqual([
      'The same change to many (2 group(s)):',
      '  ~ title = "Engineer" → "Staff Engineer": 120 (first0.last0@example.com, first1.last1@example.com, first10.last10@example.com, …)',
      '  ~ title = "Engineer" → "Fellow": 30 (first120.last120@example.com, first121.last121@example.com, first122.last122@example.com, …)',
    ]);
  });

  it('shows only the changes of one user, app or action, saying so, with the whole plan\'s counts', async () => {
    const plan = makePlan(project, emptyState(), [snapshot('hr', rows.slice(0, 50))]);
    const ada = await text(plan, { narrowing: { user: 'FIRST7.last7@example.com' } });
    expect(ada).toContain("Showing only the changes of user FIRST7.last7@example.com; the counts are the whole plan's.");
    expect(ada.split('\n').filter((l) => /^ {2}[+~-] (user|link) /.test(l))).toEqual([
      '  + user first7.last7@example.com (create, ACTIVE)', expect.stringMatching(/^ {2}\+ link hr\/7 /),
    ]);
    const deprovisioned = await text(plan, { narrowing: { action: 'create', app: 'hr' } });
    expect(deprovisioned.split('\n').filter((l) => l.startsWith('  + user ')).length).toBe(50);
    expect((await text(plan, { narrowing: { app: 'crm' } })).split('\n').filter((l) => l.startsWith('  + user '))).toEqual([]);
  });
});
