import { describe, expect, it } from 'vitest';
import type { Plan } from '../../schemas/generated/plan.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan as makePlan, snapshot } from '../../reconciler/testing.ts';
import { planSource } from '../../engine/plan-stream.ts';
import { renderPlanMarkdown } from './plan-markdown.ts';

async function markdown(plan: Plan, unmasked = false): Promise<string> {
  let text = '';
  await renderPlanMarkdown(planSource(plan), { unmasked }, { write: (s) => void (text += s), drain: async () => {} });
  return text;
}

describe('plan Markdown for a pull-request comment', () => {
  it('stays under GitHub\'s 65,536 characters at 100k changes, saying what it left out, and still shows the conflicts', async () => {
    const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE' } } } });
    const rows = Array.from({ length: 100_000 }, (_, i) => hrRow(String(i), `First${i}`, `Last${i}`));
    rows.push({ ...rows[7]!, email: 'dup@example.com' }); // a duplicate key: a conflict after 100k users
    const plan = makePlan(project, emptyState(), [snapshot('hr', rows)]);
    expect(plan.users.length).toBeGreaterThanOrEqual(99_999);
    expect(plan.conflicts.length).toBeGreaterThan(0);
    for (const unmasked of [false, true]) {
      const text = await markdown(plan, unmasked);
      expect(text.length).toBeLessThan(65_536);
      expect(text).toMatch(/^\| users \| (99,999|100,000) \| 0 \|/m); // thousands separators
      expect(text).toMatch(/\*…and \d+ more not shown here \(a comment holds 65,536 characters\); `idplane show PLANFILE` lists them all\.\*/);
      expect(text).toContain('**conflict**');
      expect(text.match(/<details>/g)?.length).toBe(text.match(/<\/details>/g)?.length);
    }
  });

  it('shows everything when it fits', async () => {
    const project = makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS } } } });
    const text = await markdown(makePlan(project, emptyState(), [snapshot('hr', [hrRow('1', 'Zoe', 'Lee')])]));
    expect(text).not.toContain('more not shown');
    expect(text).toContain('- **create** `#');
  });
});
