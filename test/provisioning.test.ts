import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane, idplaneAsync } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('provisioning')));
afterEach(async () => cleanup());

type Account = { action: string; app: string; key: string; login: string; link: boolean; attributes: Record<string, { from: string | null; to: string | null }> };
const planJson = () => JSON.parse(idplane(dir, ['plan', '--format', 'json']).stdout) as { accounts: Account[]; warnings: { code: string; attribute?: string; users?: string[] }[]; applyable: boolean };
const csvRows = async (file: string) => (await readFile(join(dir, 'data', file), 'utf8')).trim().split('\n');

describe('examples/provisioning through the CLI', () => {
  it('validate names the three write-back hazards', () => {
    const r = idplane(dir, ['validate']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('write-back race: hr is a profile source and sources work_email');
    expect(r.stderr).toContain('write-back pushes it_login, badge into hr');
    expect(r.stderr).toContain('badgeId (sourced by badges)');
  });

  it('creates accounts, links the two that exist instead of duplicating them, and converges', async () => {
    const plan = planJson();
    const sf = plan.accounts.filter((a) => a.app === 'salesforce');
    expect(sf.filter((a) => a.action === 'create').map((a) => a.key)).toEqual([
      'francois.lefevre@example.com', 'ines.conceicao@example.com', 'jose.hernandez@example.com', 'kenji.watanabe@example.com',
    ]);
    const lars = sf.find((a) => a.login === 'lars.ostergaard@example.com')!;
    expect(lars).toMatchObject({ action: 'update', key: 'lars.ostergaard@example.com.sfdc', link: true });
    expect(Object.keys(lars.attributes).sort()).toEqual(['LastName', 'Title']);
    expect(sf.find((a) => a.login === 'zoe.muller@example.com')).toMatchObject({ action: 'update', key: 'zoe.muller@example.com', link: true });
    expect(sf.some((a) => a.login === 'olivia.nguyen@example.com')).toBe(false);
    expect(plan.accounts.filter((a) => a.app === 'hr').every((a) => !('work_email' in a.attributes))).toBe(true);

    const applied = idplane(dir, ['apply', '--auto-approve']);
    expect(applied.code).toBe(0);
    // validate's warnings, each once, on stderr.
    for (const warning of ['write-back race: hr is a profile source', 'write-back pushes it_login, badge into hr', 'badgeId (sourced by badges)']) {
      expect(applied.stderr.split(warning).length - 1, warning).toBe(1);
    }
    expect(await csvRows('salesforce.csv')).toHaveLength(7);
    expect((await csvRows('hr.csv'))[1]).toBe('1001,Amara,Okafor,amara.okafor@example.com,Executive,Chief Executive Officer,Active,amara.okafor@example.com,B-7001');
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });

  it('day 2: disables (never deletes), pushes only changed attributes, and skips a write-back race', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    execFileSync('sh', [join(dir, 'day2.sh')]);
    const plan = planJson();
    const sf = Object.fromEntries(plan.accounts.filter((a) => a.app === 'salesforce').map((a) => [a.login, a]));
    expect(sf['zoe.muller@example.com']).toMatchObject({ action: 'disable', attributes: {} });
    expect(sf['kenji.watanabe@example.com']).toMatchObject({ action: 'disable', attributes: {} });
    expect(sf['ines.conceicao@example.com']!.attributes).toEqual({ LastName: { from: 'Conceição', to: 'Conceição Silva' } });
    expect(plan.warnings).toContainEqual(expect.objectContaining({ code: 'write-back-race', attribute: 'it_login', users: ['mei.chen@example.com'] }));
    expect(plan.accounts.some((a) => a.app === 'hr' && a.login === 'mei.chen@example.com')).toBe(false);

    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const rows = await csvRows('salesforce.csv');
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.startsWith('zoe.muller@example.com,'))).toContain(',false,');
    expect(rows.find((r) => r.startsWith('ines.conceicao@example.com,'))).toContain(',IConceição');
    expect((await csvRows('hr.csv')).find((r) => r.startsWith('1008,'))).toContain(',mei.c,');
  });

  it('one failing target does not stop the others, and the next run converges', async () => {
    const planFile = join(dir, 'day1.plan.json');
    expect(idplane(dir, ['plan', '--out', planFile]).code).toBe(0);
    const sfFile = join(dir, 'data/salesforce.csv');
    const original = await readFile(sfFile, 'utf8');

    // Broken while apply runs (after the directory is written, before any target): salesforce fails,
    // the write-back to hr is made all the same.
    let broke = false;
    const failed = await idplaneAsync(dir, ['apply', planFile], {
      env: { IDPLANE_PAUSE_AT: 'after-directory' },
      onStderr: (stderr, child) => {
        if (broke || !stderr.includes('paused at after-directory')) return;
        broke = true;
        appendFileSync(sfFile, 'broken,"unterminated\n');
        child.kill('SIGUSR2');
      },
    });
    expect(broke).toBe(true);
    expect(failed.stderr).toContain('paused at after-directory');
    expect(failed.code).toBe(1);
    // The changes that failed for one reason are one line, naming the first few.
    expect(failed.stdout).toMatch(/✗ failed \d+ changes of salesforce \((create|update) [^)]+, …\): /);
    expect(failed.stdout.split('\n').filter((l) => l.includes('✗'))).toHaveLength(1);
    expect(failed.stdout).toContain('Apply finished with failures.');
    expect((await csvRows('hr.csv'))[1]).toContain(',amara.okafor@example.com,B-7001');
    expect(await readFile(sfFile, 'utf8')).toContain('broken,"unterminated');

    await writeFile(sfFile, original);
    const retry = planJson();
    expect(retry.accounts.filter((a) => a.app === 'salesforce' && a.action === 'create')).toHaveLength(4);
    expect(retry.accounts.filter((a) => a.app === 'hr')).toHaveLength(0);
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });
});
