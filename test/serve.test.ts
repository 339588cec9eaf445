/**
 * `idplane serve` end to end: the real CLI as a long-running child process, driven with real HTTP(S)
 * requests: JIT (secret and mTLS), scheduled imports, /healthz, /metrics, the state lock shared with a
 * CI apply, and a graceful SIGTERM in the middle of a run.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../state/embedded/store.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';
import { copyExample, idplane, idplaneAsync, REPO } from './cli-helpers.ts';

const BIN = join(REPO, 'cli/bin/idplane.js');
const SECRET = 'jit-secret-0123456789-abcdefghij-XYZ';
// The configs read it; every idplane run of this file (serve, apply, state list) needs it.
process.env.JIT_SECRET = SECRET;

interface Serving {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const running: Serving[] = [];

async function serve(dir: string, env: Record<string, string> = {}): Promise<Serving> {
  const proc = spawn(process.execPath, [BIN, '-C', dir, 'serve', '--listen', '127.0.0.1:0'], { env: { ...process.env, NO_COLOR: '1', JIT_SECRET: SECRET, ...env } });
  let stderr = '';
  let stdout = '';
  const waiters: (() => void)[] = [];
  const exited = new Promise<number>((resolve) => proc.on('close', (code) => resolve(code ?? -1)));
  proc.stderr.on('data', (d) => {
    stderr += d;
    for (const w of waiters.splice(0)) w();
  });
  proc.stdout.on('data', (d) => (stdout += d));
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) => new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in the server's log:\n${stderr}${stdout}`)), timeoutMs);
    const check = () => {
      const m = stderr.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      } else waiters.push(check);
    };
    check();
    exited.then(() => setTimeout(() => { if (!stderr.match(pattern)) { clearTimeout(timer); reject(new Error(`the server exited; its log:\n${stderr}`)); } }, 50));
  });
  const url = (await waitFor(/listening on (http\S+?);?\s/))[1]!;
  const s: Serving = {
    url, proc, log: () => stderr, waitFor,
    stop: (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
  running.push(s);
  return s;
}

/** A JSON answer of serve: the fields the tests read. */
type Answer = { status: number; body: { error?: { code: string; message: string }; [field: string]: unknown }; headers: Headers };

/**
 * `idplane apply --auto-approve` that pauses at `point` while it holds the state lock, until resume()
 * (after-lock: before it reads the state or any input; after-directory: after its directory write).
 */
