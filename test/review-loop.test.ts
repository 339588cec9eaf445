/**
 * The review loop of docs/gitops.md, end to end in a real git repository: a pull request changes a
 * mapping and is planned with --git-base; before it merges, a new hire arrives in the HR export and a
 * JIT sign-in moves the state. The reviewed artifact then applies at merge: the reviewed effect exactly,
 * the new hire and the signed-in user as data changes since the review. An artifact whose reviewed
 * effect was edited is refused, naming the change, with each part counted, and nothing is written.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRepository, idplane } from './cli-helpers.ts';

let dir: string;
let git: (...args: string[]) => string;
let cleanup: () => Promise<void>;
const edit = async (file: string, change: (t: string) => string) => writeFile(join(dir, file), change(await readFile(join(dir, file), 'utf8')));
const user = (login: string) => JSON.parse(idplane(dir, ['state', 'show', login, '--format', 'json']).stdout) as { user: { profile: Record<string, string> } };
const NEW_HIRE = '2001,Nia,Long,nia.long@example.com,Engineering,Site Reliability Engineer,Employee,Active,2026-12-07,1003,+1 415 555 0199\n';
const ZOE = { employee_id: '1004', first_name: 'Zoë', last_name: 'Müller', work_email: 'zoe.muller@example.com', department: 'Engineering', title: 'Staff Software Engineer', employment_type: 'Employee', status: 'Active', start_date: '2017-06-05', manager_id: '1003', phone: '+1 415 555 0199' };

beforeAll(async () => {
  // The HR export arrives every day; it is data, not config, so it is not in the repository.
  ({ dir, git, cleanup } = await exampleRepository('quickstart', '.idplane/\n*.plan\ndata/\n'));
}, 60_000);
afterAll(async () => cleanup());

describe('a reviewed change survives to merge', () => {
  it('applies the reviewed artifact at merge: the reviewed effect, and the new hire and a JIT sign-in as data changes', async () => {
    // The pull request: titles in capitals, planned against main and saved as the artifact.
    git('checkout', '-q', '-b', 'upper-titles');
    await edit('idplane.yaml', (t) => t.replace('title: app.title', 'title: app.title.upperAscii()'));
    git('commit', '-qam', 'titles in capitals');
    const pr = idplane(dir, ['plan', '--git-base', 'main', '--out', 'pr.plan']);
    expect(pr.code, pr.stderr).toBe(0);
    expect(pr.stdout).toContain('changes the planned title for 50 users');

    // Before it merges: a new hire in the HR export, and a sign-in that changes Zoë's phone.
    await appendFile(join(dir, 'data/hr.csv'), NEW_HIRE);
    const jit = idplane(dir, ['jit', 'hr'], { input: JSON.stringify(ZOE) });
    expect(jit.code, jit.stderr).toBe(0);
    expect(jit.stdout).toContain('update done');

    // An artifact whose reviewed effect was edited is refused, each part counted, nothing written.
    const lines = zstdDecompressSync(await readFile(join(dir, 'pr.plan'))).toString('utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"login":"amara.okafor@example.com"') && l.startsWith('{"t":"user"'));
    await writeFile(join(dir, 'edited.plan'), zstdCompressSync(lines.map((l, i) => (i === at ? l.replace('CHIEF EXECUTIVE OFFICER', 'CHIEF EXECUTIVE') : l)).join('\n')));
    git('checkout', '-q', 'main');
    git('merge', '-q', '--ff-only', 'upper-titles');
    const edited = idplane(dir, ['apply', 'edited.plan']);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('is not what the config produces now for users whose inputs did not change since it was made: 1 change(s) differ, the first: the update of user amara.okafor@example.com differs at after.profile.title');
    expect(edited.stderr).toContain('Of the rest, 48 change(s) are the reviewed effect; 2 user(s) changed since the review');
    expect(user('amara.okafor@example.com').user.profile.title).toBe('Chief Executive Officer');

    // The merge's apply of the reviewed artifact.
    const merged = idplane(dir, ['apply', 'pr.plan']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain('✓ reviewed effect  49 change(s), exactly as the saved plan shows them');
    expect(merged.stdout).toContain('~ data changes     2 user(s) with 3 change(s) since the review');
    expect(merged.stdout).toContain('      zoe.muller@example.com: their data changed since the review\n');
    expect(merged.stdout).toContain('      nia.long@example.com: not in the reviewed plan\n');
    expect(merged.stdout).toContain('✗ refused          none');
    expect(user('amara.okafor@example.com').user.profile.title).toBe('CHIEF EXECUTIVE OFFICER');
    expect(user('nia.long@example.com').user.profile.title).toBe('SITE RELIABILITY ENGINEER');
    expect(user('zoe.muller@example.com').user.profile).toMatchObject({ title: 'STAFF SOFTWARE ENGINEER', mobilePhone: '+1 415 555 0104' });
    expect(idplane(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });
});
