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

describe('a change to guardrails in plan --git-base', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    repo = await copyExample('quickstart');
  });
  afterAll(async () => repo.cleanup());

  it('is called out first, with what it unblocks, though the planned changes are the same', async () => {
    const d = repo.dir;
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', d, ...args], { encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('add', 'idplane.yaml');
    git('commit', '-qm', 'config');
    expect(idplane(d, ['apply', '--auto-approve']).code).toBe(0);
    const hr = join(d, 'data/hr.csv');
    const lines = (await readFile(hr, 'utf8')).split('\n');
    await writeFile(hr, lines.filter((_, i) => i === 0 || i > 20).join('\n')); // 20 of 50 gone: over the default 20%
    const config = join(d, 'idplane.yaml');
    await writeFile(config, `${await readFile(config, 'utf8')}safeguards: { allowMassChange: true }\nset:\n  - { user: zoe.muller@example.com, roles: [super_admin] }\n`);

    const json = JSON.parse(idplane(d, ['plan', '--git-base', 'main', '--format', 'json']).stdout) as { guardrails: unknown[]; unblocks: string[]; base: { applyable: boolean }; head: { applyable: boolean } };
    expect(json.base.applyable).toBe(false);
    expect(json.head.applyable).toBe(true);
    expect(json.guardrails).toEqual([
      { setting: 'safeguards.allowMassChange', from: null, to: true },
      { setting: 'set: roles', from: [], to: ['super_admin'], login: 'zoe.muller@example.com' },
    ]);
    expect(json.unblocks).toEqual([expect.stringMatching(/deactivateUsers/)]);

    const text = idplane(d, ['plan', '--git-base', 'main']).stdout;
    const top = text.slice(0, text.indexOf('Compared with'));
    expect(top).toContain('! This change touches guardrails:\n    safeguards.allowMassChange: (not set) → true\n    set: roles of zoe.muller@example.com: [] → ["super_admin"]\n  It unblocks what kept the plan at main');
    const markdown = idplane(d, ['plan', '--git-base', 'main', '--format', 'markdown']).stdout;
    expect(markdown).toMatch(/> \[!WARNING\]\n> \*\*This change touches guardrails:\*\*\n> - safeguards\.allowMassChange: \*\(not set\)\* → `true`\n> - set: roles of `?#[0-9a-f]{8}`?: `\[\]` → `\["super_admin"\]`\n>\n> \*\*It unblocks\*\* what kept the plan at `main` from being applied:\n> - /);
    expect(markdown).not.toContain('zoe.muller');
  });
});
