/**
 * --user, --app and --action through the real CLI: on plan (text and JSON), on show of a saved plan
 * (which keeps everything), on the delta of plan --git-base, and a refused action.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterAll(async () => cleanup());

interface PlanJson {
  users: { login: string; action: string }[];
  links: { login: string }[];
  summary: { users: { create: number } };
}

describe('narrowing what a plan shows', () => {
  it('shows one user, one app or one action in text and JSON; the saved plan keeps everything', async () => {
    const text = idplane(dir, ['plan', '--user', 'Zoe.Muller@example.com', '--out', 'all.plan']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("Showing only the changes of user Zoe.Muller@example.com; the counts are the whole plan's.");
    expect(text.stdout.split('\n').filter((l) => /^ {2}\+ (user|link) /.test(l))).toEqual(['  + user zoe.muller@example.com (create, ACTIVE)', expect.stringMatching(/^ {2}\+ link hr\/1004 /)]);
    expect(text.stdout).toContain('Plan: 51 to create');
    const saved = JSON.parse(idplane(dir, ['show', 'all.plan', '--format', 'json']).stdout) as PlanJson;
    expect(saved.users).toHaveLength(51);

    const directory = JSON.parse(idplane(dir, ['show', 'all.plan', '--app', 'directory', '--format', 'json']).stdout) as PlanJson;
    expect(directory.users.map((u) => u.login)).toEqual(['breakglass@example.com']);
    expect(directory.links).toEqual([]);
    expect(directory.summary.users.create).toBe(51);
    const creates = JSON.parse(idplane(dir, ['plan', '--action', 'create', '--app', 'hr', '--format', 'json']).stdout) as PlanJson;
    expect(creates.users).toHaveLength(50);

    const bad = idplane(dir, ['plan', '--action', 'fire']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--action "fire" is not an action; one of create, update');
    expect(idplane(dir, ['plan', '--limit', '-1']).stderr).toContain('--limit must be a whole number (0: no limit)');
  });

  it('narrows the delta of plan --git-base to one user or action', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', dir, ...args], { encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('add', 'idplane.yaml', 'data');
    git('commit', '-qm', 'config');
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('title: app.title', 'title: app.title.upperAscii()'));
    const all = JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--format', 'json']).stdout) as { users: { login: string }[]; counts: { users: number } };
    expect(all.users.length).toBe(50);
    const zoe = JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--user', 'zoe.muller@example.com', '--format', 'json']).stdout) as typeof all;
    expect(zoe.users.map((u) => u.login)).toEqual(['zoe.muller@example.com']);
    expect(zoe.counts.users).toBe(50);
    const text = idplane(dir, ['plan', '--git-base', 'main', '--action', 'deactivate']).stdout;
    expect(text).not.toMatch(/^ {2}\S+@example\.com: /m);
  });
});
