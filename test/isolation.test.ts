/**
 * Read-time isolation (onUnreachable) through the real CLI, on examples/provisioning plus a second CSV
 * target, erp, whose file cannot be read: the plan goes on without it, says so (exit 4, text, JSON,
 * Markdown), apply carries out the rest, and once erp can be read the next plan plans it with nothing lost.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('provisioning')));
afterEach(async () => cleanup());

const ERP = (path: string, extra = '') => `
  erp:
    provider: csv
    connection: { path: ${path} }
    key: login
${extra}    provision:
      mappings:
        login: user.login
        name: 'user.firstName + " " + user.lastName'
`;

type NotPlanned = { app: string; role: string; operation: string; reason: string };
type PlanDoc = { notPlanned?: NotPlanned[]; accounts: { app: string; action: string; key: string }[]; users: { action: string; login: string }[]; applyable: boolean };

async function addErp(path: string, extra = ''): Promise<void> {
  const file = join(dir, 'idplane.yaml');
  await writeFile(file, (await readFile(file, 'utf8')) + ERP(path, extra));
}

const planJson = (): { code: number; plan: PlanDoc } => {
  const r = idplane(dir, ['plan', '--format', 'json']);
  return { code: r.code, plan: JSON.parse(r.stdout) as PlanDoc };
};

describe('a target that cannot be read at plan time', () => {
  it('is left out with the app, the operation and the reason; the rest is planned; exit 4 in every format', async () => {
    await addErp('data/hr.csv/erp.csv'); // a path below a file: ENOTDIR
    const text = idplane(dir, ['plan']);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain('Not planned: 1 app(s) could not be read');
    expect(text.stdout).toMatch(/- erp: cannot read accounts: cannot read data\/hr\.csv\/erp\.csv: ENOTDIR/);

    const { code, plan } = planJson();
    expect(code).toBe(4);
    expect(plan.applyable).toBe(true);
    expect(plan.notPlanned).toEqual([{ app: 'erp', role: 'target', operation: 'read accounts', reason: expect.stringContaining('ENOTDIR') }]);
    expect(plan.users.filter((u) => u.action === 'create')).toHaveLength(10);
    expect(plan.accounts.filter((a) => a.app === 'salesforce' && a.action === 'create')).toHaveLength(4);
    expect(plan.accounts.some((a) => a.app === 'erp')).toBe(false);

    const md = idplane(dir, ['plan', '--format', 'markdown']);
    expect(md.code).toBe(4);
    expect(md.stdout).toContain('**1 app(s) not planned: they could not be read.**');
    expect(md.stdout.indexOf('not planned')).toBeLessThan(md.stdout.indexOf('| users |'));
  });

  it('stops the plan with onUnreachable: fail, as a required target should', async () => {
    await addErp('data/hr.csv/erp.csv', '    onUnreachable: fail\n');
    const r = idplane(dir, ['plan']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/erp: cannot read data\/hr\.csv\/erp\.csv: ENOTDIR/);
    expect(r.stdout).toBe('');
  });

  it('apply carries out the rest (exit 4); once the target can be read the next plan plans it, nothing lost', async () => {
    await addErp('data/erp.csv');
    await mkdir(join(dir, 'data/erp.csv')); // a folder where the file should be: EISDIR
    const saved = join(dir, 'first.plan');
    expect(idplane(dir, ['plan', '--out', saved]).code).toBe(4);

    // The target comes back between plan and apply: the saved plan is applied as it was made (erp
    // left out, not slipped in unreviewed), and is not stale for that.
    await rm(join(dir, 'data/erp.csv'), { recursive: true });
    await writeFile(join(dir, 'data/erp.csv'), 'login,name\n');
    const applied = idplane(dir, ['apply', saved]);
    expect(applied.stderr).not.toContain('Error');
    expect(applied.code).toBe(4);
    expect(applied.stdout).toContain('! not planned erp (target)');
    expect(applied.stdout).toContain('1 app(s) were not planned; the next plan that can read them plans them.');
    expect(await readFile(join(dir, 'data/erp.csv'), 'utf8')).toBe('login,name\n');
    expect((await readFile(join(dir, 'data/salesforce.csv'), 'utf8')).trim().split('\n')).toHaveLength(7);

    const next = planJson();
    expect(next.code).toBe(0);
    expect(next.plan.notPlanned).toBeUndefined();
    expect(next.plan.users).toEqual([]);
    // Every active user gets an erp account (one of the ten is Terminated in HR).
    expect(next.plan.accounts.filter((a) => a.app === 'erp').map((a) => a.action)).toEqual(Array(9).fill('create'));
    expect(next.plan.accounts.filter((a) => a.app !== 'erp')).toEqual([]);
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    expect((await readFile(join(dir, 'data/erp.csv'), 'utf8')).trim().split('\n')).toHaveLength(10);
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });

  it('drift says which apps it could not check (exit 4 when nothing else drifted)', async () => {
    await addErp('data/erp.csv');
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    await rm(join(dir, 'data/erp.csv'));
    await mkdir(join(dir, 'data/erp.csv'));
    const r = idplane(dir, ['drift']);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('No drift.');
    expect(r.stdout).toMatch(/Not checked: erp could not be read \(.*EISDIR/);
    const json = JSON.parse(idplane(dir, ['drift', '--format', 'json']).stdout) as { notChecked: NotPlanned[] };
    expect(json.notChecked.map((n) => n.app)).toEqual(['erp']);
  });
});

describe('an import source that cannot be read', () => {
  it('stops the plan by default (exit 1)', async () => {
    await rm(join(dir, 'data/badges.csv'));
    await mkdir(join(dir, 'data/badges.csv'));
    const r = idplane(dir, ['plan']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/badges: cannot read data\/badges\.csv/);
  });

  it('with onUnreachable: skip, keeps its users\' values and deactivates nobody, even the primary source', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const config = join(dir, 'idplane.yaml');
    const yaml = await readFile(config, 'utf8');
    await writeFile(config, yaml
      .replace('    connection: { path: data/badges.csv }\n', '    connection: { path: data/badges.csv }\n    onUnreachable: skip\n')
      .replace('    connection: { path: data/hr.csv }\n', '    connection: { path: data/hr.csv }\n    onUnreachable: skip\n'));
    const before = idplane(dir, ['state', 'show', 'mei.chen@example.com']).stdout;
    expect(before).toContain('badgeId');
    for (const file of ['badges.csv', 'hr.csv']) {
      await rm(join(dir, 'data', file));
      await mkdir(join(dir, 'data', file));
    }
    const { code, plan } = planJson();
    expect(code).toBe(4);
    expect(plan.notPlanned!.map((n) => [n.app, n.role, n.operation])).toEqual([
      ['hr', 'source', 'read accounts for import'], ['badges', 'source', 'read accounts for import'],
    ]);
    expect(plan.users).toEqual([]);
    // hr is also a write-back target: not read, so no account change for it either.
    expect(plan.accounts.filter((a) => a.app === 'hr')).toEqual([]);
    expect(plan.accounts).toEqual([]);
    const applied = idplane(dir, ['apply', '--auto-approve']);
    expect(applied.code).toBe(4);
    expect(idplane(dir, ['state', 'show', 'mei.chen@example.com']).stdout).toBe(before);
  });
});