function pausedApply(point: 'after-lock' | 'after-directory', env: Record<string, string> = {}): { paused: Promise<void>; resume: () => void; done: Promise<number> } {
  const proc = spawn(process.execPath, [BIN, '-C', dir, 'apply', '--auto-approve', '--lock-timeout', '20s'], { env: { ...process.env, NO_COLOR: '1', ...env, IDPLANE_PAUSE_AT: point } });
  let stderr = '';
  const paused = new Promise<void>((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes(`paused at ${point}`)) resolve();
    });
    proc.on('close', () => reject(new Error(`apply ended without pausing: ${stderr}`)));
  });
  paused.catch(() => {});
  proc.stdout.resume();
  return { paused, resume: () => proc.kill('SIGUSR2'), done: new Promise((resolve) => proc.on('close', (code) => resolve(code ?? -1))) };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}`, ...headers }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** The value of one series in a Prometheus text exposition. */
function series(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const parts = inside.split(',');
    if (want.every((w) => parts.includes(w)) && parts.length === want.length) return Number(line.slice(line.indexOf('}') + 1).trim());
  }
  return undefined;
}

const zoe = { employee_id: '1004', first_name: 'Zoë', last_name: 'Müller', work_email: 'zoe.muller@example.com', department: 'Engineering', title: 'Staff Software Engineer', employment_type: 'Employee', status: 'Active', start_date: '2017-06-05', manager_id: '1003', phone: '+1 415 555 0104' };
const nia = { ...zoe, employee_id: '2001', first_name: 'Nia', last_name: 'Long', work_email: 'nia.long@example.com' };

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await copyExample('quickstart'));
});

afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
  await cleanup();
});

async function configure(serveYaml: string, schedule?: string): Promise<void> {
  const path = join(dir, 'idplane.yaml');
  let text = await readFile(path, 'utf8');
  if (schedule) text = text.replace(/^ {4}key: employee_id$/m, `    key: employee_id\n    schedule: "${schedule}"`);
  await writeFile(path, `${text}\n${serveYaml}`);
}

async function users(): Promise<{ login: string; status: string }[]> {
  const r = await idplaneAsync(dir, ['state', 'list', '--format', 'json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).users;
}

describe('idplane serve: JIT', () => {
  beforeEach(async () => {
    await configure('serve:\n  jit: { secret: "${env:JIT_SECRET}" }\n  lockTimeout: 1s\n');
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
  });

  it('creates, updates and leaves alone users through POST /jit/APP, as idplane jit does', async () => {
    const s = await serve(dir);
    const created = await post(`${s.url}/jit/hr`, nia);
    expect(created).toMatchObject({ status: 201, body: { app: 'hr', key: '2001', action: 'create', login: 'nia.long@example.com', status: 'ACTIVE' } });
    const updated = await post(`${s.url}/jit/hr`, { ...zoe, title: 'CTO' });
    expect(updated).toMatchObject({ status: 200, body: { action: 'update', login: 'zoe.muller@example.com' } });
    const again = await post(`${s.url}/jit/hr`, { ...zoe, title: 'CTO' });
    expect(again).toMatchObject({ status: 200, body: { action: 'none' } });

    const list = await users();
    expect(list).toHaveLength(52);
    expect(list.filter((u) => u.login === 'zoe.muller@example.com')).toHaveLength(1);
    const show = JSON.parse((await idplaneAsync(dir, ['state', 'show', 'zoe.muller@example.com', '--format', 'json'])).stdout);
    expect(show.user.profile.title).toBe('CTO');
    const history = await idplaneAsync(dir, ['history', '--format', 'json']);
    expect(JSON.parse(history.stdout).runs.filter((r: { command: string }) => r.command === 'serve jit')).toHaveLength(2);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'applied' })).toBe(2);
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'unchanged' })).toBe(1);
    expect(series(metrics, 'idplane_changes_total', { app: 'hr', kind: 'jit', type: 'user' })).toBe(2);
    expect(series(metrics, 'idplane_run_duration_seconds_count', { app: 'hr', kind: 'jit' })).toBe(3);
    expect(metrics).toContain('# TYPE idplane_runs_total counter');

    expect(await s.stop()).toBe(0);
    // The log names apps and outcomes, never a person or the secret.
    expect(s.log()).toMatch(/jit hr: applied \(1 user change\(s\)/);
    for (const secretOrPerson of [SECRET, 'nia.long', 'zoe.muller', 'Müller', '2001']) expect(s.log()).not.toContain(secretOrPerson);
  });

  it('keeps only the attributes the import reads: made-up names are dropped and counted, never stored as columns', async () => {
    const s = await serve(dir);
    const junk = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`made_up_${i}`, 'x']));
    const created = await post(`${s.url}/jit/hr`, { ...nia, ...junk });
    expect(created).toMatchObject({ status: 201, body: { action: 'create', login: 'nia.long@example.com' } });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(series(metrics, 'idplane_jit_ignored_attributes_total', { app: 'hr' })).toBe(300);
    expect(await s.stop()).toBe(0);
    const store = new EmbeddedStore({ dir: join(dir, '.idplane') });
    try {
      const columns = (await store.read()).imported.get('hr')!.columns;
      expect(columns.filter((c) => c.startsWith('made_up_'))).toEqual([]);
      expect(columns).toContain('employee_id');
    } finally {
      await store.close();
    }
  });

  it('refuses what is not an authenticated JIT account, with a status and a reason, and changes nothing', async () => {
    const s = await serve(dir);
    const cases: [Promise<Answer>, number, RegExp][] = [
      [post(`${s.url}/jit/hr`, nia, { authorization: '' }), 401, /need Authorization: Bearer/],
      [post(`${s.url}/jit/hr`, nia, { authorization: `Bearer ${SECRET}x` }), 401, /not the JIT secret/],
      [post(`${s.url}/jit/hr`, '{"employee_id": "2001",'), 400, /^hr: the body is not JSON/],
      [post(`${s.url}/jit/hr`, '["a"]'), 400, /must be one JSON object/],
      [post(`${s.url}/jit/hr`, { first_name: 'X' }), 400, /no value for its key attribute "employee_id"/],
      [post(`${s.url}/jit/hr`, { ...nia, manager: { id: 1 } }), 400, /attribute "manager" must be a string/],
      // Refused alone, before it could join (and fail) a batch of good sign-ins, on either state backend.
      [post(`${s.url}/jit/hr`, { ...nia, title: 'Data\u0000Engineer' }), 400, /attribute "title" holds a NUL character \(U\+0000\)/],
      // JSON's \ud800 escape alone: half a character, which PostgreSQL refuses (failing the batch) too.
      [post(`${s.url}/jit/hr`, '{"employee_id":"2001","first_name":"Ni\\ud800a"}'), 400, /attribute "first_name" holds half of a UTF-16 surrogate pair/],
      // What a latin-1 encoder sends for "Wójcik": taken leniently it would be stored as "W\uFFFDjcik".
      [post(`${s.url}/jit/hr`, Buffer.from(JSON.stringify({ ...nia, last_name: 'Wójcik' }), 'latin1')), 400, /the body is not UTF-8 text/],
      [post(`${s.url}/jit/workday`, nia), 404, /workday takes no JIT requests \(JIT apps: hr\)/],
      [post(`${s.url}/jit/workday`, nia, { authorization: '' }), 401, /need Authorization: Bearer/], // which apps take JIT is no stranger's business
      [post(`${s.url}/jit/hr`, 'employee_id=2001', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /Content-Type: application\/json/],
      [post(`${s.url}/jit/hr`, { ...nia, padding: 'x'.repeat(70_000) }), 413, /64|65536/],
      [post(`${s.url}/nope`, nia), 404, /no such endpoint: \/nope/],
      [post(`${s.url}/jit/%E0%A4%A`, nia), 404, /no such endpoint/], // a % sequence that does not decode
    ];
    for (const [pending, status, message] of cases) {
      const r = await pending;
      expect({ status: r.status, message: r.body?.error?.message }).toMatchObject({ status, message: expect.stringMatching(message) });
    }
    const get = await fetch(`${s.url}/jit/hr`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await users()).toHaveLength(51);
    expect(s.log()).not.toContain(SECRET);
    expect(s.log()).toMatch(/http: 401 POST \/jit\/hr from 127\.0\.0\.1: the bearer token is not the JIT secret/);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(series(metrics, 'idplane_http_requests_total', { route: '/jit/hr', status: '401' })).toBe(2);
    expect(series(metrics, 'idplane_http_requests_total', { route: 'other', status: '401' })).toBe(1);
    expect(series(metrics, 'idplane_http_requests_total', { route: 'other', status: '404' })).toBe(3);
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'applied' })).toBe(0);
  });

  it('answers 409 for an account that would need review, and creates nobody', async () => {
    const s = await serve(dir);
    // Same e-mail as an existing user, another employee id: the match rules find two candidates' worth of disagreement.
    const r = await post(`${s.url}/jit/hr`, { ...nia, employee_id: '2002', work_email: 'zoe.muller@example.com' });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toMatch(/^JIT_(REVIEW|CONFLICT)$/);
    expect(await users()).toHaveLength(51);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'blocked' })).toBe(1);
  });

  it('holds JIT to the plan policies: a change that breaks one is refused alone (409), the others of its run are carried out', async () => {
    const path = join(dir, 'idplane.yaml');
    await writeFile(path, `${await readFile(path, 'utf8')}policies:\n  - { name: no-jit-terminations, when: 'change.kind == "user" && change.action == "deactivate"' }\n`);
    const s = await serve(dir);
    const store = new EmbeddedStore({ dir: join(dir, '.idplane') });
    const lock = await store.lock({ operation: 'apply', who: 'ci', host: 'runner', pid: 1 });
    const answers = Promise.all([
      post(`${s.url}/jit/hr`, { ...zoe, status: 'Terminated' }),
      post(`${s.url}/jit/hr`, nia),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await lock.release();
    await store.close();
    const [terminated, created] = await answers;
    expect(terminated).toMatchObject({ status: 409, body: { error: { code: 'JIT_BLOCKED', message: expect.stringContaining('breaks plan policy no-jit-terminations') } } });
    expect(created.status).toBe(201);
    const show = JSON.parse((await idplaneAsync(dir, ['state', 'show', 'zoe.muller@example.com', '--format', 'json'])).stdout);
    expect(show.user.status).toBe('ACTIVE');
    expect(s.log()).toMatch(/refused \([^)]*a plan policy or safeguard/);
  });

  it('waits for the state lock another run holds, then answers 503 with Retry-After, and runs once it is free', async () => {
    const s = await serve(dir);
    const store = new EmbeddedStore({ dir: join(dir, '.idplane') });
    const lock = await store.lock({ operation: 'apply', who: 'ci', host: 'runner', pid: 1 });
    try {
      const refused = await post(`${s.url}/jit/hr`, nia);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('locked by another run (apply)') });
    } finally {
      await lock.release();
      await store.close();
    }
    expect((await post(`${s.url}/jit/hr`, nia)).status).toBe(201);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'locked' })).toBe(1);
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'applied' })).toBe(1);
  });

  it('runs JIT requests that come together as one run, each answered on its own, none lost or doubled', async () => {
    const s = await serve(dir, {});
    const people = Array.from({ length: 12 }, (_, i) => ({ ...nia, employee_id: String(3000 + i), work_email: `person${i}@example.com`, first_name: `P${i}` }));
    // Hold the lock a moment, so that the requests queue up behind the first run as they would in a burst.
    const store = new EmbeddedStore({ dir: join(dir, '.idplane') });
    const lock = await store.lock({ operation: 'apply', who: 'ci', host: 'runner', pid: 1 });
    const answers = Promise.all([
      ...people.map((p) => post(`${s.url}/jit/hr`, p)),
      post(`${s.url}/jit/hr`, nia), post(`${s.url}/jit/hr`, nia), // the same person twice: one user
      post(`${s.url}/jit/hr`, { ...nia, employee_id: '2002', work_email: 'zoe.muller@example.com' }), // another's e-mail: refused alone
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await lock.release();
    await store.close();
    const all = await answers;
    expect(all.slice(0, 12).map((a) => a.status)).toEqual(people.map(() => 201));
    expect(all.slice(0, 12).map((a) => a.body.login)).toEqual(people.map((_, i) => `person${i}@example.com`));
    // In one batch both get the create; in two, the second finds her created (200, no change).
    expect(all.slice(12, 14).map((a) => a.body.login)).toEqual(['nia.long@example.com', 'nia.long@example.com']);
    expect(all[12]!.status).toBe(201);
    expect([200, 201]).toContain(all[13]!.status);
    expect(all[14]!.status).toBe(409);
    const list = await users();
    expect(list).toHaveLength(51 + 12 + 1);
    expect(list.filter((u) => u.login === 'nia.long@example.com')).toHaveLength(1);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const runs = ['applied', 'unchanged', 'blocked', 'locked', 'failed'].reduce((n, outcome) => n + (series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome }) ?? 0), 0);
    expect(runs).toBeLessThan(15);
    expect(s.log()).toMatch(/jit hr: applied \(\d+ user change\(s\), 0 account change\(s\)\) in [\d.]+ s: \d+ accounts in one run; 1 refused \(the account conflicts with the directory\)/);
  });
});

describe('idplane serve: schedules', () => {
  it('imports on its schedule, reports it in /healthz and /metrics, and never overlaps a CI apply', async () => {
    await configure('serve:\n  lockTimeout: 200ms\n', '* * * * * *');
    const s = await serve(dir);
    await s.waitFor(/schedule hr: applied \(51 user change\(s\)/);
    expect(await users()).toHaveLength(51);
    const health = await (await fetch(`${s.url}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', schedules: [{ app: 'hr', schedule: '* * * * * *', next: expect.any(String), last: { outcome: expect.stringMatching(/applied|unchanged/) } }] });

    // A CI apply that holds the lock until the test lets it go on: the scheduled runs meanwhile find it
    // held and are counted as locked; none of them writes while the apply does. The CSV is edited
    // while the apply holds the lock and before it reads anything, so the apply (not a scheduled run)
    // is the one that imports the edit.
    const apply = pausedApply('after-lock');
    await apply.paused;
    const csv = join(dir, 'data/hr.csv');
    await writeFile(csv, (await readFile(csv, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    await s.waitFor(/schedule hr: locked in [\d.]+ s: the state lock is held by apply/, 10_000);
    apply.resume();
    expect(await apply.done).toBe(0);
    await s.waitFor(/schedule hr: locked[\s\S]*schedule hr: unchanged/);
    const runs = JSON.parse((await idplaneAsync(dir, ['history', '--format', 'json'])).stdout).runs as { command: string; outcome: string; serialBefore: number; serialAfter: number }[];
    const ci = runs.find((r) => r.command === 'apply')!;
    expect(ci.outcome).toBe('succeeded');
    // Every scheduled run that wrote did so before or after the apply, never from the serial the apply started from.
    expect(runs.filter((r) => r.command === 'serve schedule hr' && r.serialBefore === ci.serialBefore)).toEqual([]);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'schedule', outcome: 'locked' })).toBeGreaterThanOrEqual(1);
    expect(series(metrics, 'idplane_runs_total', { app: 'hr', kind: 'schedule', outcome: 'applied' })).toBe(1);
    expect(series(metrics, 'idplane_changes_total', { app: 'hr', kind: 'schedule', type: 'user' })).toBe(51);
  });

  it('does not apply a scheduled plan that trips a safeguard', async () => {
    await configure('serve:\n  lockTimeout: 1s\n', '* * * * * *');
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const csv = join(dir, 'data/hr.csv');
    const lines = (await readFile(csv, 'utf8')).split('\n');
    await writeFile(csv, [lines[0], ...lines.slice(1, 11)].join('\n') + '\n'); // 40 of 50 gone: a mass deactivation
    const s = await serve(dir);
    await s.waitFor(/schedule hr: blocked in [\d.]+ s: safeguard tripped \(idplane plan shows it\)/);
    expect((await users()).filter((u) => u.status === 'DEPROVISIONED')).toHaveLength(1); // the one terminated in the CSV
    await s.stop();
  });

  it('exits on SIGTERM even while a client keeps its connection busy', async () => {
    await configure('serve: {}\n');
    const s = await serve(dir);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let polling = true;
    const poll = (async () => {
      while (polling) {
        await new Promise<void>((resolve) => {
          const req = httpRequest(`${s.url}/healthz`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', () => resolve());
          req.end();
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.stop('SIGTERM')).toBe(0);
    polling = false;
    await poll;
    agent.destroy();
  });

  it('finishes the run going on when SIGTERM comes, then exits 0', async () => {
    await configure('serve:\n  jit: { secret: "${env:JIT_SECRET}" }\n', '* * * * * *');
    const s = await serve(dir, { IDPLANE_PAUSE_AT: 'after-directory' });
    await s.waitFor(/paused at after-directory/);
    const exited = s.stop('SIGTERM');
    await s.waitFor(/SIGTERM received, stopping; waiting for the schedule run of hr to finish/);
    s.proc.kill('SIGUSR2'); // the run goes on only now, after the server said it waits for it
    expect(await exited).toBe(0);
    const log = s.log();
    expect(log).toMatch(/SIGTERM received, stopping; waiting for the schedule run of hr to finish/);
    expect(log.indexOf('schedule hr: applied')).toBeGreaterThan(log.indexOf('SIGTERM received'));
    expect(log.trimEnd().endsWith('idplane serve: stopped')).toBe(true);
    expect(await users()).toHaveLength(51);
    const runs = JSON.parse((await idplaneAsync(dir, ['history', '--format', 'json'])).stdout).runs as { command: string; outcome: string }[];
    expect(runs.map((r) => [r.command, r.outcome])).toEqual([['serve schedule hr', 'succeeded']]);
  });
});

describePostgres('idplane serve: on the PostgreSQL state', () => {
  let schema: string;
  beforeEach(() => {
    schema = freshSchema();
  });
  afterEach(async () => {
    await dropSchema(schema);
  });

  it('takes JIT requests and shares the advisory lock with a CI apply', async () => {
    const path = join(dir, 'idplane.yaml');
    await writeFile(path, (await readFile(path, 'utf8')).replace(/^state:\n {2}backend: embedded.*$/m, `state: { backend: postgres, url: "\${env:IDPLANE_STATE_URL}", schema: ${schema} }`));
    await configure('serve:\n  jit: { secret: "${env:JIT_SECRET}" }\n  lockTimeout: 500ms\n');
    const env = { IDPLANE_STATE_URL: POSTGRES_URL };
    expect(idplane(dir, ['apply', '--auto-approve'], { env }).code).toBe(0);
    const s = await serve(dir, env);
    expect((await post(`${s.url}/jit/hr`, nia)).status).toBe(201);
    const csv = join(dir, 'data/hr.csv');
    await writeFile(csv, (await readFile(csv, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    const apply = pausedApply('after-directory', env);
    await apply.paused;
    const locked = await post(`${s.url}/jit/hr`, { ...zoe, title: 'CTO' });
    expect(locked).toMatchObject({ status: 503, body: { error: { code: 'LOCKED' } } });
    apply.resume();
    expect(await apply.done).toBe(0);
    expect((await post(`${s.url}/jit/hr`, { ...zoe, title: 'CTO' })).body).toMatchObject({ action: 'update' });
    expect(await s.stop()).toBe(0);
    const list = JSON.parse((await idplaneAsync(dir, ['state', 'list', '--format', 'json'], { env })).stdout).users as unknown[];
    expect(list).toHaveLength(52); // the 50 rows, the break-glass admin and Nia: nobody twice
  });
});

describe('idplane serve: mTLS', () => {
  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

  it.runIf(hasOpenssl || process.env.CI)('takes JIT requests only with a client certificate its CA signed; probes need none', async () => {
    const pki = join(dir, 'pki');
    const sh = (args: string) => {
      const r = spawnSync('sh', ['-c', args], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${args}: ${r.stderr}`);
    };
    sh(`mkdir -p ${pki} && cd ${pki} && for ca in ca other; do openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj /CN=$ca >/dev/null 2>&1; done`);
    sh(`cd ${pki} && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext >/dev/null 2>&1`);
    for (const [name, ca] of [['client', 'ca'], ['stranger', 'other']]) {
      sh(`cd ${pki} && openssl req -newkey rsa:2048 -nodes -keyout ${name}.key -out ${name}.csr -subj /CN=${name} >/dev/null 2>&1 && openssl x509 -req -in ${name}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial -out ${name}.pem -days 2 >/dev/null 2>&1`);
    }
    await configure('serve:\n  tls: { cert: pki/server.pem, key: pki/server.key, ca: pki/ca.pem }\n  jit: {}\n');
    expect(idplane(dir, ['validate']).code).toBe(0);
    const s = await serve(dir);
    expect(s.url).toMatch(/^https:/);
    const ca = await readFile(join(pki, 'ca.pem'));
    const call = async (path: string, client?: string, method = 'POST') => {
      const tls = client ? { cert: await readFile(join(pki, `${client}.pem`)), key: await readFile(join(pki, `${client}.key`)) } : {};
      return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = httpsRequest(`${s.url}${path}`, { method, ca, ...tls, headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text }));
        });
        req.on('error', reject);
        req.end(method === 'POST' ? JSON.stringify(nia) : undefined);
      });
    };
    expect(await call('/jit/hr')).toMatchObject({ status: 403, body: { error: { message: expect.stringContaining('no client certificate was presented') } } });
    expect(await call('/jit/hr', 'stranger')).toMatchObject({ status: 403, body: { error: { message: expect.stringContaining('the client certificate was refused') } } });
    expect(await call('/healthz', undefined, 'GET')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('/jit/hr', 'client')).toMatchObject({ status: 201, body: { action: 'create', login: 'nia.long@example.com' } });
    expect((await users()).map((u) => u.login)).toEqual(['nia.long@example.com']); // nothing was imported or applied besides
  });
});

describe('idplane serve: bad configuration', () => {
  it('reports schedules and JIT settings that cannot work, at their file:line:col', async () => {
    await configure('serve:\n  timezone: Mars/Olympus\n  jit: { secret: short, apps: [hr, nope] }\n', '61 * * * *');
    const r = idplane(dir, ['validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: schedule "61 \* \* \* \*" is not a cron expression/);
    expect(r.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: "Mars\/Olympus" is not an IANA time zone/);
    expect(r.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: unknown app "nope"/);
    expect(r.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: the JIT secret must be at least 32 characters long \(it has 5\)/);
  });

  it('stops with a clear error for a TLS file it cannot read and a port in use', async () => {
    await configure('serve:\n  tls: { cert: missing.pem, key: missing.key }\n');
    const tls = await idplaneAsync(dir, ['serve', '--listen', '127.0.0.1:0']);
    expect(tls.code).toBe(1);
    expect(tls.stderr).toContain('serve.tls.cert: cannot read missing.pem: file not found');

    await writeFile(join(dir, 'idplane.yaml'), (await readFile(join(dir, 'idplane.yaml'), 'utf8')).replace(/serve:[\s\S]*$/, 'serve: {}\n'));
    const s = await serve(dir);
    const port = new URL(s.url).port;
    const busy = await idplaneAsync(dir, ['serve', '--listen', `127.0.0.1:${port}`]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
    const bad = await idplaneAsync(dir, ['serve', '--listen', 'localhost']);
    expect(bad.stderr).toContain('--listen: expected host:port');
  });
});
