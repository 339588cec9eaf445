import { describe, expect, it } from 'vitest';
import type { PlanDelta } from '../../schemas/generated/plan-delta.ts';
import type { PlanSummary } from '../../schemas/generated/plan.ts';
import { renderDeltaMarkdown } from './plan-delta.ts';

const summary = (): PlanSummary => ({
  users: { create: 0, update: 0, activate: 0, deactivate: 0, suspend: 0, unsuspend: 0 }, links: { link: 0, unlink: 0 },
  accounts: { create: 0, update: 0, disable: 0, enable: 0, delete: 0, link: 0 },
  imports: 0, reviews: 0, conflicts: 0, warnings: 0, changes: 0, outOfBand: 0,
});

function markdown(delta: PlanDelta): string {
  let text = '';
  renderDeltaMarkdown(delta, { unmasked: false, shown: ['title'], salt: 'lineage' }, { write: (s) => void (text += s), drain: async () => {} });
  return text;
}

describe('the delta in Markdown', () => {
  it('stays under 65,536 characters with a thousand changed mappings of long expressions and 100k users, saying what it left out', () => {
    const attributes = Array.from({ length: 1000 }, (_, i) => `attribute${i}`);
    const long = `app.title + "${'x'.repeat(5000)}"`;
    const delta: PlanDelta = {
      format_version: '1',
      base: { ref: 'main', commit: 'a'.repeat(40), applyable: true, summary: summary(), blockers: [] },
      head: { applyable: true, summary: summary(), blockers: [], commit: 'b'.repeat(40) },
      counts: { users: 100_000, accounts: 0 },
      actions: [{ kind: 'user', app: 'hr', action: 'update', base: 0, head: 100_000, delta: 100_000 }],
      attributes: attributes.map((attribute) => ({ kind: 'user', app: null, attribute, count: 100_000 })),
      reasons: attributes.map((attribute, i) => ({ setting: `apps.hr.import.mappings.${attribute}`, location: `idplane.yaml:${40 + i}:5`, base: 'app.title', head: long, affects: { app: 'hr', attribute } })),
      users: Array.from({ length: 100_000 }, (_, i) => ({ id: `u${i}`, login: `user${i}@example.com`, base: null, head: 'update', attributes: ['attribute0'] })),
      accounts: [],
      directory: 100_000,
    };
    const text = markdown(delta);
    expect(text.length).toBeLessThan(65_536);
    expect(text).toContain('*…the rest of this summary is not shown here (a comment holds 65,536 characters); `idplane plan --git-base main --format json` has all of it.*');
    expect(text).toContain(`— because \`apps.hr.import.mappings.attribute0\` at idplane.yaml:40:5: \`app.title\` → \`app.title + "${'x'.repeat(187)}…\``);
    expect(text).not.toContain('x'.repeat(188));
    expect(text).not.toContain('user1@example.com');
  });

  it('quotes an expression that holds backticks so the comment still renders it as code', () => {
    const delta: PlanDelta = {
      format_version: '1',
      base: { ref: 'main', commit: 'a'.repeat(40), applyable: true, summary: summary(), blockers: [] },
      head: { applyable: true, summary: summary(), blockers: [] },
      counts: { users: 1, accounts: 0 }, actions: [], users: [], accounts: [],
      attributes: [{ kind: 'user', app: null, attribute: 'title', count: 1 }],
      reasons: [{ setting: 'apps.hr.import.mappings.title', location: 'idplane.yaml:3:5', base: 'app.title', head: 'app.title + "``"', affects: { app: 'hr', attribute: 'title' } }],
    };
    expect(markdown(delta)).toContain('- changes the planned title for 1 user — because `apps.hr.import.mappings.title` at idplane.yaml:3:5: `app.title` → ``` app.title + "``" ```\n');
  });
});
