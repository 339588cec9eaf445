import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await copyExample('multi-source')));
afterAll(async () => cleanup());

const day = (d: string) => ({ env: { DAY: d } });

describe('examples/multi-source through the CLI', () => {
  it('day 1 creates everyone, links AD by rule and leaves the partial match for review', () => {
    const plan = JSON.parse(idplane(dir, ['plan', '--format', 'json'], day('day1')).stdout);
    expect(plan.applyable).toBe(true);
    expect(plan.summary.users.create).toBe(9);
    expect(plan.reviews).toEqual([expect.objectContaining({ kind: 'partial', app: 'ad', key: 'jgarcia', candidates: ['jose.garcia@example.com'] })]);
    const amara = plan.users.find((u: { login: string }) => u.login === 'amara.okafor@example.com');
    expect(amara.after.roles).toEqual(['super_admin']);
    expect(amara.after.profile).toMatchObject({ adAccount: 'aokafor', deskPhone: '+1 415 555 0100', title: 'Chief Executive Officer' });
    expect(idplane(dir, ['apply', '--auto-approve'], day('day1')).code).toBe(0);
  });

  it('day 2 shows conflicts, the blocked transition, the source switch and the safeguard verdicts', () => {
    const r = idplane(dir, ['plan', '--format', 'json'], day('day2'));
    expect(r.code).toBe(3); // not applyable
    const plan = JSON.parse(r.stdout);
    expect(plan.conflicts.map((c: { code: string; key: string }) => [c.code, c.key])).toEqual([
      ['already-linked', 'npetrov-adm'],
      ['declared-user-match', 'breakglass'],
    ]);
    expect(plan.warnings).toEqual(expect.arrayContaining([
      expect.objectContaining({ code: 'row-error', app: 'workday', key: '1011', line: 8 }),
      expect.objectContaining({ code: 'protected-user', users: ['amara.okafor@example.com'] }),
    ]));
    const lars = plan.users.find((u: { login: string }) => u.login === 'lars.ostergaard@example.com');
    expect(lars.source).toEqual({ from: 'workday', to: 'ad' });
    expect(lars.attributes.department).toEqual({ from: 'Engineering', to: null });
    expect(lars.attributes.title).toEqual({ from: 'Chief Technology Officer', to: 'CTO (AD)' });
    const actions = Object.fromEntries(plan.users.map((u: { login: string; action: string }) => [u.login, u.action]));
    expect(actions['mei.chen@example.com']).toBe('deactivate');
    expect(actions['amara.okafor@example.com']).toBeUndefined();
    expect(actions['kenji.watanabe@example.com']).toBeUndefined();
    const tripped = plan.safeguards.filter((v: { tripped: boolean }) => v.tripped).map((v: { scope: string; kind: string; count: number }) => [v.scope, v.kind, v.count]);
    expect(tripped).toEqual([['all', 'deactivateUsers', 2], ['all', 'disableAccounts', 4]]);
    expect(plan.applyable).toBe(false);
    expect(plan.blockers.map((b: { code: string }) => b.code)).toEqual(['conflicts', 'safeguard', 'safeguard']);
    expect(idplane(dir, ['apply', '--auto-approve', '--allow-mass-change'], day('day2')).code).toBe(3);
  });

  it('once the conflicts are settled, only the safeguards hold the apply back until --allow-mass-change', async () => {
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('# include: [settle.yaml]', 'include: [settle.yaml]'));
    const refused = idplane(dir, ['apply', '--auto-approve'], day('day2'));
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('--allow-mass-change');
    const applied = idplane(dir, ['apply', '--auto-approve', '--allow-mass-change'], day('day2'));
    expect(applied.code).toBe(0);
    // Nothing is left to do, but day 2's export has a row that cannot be read: the plan says so, and exits 2.
    const after = idplane(dir, ['plan', '--detailed-exitcode'], day('day2'));
    expect(after.stdout).toContain('No changes, but rows of a source could not be read');
    expect(after.code).toBe(2);
    const list = idplane(dir, ['state', 'list', '--format', 'json'], day('day2'));
    const status = Object.fromEntries(JSON.parse(list.stdout).users.map((u: { login: string; status: string; profileSource: string }) => [u.login, `${u.status} ${u.profileSource}`]));
    expect(status).toMatchObject({
      'amara.okafor@example.com': 'ACTIVE workday',
      'mei.chen@example.com': 'DEPROVISIONED workday',
      'lars.ostergaard@example.com': 'ACTIVE ad',
      'kenji.watanabe@example.com': 'ACTIVE workday',
      'nikolai.petrov.admin@example.com': 'ACTIVE directory',
    });
  });
});
