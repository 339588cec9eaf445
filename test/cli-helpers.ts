/**
 * Runs the real idplane binary in a child process, the way users and CI do, against a copy of an example
 * in a temporary folder.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'cli/bin/idplane.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function idplane(dir: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): RunResult {
  const result = spawnSync(process.execPath, [BIN, '-C', dir, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Copies examples/NAME (without any state) into a fresh temp folder. */
export async function copyExample(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'idplane-test-'));
  const dir = join(root, name);
  await cp(join(REPO, 'examples', name), dir, { recursive: true, filter: (src) => !src.includes('.idplane') });
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** git in `cwd`, as the tests' own author (no signing): its output. */
export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

/**
 * Where the pull-request tests start: an example's config committed on `main` of a new git repository in
 * a temporary folder (`ignore` its .gitignore), and applied once.
 */
export async function exampleRepository(name: string, ignore: string): Promise<{ dir: string; git: (...args: string[]) => string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `idplane-${name}-`));
  await cp(join(REPO, 'examples', name), dir, { recursive: true, filter: (src) => !src.includes('.idplane') });
  await writeFile(join(dir, '.gitignore'), ignore);
  const git = (...args: string[]) => gitIn(dir, ...args);
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-qm', 'idplane config');
  const applied = idplane(dir, ['apply', '--auto-approve']);
  if (applied.code !== 0) throw new Error(`the first apply of examples/${name} failed: ${applied.stderr}`);
  return { dir, git, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Like idplane(), without blocking this process: for tests whose servers run in the test process.
 * `discardStdout`: for runs that print more than a string holds (the text plan of a million users).
 * `onStderr` sees the whole stderr so far each time more arrives, with the child (to act at a pause
 * point, then resume it with SIGUSR2).
 */
export function idplaneAsync(dir: string, args: string[], options: { input?: string; env?: Record<string, string>; discardStdout?: boolean; onStderr?: (stderr: string, child: ChildProcess) => void } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '-C', dir, ...args], { env: { ...process.env, NO_COLOR: '1', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (options.discardStdout ? undefined : (stdout += d)));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
