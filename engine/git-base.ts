/**
 * `plan --git-base REF`: the config as it is at a git commit, for the plan delta of a pull request. The
 * config files (idplane.yaml and its includes) are read from the commit with simple-git (`git show
 * COMMIT:path`), never checked out, so the working tree is untouched; relative data paths still resolve
 * against the config's folder, so both plans read the same source snapshots. Problems in the config at
 * REF are named REF:path:line:col.
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { UsageError } from './errors.ts';
import { loadProject, type Workspace } from './workspace.ts';

export interface BaseConfig {
  ws: Omit<Workspace, 'store'>;
  ref: string;
  /** The commit REF names (full hash). */
  commit: string;
  /** The commit the working tree is at (HEAD), or null in a repository without one. */
  head: string | null;
  /** The repository's top folder. */
  root: string;
}

export async function loadBaseConfig(dir: string, ref: string, env: Record<string, string | undefined>): Promise<BaseConfig> {
  const { simpleGit } = await import('simple-git');
  const git: SimpleGit = simpleGit({ baseDir: dir, timeout: { block: 20_000 } });
  let root: string;
  try {
    root = (await git.revparse(['--show-toplevel'])).trim();
  } catch {
    throw new UsageError(`--git-base ${ref} needs the config in a git repository, and ${dir} is not in one (or git is not installed)`);
  }
  let commit: string;
  try {
    commit = (await git.revparse(['--verify', '--quiet', `${ref}^{commit}`])).trim();
  } catch {
    commit = '';
  }
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new UsageError(`--git-base ${ref}: no such commit, branch or tag in the repository at ${root}`);
  const head = (await git.revparse(['--verify', '--quiet', 'HEAD^{commit}']).catch(() => '')).trim();
  const inRepo = (path: string) => {
    const rel = relative(root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) throw Object.assign(new Error(`${path} is outside the repository at ${root}`), { code: 'EOUTSIDE' });
    return rel.split(sep).join('/');
  };
  const files = {
    read: async (path: string) => {
      const rel = inRepo(path);
      try {
        return await git.show([`${commit}:${rel}`]);
      } catch {
        throw Object.assign(new Error('file not found'), { code: 'ENOENT' });
      }
    },
    display: (path: string) => {
      try {
        return `${ref}:${inRepo(path)}`;
      } catch {
        return `${ref}:${path}`;
      }
    },
    failure: `the configuration at --git-base ${ref} (${commit.slice(0, 12)}) has errors; the delta compares it with the working tree's`,
  };
  const ws = await loadProject(dir, env, files);
  return { ws, ref, commit, head: /^[0-9a-f]{40,64}$/.test(head) ? head : null, root };
}
