import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();

describe('idplane history', () => {
  it('records each run with the git commit of the config, and each change per user', async () => {
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'config');
    const head = git('rev-parse', 'HEAD');
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);

    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);

    const all = JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout);
    expect(all.runs).toHaveLength(2);
    expect(all.runs[0]).toMatchObject({ command: 'apply', outcome: 'succeeded', serialBefore: 1, serialAfter: 2, gitCommit: `${head}-dirty` });
    expect(all.runs[1]).toMatchObject({ serialBefore: 0, serialAfter: 1, gitCommit: head });

    const zoe = JSON.parse(idplane(dir, ['history', 'ZOE.MULLER@example.com', '--format', 'json']).stdout);
    expect(zoe.runs).toHaveLength(2);
    expect(zoe.changes.map((c: { action: string }) => c.action)).toEqual(['create', 'link', 'update']);
    expect(zoe.changes[2].attributes).toEqual({ title: { from: 'Staff Software Engineer', to: 'Principal Engineer' } });

    const text = idplane(dir, ['history', 'zoe.muller@example.com']).stdout;
    expect(text).toContain(`git ${head.slice(0, 12)}-dirty`);
    expect(text).toContain('update     user zoe.muller@example.com  title: "Staff Software Engineer" → "Principal Engineer"');
  });

  it('sums each run up by its counts, and lists changes only when asked: LOGIN, --changes, --app, --action', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);

    const summed = idplane(dir, ['history']).stdout.split('\n');
    expect(summed).toHaveLength(6);
    expect(summed[1]).toBe('    users: 1 update; 1 imported record(s)');
    expect(summed[3]).toBe('    users: 51 create; links: 50 link; 50 imported record(s)');
    expect(summed[4]).toBe('(LOGIN, --app, --action or --changes lists the changes one per line)');
    expect(JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout).changes).toEqual([]);

    const all = idplane(dir, ['history', '--changes']).stdout;
    expect(all.split('\n').filter((l) => l.startsWith('    '))).toHaveLength(1 + 51 + 50);
    const updates = idplane(dir, ['history', '--action', 'update']).stdout.split('\n');
    expect(updates.filter((l) => l.startsWith('    '))).toEqual(['    update     user zoe.muller@example.com  title: "Staff Software Engineer" → "Principal Engineer"']);
    const links = JSON.parse(idplane(dir, ['history', '--app', 'hr', '--action', 'link', '--format', 'json']).stdout) as { runs: unknown[]; changes: { kind: string }[] };
    expect(links.runs).toHaveLength(1);
    expect(links.changes).toHaveLength(50);
    expect(links.changes.every((c) => c.kind === 'link')).toBe(true);
    expect(idplane(dir, ['history', '--action', 'suspend']).stdout).toBe('No recorded change of action suspend.\n');
    const bad = idplane(dir, ['history', '--action', 'fire']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--action "fire" is not an action; one of create, update');
  });

  it('has no git commit outside a repository, and says so when nothing was recorded', () => {
    expect(idplane(dir, ['history']).stdout).toContain('No runs recorded yet.');
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    expect(JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout).runs[0].gitCommit).toBeNull();
  });

  it('--since keeps the runs started then or later: a time, or a duration back from now; a bad one is a usage error', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const started = JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout).runs[0].startedAt as string;
    expect(JSON.parse(idplane(dir, ['history', '--since', started, '--format', 'json']).stdout).runs).toHaveLength(1);
    expect(JSON.parse(idplane(dir, ['history', '--since', '1h', '--format', 'json']).stdout).runs).toHaveLength(1);
    const later = new Date(Date.parse(started) + 1).toISOString();
    expect(JSON.parse(idplane(dir, ['history', '--since', later, '--format', 'json']).stdout)).toEqual({ runs: [], changes: [] });
    expect(idplane(dir, ['history', 'zoe.muller@example.com', '--since', later]).stdout).toBe(`No recorded change to zoe.muller@example.com since ${later}.\n`);
    const bad = idplane(dir, ['history', '--since', 'last tuesday', '--format', 'json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr)).toEqual({ error: { code: 'USAGE', message: expect.stringContaining('--since "last tuesday" is neither a date or time') } });
  });
});
