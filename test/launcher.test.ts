/**
 * The launcher (cli/bin/idplane.js): it runs the compiled CLI in dist/ (built by the global setup), and
 * without a build it says how to make one instead of failing with a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idplane, REPO } from './cli-helpers.ts';

describe('the launcher', () => {
  it('runs the build: --version is the version in package.json', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = idplane(REPO, ['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  describe('in a checkout that was never built', () => {
    let root: string;
    const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'cli/bin/idplane.js'), ...args], { encoding: 'utf8' });

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'idplane-unbuilt-'));
      await cp(join(REPO, 'cli/bin'), join(root, 'cli/bin'), { recursive: true });
    });
    afterAll(() => rm(root, { recursive: true, force: true }));

    it('says to run npm run build, without a stack trace', () => {
      const r = run('plan');
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`Error: idplane is not built: run \`npm run build\` in ${root}/ (npm ci builds it too)\n`);
    });

    it('says it as a JSON error with --format json', () => {
      const r = run('plan', '--format', 'json');
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'NOT_BUILT', message: `idplane is not built: run \`npm run build\` in ${root}/ (npm ci builds it too)` } });
    });
  });
});
