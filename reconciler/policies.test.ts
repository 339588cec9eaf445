import { describe, expect, it } from 'vitest';
import { compilePolicyExpression } from './expressions.ts';
import type { CompiledPolicy } from './policies.ts';
import { emptyState, hrRow, HR_MAPPINGS, makeProject, plan, planAndApply, snapshot } from './testing.ts';

function policy(name: string, when: string, max = 0): CompiledPolicy {
  const outcome = compilePolicyExpression(when);
  if (!outcome.ok) throw new Error(outcome.message);
  return { name, max, when: outcome.expression };
}

const rows = [hrRow('1', 'Zoe', 'Muller', { title: 'CFO' }), hrRow('2', 'Ann', 'Lee'), hrRow('3', 'Bo', 'Kim')];
const project = (...policies: CompiledPolicy[]) =>
  makeProject({ apps: { hr: { import: { mappings: HR_MAPPINGS, newUserStatus: 'ACTIVE', disabled: 'app.status == "Terminated"' } } }, policies });

describe('plan policies', () => {
  it('count the changes `when` matches, and break past max, blocking the plan with the policy named', () => {
    const p = project(policy('no-cfo-change', 'user.title == "CFO"'), policy('few-creates', 'change.action == "create"', 2));
    const first = plan(p, emptyState(), [snapshot('hr', rows)]);
    expect(first.policies).toEqual([
      { name: 'no-cfo-change', max: 0, matched: 1, broken: true, examples: ['user zoe.muller@example.com: create'] },
      { name: 'few-creates', max: 2, matched: 3, broken: true, examples: ['user ann.lee@example.com: create', 'user bo.kim@example.com: create', 'user zoe.muller@example.com: create'] }, // plan order: by login
    ]);
    expect(first.applyable).toBe(false);
    expect(first.blockers.filter((b) => b.code === 'policy').map((b) => b.policy)).toEqual(['no-cfo-change', 'few-creates']);
    expect(first.blockers[0]!.message).toBe('policy no-cfo-change allows no matching change, and this plan has 1: user zoe.muller@example.com: create; change the plan, or apply with --allow-policy no-cfo-change after review');
  });

  it('see the user before and after, the changed attributes, and keep quiet when nothing matches', () => {
    const { state } = planAndApply(project(), emptyState(), [snapshot('hr', rows)]);
    const p = project(
      policy('no-deactivation-of-cfo', 'change.action == "deactivate" && before.title == "CFO"'),
      policy('no-title-change', '"title" in change.attributes && before.title != null'),
    );
    const next = plan(p, state, [snapshot('hr', [{ ...rows[0]!, status: 'Terminated' }, { ...rows[1]!, title: 'Staff Engineer' }, rows[2]!])]);
    expect(next.policies!.map((v) => [v.name, v.matched, v.examples])).toEqual([
      ['no-deactivation-of-cfo', 1, ['user zoe.muller@example.com: deactivate']],
      ['no-title-change', 1, ['user ann.lee@example.com: update']],
    ]);
    const quiet = plan(project(policy('never', 'user.login == "nobody"')), state, [snapshot('hr', rows)]);
    expect(quiet.policies).toEqual([{ name: 'never', max: 0, matched: 0, broken: false, examples: [] }]);
    expect(quiet.applyable).toBe(true);
  });

  it('count a change `when` fails on as breaking, with the reason', () => {
    const p = project(policy('bad', 'int(user.title) > 3'));
    const verdict = plan(p, emptyState(), [snapshot('hr', rows.slice(0, 1))]).policies![0]!;
    expect(verdict.broken).toBe(true);
    expect(verdict.errors![0]).toMatch(/^user zoe\.muller@example\.com: create: /);
  });
});
