/**
 * Fault injection against the real binary: an apply of a few thousand users into two CSV targets is
 * SIGKILLed at the points that matter (inside the state write, between directory and targets, between
 * the two targets; on the embedded store also inside the backup taken before the write), then run
 * again; so is a JIT sign-in, at each point it passes. The final directory and target files must equal
 * those of an uninterrupted run, with no duplicate accounts. Also: two applies at once, one wins, one
 * fails fast.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idplane, REPO } from './cli-helpers.ts';
import { copyHrExport } from './fixtures.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

const USERS = 3000;
/** Users of the large plan the apply is killed in. */
const LARGE = 40_000;
const CONFIG = `version: 1
directory:
  attributes:
    login: { required: true, unique: true }
    email: { unique: true }
    employeeNumber: { unique: true }
    firstName: {}
    lastName: {}
    title: {}
profileSources: [hr]
apps:
  hr:
    provider: csv
    connection: { path: data/hr.csv }
    key: employee_id
    import:
      newUserStatus: ACTIVE
      disabled: 'app.status == "Terminated"'
      mappings:
        login: app.work_email
        email: app.work_email
        employeeNumber: app.employee_id
        firstName: app.first_name
        lastName: app.last_name
        title: app.title
  crm:
    provider: csv
    connection: { path: data/crm.csv }
    key: Username
    provision:
      mappings: { Username: user.email, FirstName: user.firstName, LastName: user.lastName, Title: user.title }
  chat:
    provider: csv
    connection: { path: data/chat.csv }
    key: handle
    provision:
      mappings: { handle: user.login, name: 'user.firstName + " " + user.lastName' }
`;

let root: string;
const schemas: string[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-crash-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  for (const s of schemas) await dropSchema(s);
});

type Backend = 'embedded' | 'postgres';

async function project(name: string, backend: Backend, users = USERS): Promise<string> {
  const dir = join(root, `${backend}-${name}`);
  await mkdir(join(dir, 'data'), { recursive: true });
  let state = '';
  if (backend === 'postgres') {
    const schema = freshSchema();
    schemas.push(schema);
    state = `state: { backend: postgres, url: "\${env:IDPLANE_STATE_URL}", schema: ${schema} }\n`;
  }
  await writeFile(join(dir, 'idplane.yaml'), CONFIG + state);
  await copyHrExport(users, join(dir, 'data/hr.csv'));
  return dir;
}

/** Runs the CLI and SIGKILLs it after `ms` if it is still running then: how it ended. */
function killedAfter(dir: string, args: string[], ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(REPO, 'cli/bin/idplane.js'), '-C', dir, ...args], { env: { ...process.env, ...ENV, NO_COLOR: '1' }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal });
    });
  });
}

const ENV = { IDPLANE_STATE_URL: POSTGRES_URL };
const run = (dir: string, args: string[]) => idplane(dir, args, { env: ENV });

/** The outcome a run leaves: the directory as `state list` sees it, and both target files' rows. */
async function outcome(dir: string) {
  const users = JSON.parse(run(dir, ['state', 'list', '--format', 'json']).stdout).users;
  const rows = async (file: string) => (await readFile(join(dir, 'data', file), 'utf8')).trim().split('\n');
  return { users, crm: (await rows('crm.csv')).sort(), chat: (await rows('chat.csv')).sort() };
}

function crashAt(dir: string, point: string, args = ['apply', '--auto-approve'], input = '') {
  const r = spawnSync(process.execPath, [join(REPO, 'cli/bin/idplane.js'), '-C', dir, ...args], {
    env: { ...process.env, ...ENV, IDPLANE_CRASH_AT: point, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024, input,
  });
  return r.signal;
}

/** One new employee signing in: the HR account a JIT request carries. */
const NEWCOMER = JSON.stringify({
  employee_id: '990001', first_name: 'Nia', last_name: 'Long', work_email: 'nia.long@example.com', department: 'Engineering',
  title: 'Engineer', employment_type: 'Employee', status: 'Active', start_date: '2026-12-01', manager_id: '', phone: '',
});

function applyAsync(dir: string, env: Record<string, string> = {}, onStderr?: (text: string, pid: number) => void) {
  return new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn(process.execPath, [join(REPO, 'cli/bin/idplane.js'), '-C', dir, 'apply', '--auto-approve'], { env: { ...process.env, ...ENV, NO_COLOR: '1', ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, child.pid!);
    });
    child.stdout.resume();
    child.on('close', (code) => done({ code, stderr }));
  });
}

