/**
 * The reason beside each count of a pull request's delta, in a real git repository with the provisioning
 * example: a mapping that upper-cases department makes Salesforce's `assign` (which reads department)
 * stop matching and disables six accounts. The comment says so, with each setting's place and text.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRepository, idplane } from './cli-helpers.ts';

let dir: string;
let git: (...args: string[]) => string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, git, cleanup } = await exampleRepository('provisioning', '.idplane/\n'));
  git('checkout', '-q', '-b', 'upper-departments');
  const config = join(dir, 'idplane.yaml');
  await writeFile(config, (await readFile(config, 'utf8')).replace('        department: app.department\n', '        department: app.department.upperAscii()\n'));
  git('commit', '-qam', 'departments in capitals');
}, 60_000);
afterAll(async () => cleanup());

describe('plan --git-base: why the change plans differently', () => {
  it('names the changed mapping at its place, and the unchanged assign that reads it as why accounts are disabled', () => {
    const md = idplane(dir, ['plan', '--git-base', 'main', '--format', 'markdown']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('- adds 6 disable of salesforce accounts (0 → 6) — because `apps.salesforce.provision.assign` at idplane.yaml:62:15 (`user.department in ["Sales", "Engineering"]`) reads department, whose mapping this change changes\n');
    expect(md.stdout).toContain('- changes the planned department for 10 users — because `apps.hr.import.mappings.department` at idplane.yaml:36:21: `app.department` → `app.department.upperAscii()`\n');
    expect(md.stdout).toContain('- `apps.salesforce.provision.mappings.Department` at idplane.yaml:71:21 (`user.department`) reads department, whose mapping this change changes\n');

    const delta = JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--format', 'json']).stdout);
    expect(delta.reasons).toEqual([
      { setting: 'apps.hr.import.mappings.department', location: 'idplane.yaml:36:21', base: 'app.department', head: 'app.department.upperAscii()', affects: { app: 'hr', attribute: 'department' } },
      { setting: 'apps.salesforce.provision.assign', location: 'idplane.yaml:62:15', base: 'user.department in ["Sales", "Engineering"]', head: 'user.department in ["Sales", "Engineering"]', affects: { app: 'salesforce', assignment: true }, reads: ['department'] },
      { setting: 'apps.salesforce.provision.mappings.Department', location: 'idplane.yaml:71:21', base: 'user.department', head: 'user.department', affects: { app: 'salesforce', accountAttribute: 'Department' }, reads: ['department'] },
    ]);

    const text = idplane(dir, ['plan', '--git-base', 'main']);
    expect(text.stdout).toContain('  + adds 6 disable of salesforce accounts (0 → 6) — because `apps.salesforce.provision.assign` at idplane.yaml:62:15');
  });

  it('names a setting the change removes at its place in the base', async () => {
    const config = join(dir, 'idplane.yaml');
    const before = await readFile(config, 'utf8');
    await writeFile(config, before.replace(/^ {6}assign: .*\n/m, ''));
    try {
      const delta = JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--format', 'json']).stdout);
      expect(delta.reasons).toContainEqual({ setting: 'apps.salesforce.provision.assign', location: 'main:idplane.yaml:62:15', base: 'user.department in ["Sales", "Engineering"]', head: null, affects: { app: 'salesforce', assignment: true } });
      const md = idplane(dir, ['plan', '--git-base', 'main', '--format', 'markdown']).stdout;
      expect(md).toContain('`apps.salesforce.provision.assign` at main:idplane.yaml:62:15 is removed (it was `user.department in ["Sales", "Engineering"]`)');
    } finally {
      await writeFile(config, before);
    }
  });

  it('shows the data changes pending at the base, which the merge applies too, grouped by value', async () => {
    const hr = join(dir, 'data/hr.csv');
    const before = await readFile(hr, 'utf8');
    await writeFile(hr, before.replace('Staff Software Engineer', 'Principal Engineer'));
    try {
      const md = idplane(dir, ['plan', '--git-base', 'main', '--format', 'markdown']).stdout;
      expect(md).toContain('**Pending data changes**, which the merge applies too (as would any apply at `main` now): 1 user change(s) (1 update) and 1 account change(s) (1 update).\n\n- **title**: `"Staff Software Engineer"` → `"Principal Engineer"`: 1 user (`#');
      expect(md).not.toContain('zoe.muller');
      const delta = JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--format', 'json']).stdout);
      expect(delta.pending).toEqual({ users: { update: 1 }, accounts: { update: 1 }, groups: [{ kind: 'user', app: null, attribute: 'title', base: 'Staff Software Engineer', head: 'Principal Engineer', count: 1, examples: ['zoe.muller@example.com'] }] });
    } finally {
      await writeFile(hr, before);
    }
    expect(JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--format', 'json']).stdout).pending).toBeUndefined();
  });
});
