/**
 * plan --git-base REF in real git repositories made here: the config in a subfolder, with an include,
 * a branch that changes a mapping and the included file, and refs that do not exist or do not parse.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, idplane, REPO } from './cli-helpers.ts';

let root: string;
let dir: string;
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8' });
const edit = async (file: string, change: (t: string) => string) => writeFile(join(dir, file), change(await readFile(join(dir, file), 'utf8')));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-git-'));
  dir = join(root, 'infra/idp');
  await mkdir(join(root, 'infra'), { recursive: true });
  await cp(join(REPO, 'examples/quickstart'), dir, { recursive: true, filter: (src) => !src.includes('.idplane') });
  // The declared users move into an included file.
  const config = await readFile(join(dir, 'idplane.yaml'), 'utf8');
  const users = /^users:\n(?: {2}.*\n|\s*\n)*/m.exec(config)![0];
  await writeFile(join(dir, 'idplane.yaml'), config.replace(users, '').replace(/^version: 1\n/m, 'version: 1\ninclude: [people.yaml]\n'));
  await writeFile(join(dir, 'people.yaml'), users);
  await writeFile(join(root, '.gitignore'), '.idplane/\n*.plan\n');
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'idplane config');
  expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);

  git('tag', 'before-break');
  await edit('idplane.yaml', (t) => t.replace('profileSources: [hr]', 'profileSources: [hr'));
  git('commit', '-qam', 'broken config');
  git('tag', 'broken');
  git('revert', '--no-edit', 'HEAD');

  git('checkout', '-q', '-b', 'feature');
  await edit('idplane.yaml', (t) => t.replace('title: app.title', 'title: app.title.upperAscii()'));
  await edit('people.yaml', (t) => `${t}  - login: auditor@example.com\n    roles: [super_admin]\n    profile: { firstName: Audit, lastName: Or, email: auditor@example.com }\n`);
  git('commit', '-qam', 'upper-case titles; an auditor who is a super admin');
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('plan --git-base', () => {
  it('shows what the branch changes against main, attribute by attribute, in JSON, text and Markdown', async () => {
    const json = idplane(dir, ['plan', '--git-base', 'main', '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const delta = JSON.parse(json.stdout);
    expect(delta.format_version).toBe('1');
    expect(delta.base).toMatchObject({ ref: 'main', commit: git('rev-parse', 'main').trim(), applyable: true });
    expect(delta.counts.users).toBe(51);
    expect(delta.attributes).toContainEqual({ kind: 'user', app: null, attribute: 'title', count: 50 });
    expect(delta.actions).toContainEqual({ kind: 'user', app: 'directory', action: 'create', base: 0, head: 1, delta: 1 });
    expect(delta.actions).toContainEqual({ kind: 'user', app: 'hr', action: 'update', base: 0, head: 50, delta: 50 });
    expect(delta.users).toContainEqual({ id: expect.any(String), login: 'auditor@example.com', base: null, head: 'create', attributes: expect.arrayContaining(['email', 'status']) });
    expect(delta.users.find((u: { login: string }) => u.login === 'zoe.muller@example.com')).toMatchObject({ base: null, head: 'update', attributes: ['title'] });
    // The same difference over many users, by value: what the mapping change does.
    expect(delta.groups).toContainEqual({ kind: 'user', app: null, attribute: 'title', base: 'Staff Software Engineer', head: 'STAFF SOFTWARE ENGINEER', count: expect.any(Number), examples: expect.arrayContaining(['zoe.muller@example.com']) });
    expect(delta.groups.reduce((n: number, g: { attribute: string; count: number }) => n + (g.attribute === 'title' ? g.count : 0), 0)).toBe(50);

    const text = idplane(dir, ['plan', '--git-base', 'main', '--detailed-exitcode']);
    expect(text.code).toBe(2);
    expect(text.stdout.split('\n')[0]).toContain("! The working tree's plan gives super_admin to auditor@example.com.");
    expect(text.stdout).toContain("this config plans 51 user(s) (100% of the directory's 51 users) and 0 account(s) differently");
    expect(text.stdout).toContain("adds 50 update of users sourced by hr (0 → 50, 98% of the directory's 51 users)");
    expect(text.stdout).toContain('changes the planned title for 50 users');

    const md = idplane(dir, ['plan', '--git-base', 'main', '--format', 'markdown'], { env: { GITHUB_RUN_ID: '', CI_JOB_URL: '' } });
    expect(md.stdout).toContain(`## idplane plan: what this change does (compared with \`main\` at ${git('rev-parse', 'main').trim().slice(0, 12)}; this change at ${git('rev-parse', 'HEAD').trim().slice(0, 12)})`);
    expect(md.stdout).toContain("This change plans **51 user(s)** (100% of the directory's 51 users) and **0 account(s)** differently");
    expect(md.stdout).not.toContain('CI run');
    const ci = idplane(dir, ['plan', '--git-base', 'main', '--format', 'markdown'], { env: { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/identity', GITHUB_RUN_ID: '42' } });
    expect(ci.stdout.split('\n')[2]).toBe('Made by [this CI run](https://github.com/acme/identity/actions/runs/42).');
    const fromGitlab = JSON.parse(idplane(dir, ['plan', '--git-base', 'main', '--format', 'json'], { env: { CI_JOB_URL: 'https://gitlab.example.com/acme/identity/-/jobs/7' } }).stdout);
    expect(fromGitlab).toMatchObject({ run: 'https://gitlab.example.com/acme/identity/-/jobs/7', directory: 51, head: { commit: git('rev-parse', 'HEAD').trim() } });
    // plan.countBy: the users whose planned action differs, by department (the auditor has none).
    // department is not personal data, so its values show.
    const config = await readFile(join(dir, 'idplane.yaml'), 'utf8');
    await writeFile(join(dir, 'idplane.yaml'), `${config}\nplan: { countBy: department }\n`);
    try {
      const counted = idplane(dir, ['plan', '--git-base', 'main', '--format', 'markdown']);
      expect(counted.stdout).toContain('By **department**, the users whose planned action this change makes different:\n\n- update: `"Engineering"` 16, `"Sales"` 8,');
      expect(counted.stdout).toContain('\n- create: *(none)* 1\n');
    } finally {
      await writeFile(join(dir, 'idplane.yaml'), config);
    }
    expect(md.stdout.split('\n').slice(2, 4)).toEqual(['> [!CAUTION]', expect.stringMatching(/^> \*\*The plan of this change gives super_admin to `#[0-9a-f]{8}`\.\*\*$/)]);
    expect(md.stdout).toContain('- changes the planned title for 50 users');
    // title is not personal data: its values show; the users are tags.
    expect(md.stdout).toContain('- **title**: `"Account Executive"` → `"ACCOUNT EXECUTIVE"`: 3 users (`#');
    expect(md.stdout).not.toContain('zoe.muller');
    expect(md.stdout.length).toBeLessThan(65_536);
  });

  it('is empty against the same commit, and --out saves the working tree\'s plan', () => {
    const same = idplane(dir, ['plan', '--git-base', 'feature', '--detailed-exitcode', '--out', 'pr.plan']);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('No difference.');
    expect(idplane(dir, ['show', 'pr.plan']).stdout).toContain('to update');
  });

  it('names a ref that does not exist, a config that does not parse at the ref, and a folder outside git', async () => {
    const missing = idplane(dir, ['plan', '--git-base', 'no-such-branch']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--git-base no-such-branch: no such commit, branch or tag in the repository at');

    const broken = idplane(dir, ['plan', '--git-base', 'broken']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken:infra\/idp\/idplane\.yaml:\d+:\d+: error: /);
    expect(broken.stderr).toContain('the configuration at --git-base broken (');

    const { dir: outside, cleanup } = await copyExample('quickstart');
    try {
      const r = idplane(outside, ['plan', '--git-base', 'main']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('--git-base main needs the config in a git repository');
    } finally {
      await cleanup();
    }
  });
});
