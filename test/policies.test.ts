import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

const POLICIES = `
policies:
  - name: engineering-titles
    description: titles in Engineering change only through a reviewed exception
    when: 'change.kind == "user" && "title" in change.attributes && before.department == "Engineering"'
  - name: few-deactivations
    when: 'change.action == "deactivate"'
    max: 5
`;

describe('plan policies through the CLI', () => {
  it('plan reports a broken policy and exits 3; apply refuses it unless that policy is named', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')) + POLICIES);
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));

    const plan = idplane(dir, ['plan', '--out', 'p.plan']);
    expect(plan.code).toBe(3);
    expect(plan.stdout).toContain('POLICY: policy engineering-titles (titles in Engineering change only through a reviewed exception) allows no matching change, and this plan has 1: user zoe.muller@example.com: update');
    const json = JSON.parse(idplane(dir, ['show', 'p.plan', '--format', 'json']).stdout);
    expect(json.policies).toEqual([
      expect.objectContaining({ name: 'engineering-titles', matched: 1, broken: true }),
      expect.objectContaining({ name: 'few-deactivations', max: 5, matched: 0, broken: false }),
    ]);
    const md = idplane(dir, ['show', 'p.plan', '--format', 'markdown']);
    expect(md.stdout.indexOf('**Policy:** policy engineering-titles')).toBeGreaterThan(0);
    expect(md.stdout.indexOf('**Policy:**')).toBeLessThan(md.stdout.indexOf('| users |'));
    expect(md.stdout).toContain('Policies: 2 checked, broken: `engineering-titles`.');
    expect(md.stdout).not.toContain('zoe.muller');

    const refused = idplane(dir, ['apply', 'p.plan']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('pass --allow-policy NAME for each broken policy (engineering-titles)');
    expect(idplane(dir, ['apply', 'p.plan', '--allow-mass-change']).code).toBe(3);
    const unknown = idplane(dir, ['apply', 'p.plan', '--allow-policy', 'engineering-title']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--allow-policy engineering-title: the config has no such policy (it has engineering-titles, few-deactivations)');

    const allowed = idplane(dir, ['apply', 'p.plan', '--allow-policy', 'engineering-titles']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });

  it('validate names a policy over a field that does not exist, at file:line:col', async () => {
    const config = join(dir, 'idplane.yaml');
    const text = await readFile(config, 'utf8');
    await writeFile(config, `${text}\npolicies:\n  - name: typo\n    when: 'user.departmnet == "Finance"'\n`);
    const line = text.split('\n').length + 3;
    const r = idplane(dir, ['validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`idplane.yaml:${line}:12: error: user.departmnet at column 12: "departmnet" is not a directory attribute, nor login, status or roles; did you mean "department"?`);
  });
});
