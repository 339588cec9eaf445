import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
let commit: string;
beforeAll(async () => {
  ({ dir, cleanup } = await copyExample('quickstart'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  await writeFile(join(dir, '.gitignore'), '.idplane/\n');
  git('add', '.');
  git('commit', '-qm', 'config');
  commit = git('rev-parse', 'HEAD').trim();
  expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
  const hr = join(dir, 'data/hr.csv');
  await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
});
afterAll(async () => cleanup());

describe('idplane explain', () => {
  it('gives each value with its app, account, mapping and inputs, the source and why, and the run that set it', () => {
    const r = idplane(dir, ['explain', 'Zoe.Muller@example.com', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.source).toEqual({ app: 'hr', why: 'the only profile source with a linked account (profileSources [hr])', priority: ['hr'] });
    expect(e.accounts).toEqual([{ app: 'hr', key: '1004', how: 'linked (stored)' }]);
    const title = e.attributes.find((a: { name: string }) => a.name === 'title');
    expect(title).toMatchObject({ value: 'Principal Engineer', stored: 'Staff Software Engineer', from: 'mapping', app: 'hr', key: '1004', expression: 'app.title', inputs: { title: 'Principal Engineer' } });
    expect(title.lastChanged).toMatchObject({ command: 'apply', gitCommit: commit });
    const display = e.attributes.find((a: { name: string }) => a.name === 'displayName');
    expect(display.inputs).toEqual({ first_name: 'Zoë', last_name: 'Müller' });
    expect(e.attributes.find((a: { name: string }) => a.name === 'nickname')).toMatchObject({ from: 'directory', value: null, lastChanged: null });
    expect(e.change).toMatchObject({ action: 'update', attributes: { title: { from: 'Staff Software Engineer', to: 'Principal Engineer' } } });

    const text = idplane(dir, ['explain', 'zoe.muller@example.com', 'title']);
    expect(text.stdout).toContain('title: "Staff Software Engineer" → "Principal Engineer" at the next apply');
    expect(text.stdout).toContain('from hr account 1004, mapping app.title, reading app.title = "Principal Engineer"');
    expect(text.stdout).toContain(`config git ${commit.slice(0, 12)}`);
    expect(text.stdout).not.toContain('displayName');
  });

  it('explains a declared user and a lifecycle rule', async () => {
    const declared = JSON.parse(idplane(dir, ['explain', 'breakglass@example.com', '--format', 'json']).stdout);
    expect(declared.source.why).toBe('declared in users: in the config');
    const hr = join(dir, 'data/hr.csv');
    const before = await readFile(hr, 'utf8');
    const row = before.split('\n').find((l) => l.startsWith('1004,'))!;
    await writeFile(hr, before.replace(row, row.replace(',Active,', ',Terminated,')));
    try {
      const e = JSON.parse(idplane(dir, ['explain', 'zoe.muller@example.com', 'status', '--format', 'json']).stdout);
      expect(e.status).toMatchObject({ now: 'ACTIVE', next: 'DEPROVISIONED', rule: 'account is disabled at the source (deactivate)' });
    } finally {
      await writeFile(hr, before);
    }
  });

  it('names an unknown login and an unknown attribute', () => {
    const login = idplane(dir, ['explain', 'nobody@example.com']);
    expect(login.code).toBe(1);
    expect(login.stderr).toContain('no user nobody@example.com in the directory');
    const attr = idplane(dir, ['explain', 'zoe.muller@example.com', 'titel']);
    expect(attr.code).toBe(1);
    expect(attr.stderr).toContain('titel is not a directory attribute; did you mean title?');
  });
});
