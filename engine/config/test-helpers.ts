/**
 * Test helpers for the config tests: writes config files into a fresh temporary folder, loads (and
 * validates) them with cwd = that folder so problem files read `idplane.yaml` or `inc/apps.yaml`, and
 * removes the folder afterwards.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig, type LoadedConfig, type LoadOutcome } from './load.ts';
import type { ConfigProblem } from './problems.ts';
import { validateConfig, type ValidateOutcome } from './validate.ts';

export type Files = Record<string, string>;
export type Env = Record<string, string | undefined>;

/** Creates a temp folder holding `files` (paths relative to it, sub-folders created), runs `fn`, removes it. */
export async function withConfigDir<T>(files: Files, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'idplane-config-test-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, 'utf8');
    }
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Loads `files` with cwd = the temp folder. */
export function load(files: Files, env: Env = {}): Promise<LoadOutcome> {
  return withConfigDir(files, (dir) => loadConfig(dir, env, dir));
}

/** Loads `files` and expects success. */
export async function loadOk(files: Files, env: Env = {}): Promise<LoadedConfig> {
  const outcome = await load(files, env);
  if (!outcome.ok) throw new Error(`expected the config to load, got:\n${describeProblems(outcome.problems)}`);
  return outcome.config;
}

/** Loads `files` and expects failure; returns the problems. */
export async function loadProblems(files: Files, env: Env = {}): Promise<ConfigProblem[]> {
  const outcome = await load(files, env);
  if (outcome.ok) throw new Error('expected the config not to load');
  return outcome.problems;
}

/** Loads and validates `files` (the load must succeed). */
export async function validate(files: Files, env: Env = {}): Promise<ValidateOutcome> {
  return validateConfig(await loadOk(files, env));
}

/** Loads and validates `files` and expects validation to fail; returns the problems. */
export async function validationProblems(files: Files, env: Env = {}): Promise<ConfigProblem[]> {
  const outcome = await validate(files, env);
  if (outcome.ok) throw new Error('expected the config not to validate');
  return outcome.problems;
}

/** A YAML text from its lines (line n of the file is argument n), ending with a newline. */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

export function describeProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.pointer} ${p.message}`).join('\n');
}

/** The problem whose pointer is `pointer` (exactly one must exist). */
export function problemAt(problems: ConfigProblem[], pointer: string): ConfigProblem {
  const found = problems.filter((p) => p.pointer === pointer);
  if (found.length !== 1) throw new Error(`expected exactly one problem at ${JSON.stringify(pointer)}, got ${found.length}:\n${describeProblems(problems)}`);
  return found[0]!;
}

/**
 * A valid minimal config. Line numbers (1-based) matter to the tests:
 *  1 version: 1
 *  2 directory:
 *  3   attributes:
 *  4     login: { type: string, required: true }
 *  5     email: { type: string }
 *  6     firstName: { type: string }
 *  7 apps:
 *  8   hr:
 *  9     provider: csv
 * 10     connection: { path: hr.csv }
 * 11     key: employee_id
 * 12     import:
 * 13       match:
 * 14         - { app: work_email, user: email }
 * 15       mappings:
 * 16         login: app.work_email
 * 17         email: app.work_email
 * 18         firstName: app.first_name
 */
export const MINIMAL = `version: 1
directory:
  attributes:
    login: { type: string, required: true }
    email: { type: string }
    firstName: { type: string }
apps:
  hr:
    provider: csv
    connection: { path: hr.csv }
    key: employee_id
    import:
      match:
        - { app: work_email, user: email }
      mappings:
        login: app.work_email
        email: app.work_email
        firstName: app.first_name
`;
