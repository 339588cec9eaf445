/**
 * An earlier idplane to measure beside this one, so that "before" and "after" figures come from the same
 * machine in the same run: the files of a git revision, exported with `git archive` into
 * bench/out/baseline-SHA/ (tracked files only: no worktree to clean up, nothing of the working tree),
 * installed with its own lockfile (`npm ci`, which also builds it), and its CLI entry. A revision
 * prepared before is reused. The runtime is the caller's choice: the baseline may run on another node
 * binary (its own era's Node.js, say) given as `node`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface Baseline {
  /** The revision's full commit id. */
  commit: string;
  /** The node binary that runs it. */
  node: string;
  /** Its CLI entry (cli/bin/idplane.js of that revision). */
  bin: string;
  /** How results name it: the short commit and the Node.js version. */
  label: string;
}

export async function prepareBaseline(repo: string, out: string, ref: string, node = process.execPath): Promise<Baseline> {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: repo, encoding: 'utf8' }).trim();
  const dir = join(out, `baseline-${commit.slice(0, 12)}`);
  const bin = join(dir, 'cli/bin/idplane.js');
  if (!existsSync(join(dir, 'dist/main.js'))) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const archive = spawnSync('sh', ['-c', `git archive --format=tar ${commit} | tar -x -C "${dir}"`], { cwd: repo, encoding: 'utf8' });
    if (archive.status !== 0) throw new Error(`git archive of ${ref} failed: ${archive.stderr}`);
    // npm runs the revision's own build (its prepare script) with the node it runs on: put that first.
    const path = `${join(node, '..')}:${process.env.PATH ?? ''}`;
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: path } });
    if (install.status !== 0 || !existsSync(join(dir, 'dist/main.js'))) throw new Error(`installing ${ref} in ${dir} failed:\n${(install.stderr ?? '').slice(-2000)}`);
  }
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  return { commit, node, bin, label: `${commit.slice(0, 7)}, Node ${version}` };
}