function crashSuite(backend: Backend) {
  describe(`${backend}: an apply killed with SIGKILL converges on the next run`, () => {
    let reference: Awaited<ReturnType<typeof outcome>>;
    beforeAll(async () => {
      const dir = await project('reference', backend);
      expect(run(dir, ['apply', '--auto-approve']).code).toBe(0);
      reference = await outcome(dir);
      expect(reference.users).toHaveLength(USERS);
      // Header plus one account per ACTIVE user: terminated employees get none.
      const active = reference.users.filter((u: { status: string }) => u.status === 'ACTIVE').length;
      expect(reference.crm).toHaveLength(active + 1);
      expect(reference.chat).toHaveLength(active + 1);
    });

    for (const point of [...(backend === 'embedded' ? ['backup'] : []), 'state-write', 'after-directory', 'mid-target']) {
      it(`killed at ${point}`, async () => {
        const dir = await project(point, backend);
        if (point === 'backup') {
          // A backup is taken of a state there is: first an apply of half the people, then of all.
          const hr = join(dir, 'data/hr.csv');
          const full = await readFile(hr, 'utf8');
          const lines = full.split('\n');
          await writeFile(hr, lines.slice(0, USERS / 2 + 1).join('\n') + '\n');
          expect(run(dir, ['apply', '--auto-approve']).code).toBe(0);
          await writeFile(hr, full);
        }
        expect(crashAt(dir, point)).toBe('SIGKILL');
        const rerun = run(dir, ['apply', '--auto-approve']);
        expect(rerun.code, rerun.stderr).toBe(0);
        if (backend === 'embedded') expect(rerun.stderr).toMatch(/taking over the lock .* no longer running/);
        expect(run(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
        const after = await outcome(dir);
        expect(after.users).toEqual(reference.users);
        expect(after.crm).toEqual(reference.crm);
        expect(after.chat).toEqual(reference.chat);
        expect(new Set(after.crm.map((r) => r.split(',')[0])).size).toBe(after.crm.length);
      });
    }

    it('a large saved plan, its apply killed at several moments, converges with nothing lost and no duplicate', async () => {
      const large = await project('large', backend, LARGE);
      const reference = await project('large-reference', backend, LARGE);
      const started = Date.now();
      expect(run(reference, ['apply', '--auto-approve']).code).toBe(0);
      const took = Date.now() - started;
      const expected = await outcome(reference);
      expect(expected.users).toHaveLength(LARGE);

      const planFile = join(large, 'large.plan');
      expect(run(large, ['plan', '--out', planFile]).code).toBe(0);
      // Killed ever later, from reading the plan to writing the state and the targets, until a run
      // finishes by itself; each run starts from what the one before left (the saved plan first).
      let kills = 0;
      for (let delay = took * 0.25, attempt = 0; attempt < 8; attempt++, delay *= 1.5) {
        const exit = await killedAfter(large, attempt === 0 ? ['apply', planFile] : ['apply', '--auto-approve'], Math.round(delay));
        if (exit.signal !== 'SIGKILL') {
          expect(exit.code).toBe(0);
          break;
        }
        kills += 1;
      }
      expect(kills).toBeGreaterThanOrEqual(2);
      const last = run(large, ['apply', '--auto-approve']);
      expect(last.code, last.stderr).toBe(0);
      expect(run(large, ['plan', '--detailed-exitcode']).code).toBe(0);
      const after = await outcome(large);
      expect(after.users).toEqual(expected.users);
      expect(after.crm).toEqual(expected.crm);
      expect(after.chat).toEqual(expected.chat);
      expect(new Set(after.crm.map((r) => r.split(',')[0])).size).toBe(after.crm.length);
      expect(new Set(after.chat.map((r) => r.split(',')[0])).size).toBe(after.chat.length);
    }, 180_000);

    describe('a JIT sign-in killed with SIGKILL converges on the next one', () => {
      const USERS_JIT = 300;
      let expected: Awaited<ReturnType<typeof outcome>>;
      /** What is left for the next apply: the newcomer's target accounts. */
      let rest: unknown;
      const restOf = (dir: string) => JSON.parse(run(dir, ['plan', '--format', 'json']).stdout).summary;
      beforeAll(async () => {
        const dir = await project('jit-reference', backend, USERS_JIT);
        expect(run(dir, ['apply', '--auto-approve']).code).toBe(0);
        const jit = idplane(dir, ['jit', 'hr'], { env: ENV, input: NEWCOMER });
        expect(jit.code, jit.stderr).toBe(0);
        expected = await outcome(dir);
        rest = restOf(dir);
        expect(expected.users).toHaveLength(USERS_JIT + 1);
        expect(expected.users.filter((u: { login: string }) => u.login === 'nia.long@example.com')).toHaveLength(1);
      });

      // JIT writes the directory; the targets get the newcomer from the next apply.
      for (const point of ['state-write', 'after-directory']) {
        it(`killed at ${point}`, async () => {
          const dir = await project(`jit-${point}`, backend, USERS_JIT);
          expect(run(dir, ['apply', '--auto-approve']).code).toBe(0);
          expect(crashAt(dir, point, ['jit', 'hr'], NEWCOMER)).toBe('SIGKILL');
          const again = idplane(dir, ['jit', 'hr'], { env: ENV, input: NEWCOMER });
          expect(again.code, again.stderr).toBe(0);
          const after = await outcome(dir);
          expect(after.users).toEqual(expected.users);
          expect(after.crm).toEqual(expected.crm);
          expect(after.chat).toEqual(expected.chat);
          expect(restOf(dir)).toEqual(rest);
        });
      }
    });

    it('two applies at once: one wins, the other fails fast naming the holder, and the state is intact', async () => {
      const dir = await project('concurrent', backend);
      const results = await Promise.all([applyAsync(dir), applyAsync(dir)]);
      expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
      const loser = results.find((r) => r.code === 1)!;
      expect(loser.stderr).toMatch(/locked by .*@.* for apply since .* lock id /);
      expect(run(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
      expect(JSON.parse(run(dir, ['state', 'list', '--format', 'json']).stdout).users).toHaveLength(USERS);
    });
  });
}

crashSuite('embedded');
describePostgres('postgres', () => {
  crashSuite('postgres');

  // after-lock: the lock's own connection held, no query in flight; after-directory: between queries;
  // state-write: inside the write's transaction, on a checked-out pooled connection (whose 'error' event
  // once crashed the process with a raw stack trace).
  it.each(['after-lock', 'after-directory', 'state-write'])('a connection killed mid-apply (at %s) fails clearly, and a re-run converges', async (point) => {
    const dir = await project(`connection-loss-${point}`, 'postgres');
    let killed = false;
    const result = await applyAsync(dir, { IDPLANE_PAUSE_AT: point }, (stderr, pid) => {
      if (killed || !stderr.includes(`paused at ${point}`)) return;
      killed = true;
      // Only that run's connections (its application_name carries its pid): other tests' runs go on.
      // Once they are cut, the run goes on (and finds them gone).
      void adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'idplane ${pid}'`).then(() => process.kill(pid, 'SIGUSR2'));
    });
    expect(killed).toBe(true);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PostgreSQL|connection/i);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain('Internal error');
    const rerun = run(dir, ['apply', '--auto-approve']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(run(dir, ['plan', '--detailed-exitcode']).code).toBe(0);
  });
});
