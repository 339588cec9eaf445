/**
 * The example CI workflows (examples/ci) are copied by users as they are: each parses as YAML, and every
 * idplane command they run exists, with every flag it passes, in the real CLI's --help.
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
