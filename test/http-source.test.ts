/**
 * The http provider end to end through the real CLI, run as a child process (asynchronously: the HR
 * API in test/servers/hr-server.ts answers it from this event loop), with the token from
 * ${env:HR_TOKEN}: plan and apply from each paging style, incremental imports, transient faults that
 * converge, every kind of bad answer stopping the run with the app, the request's path and the page
 * named, a listing that fails part-way deactivating nobody, and schema discovery. The reader alone is
 * test/http-reader.test.ts. Whatever a test did, the token never reaches the output.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpConnection } from '../schemas/generated/config.ts';
import { copyExample, REPO } from './cli-helpers.ts';
import { connectionFor, outputs, server, start, TOKEN, useHrServer } from './http-helpers.ts';
import type { Fault, HrTestServer } from './servers/hr-server.ts';

const BIN = join(REPO, 'cli/bin/idplane.js');

useHrServer();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface PlanJson {
  summary: { users: Record<'create' | 'update' | 'activate' | 'deactivate' | 'suspend' | 'unsuspend', number> };
  users: { action: string; login: string; attributes?: Record<string, { from?: unknown; to?: unknown }> }[];
  notPlanned?: { app: string; reason: string }[];
  warnings: { code: string; message: string }[];
  watermarks: { app: string; from: string | null; to: string }[];
}

interface StateUser {
  login: string;
  status: string;
}

let root: string;
let dir: string;

async function project(connection: HttpConnection, importExtra = '', appExtra = ''): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'idplane-http-'));
  dir = join(root, 'project');
  await mkdir(dir, { recursive: true });
  await writeConfig(connection, importExtra, appExtra);
}

async function writeConfig(connection: HttpConnection, importExtra = '', appExtra = ''): Promise<void> {
  const withEnvToken = { ...connection, token: '${env:HR_TOKEN}' };
  await writeFile(join(dir, 'idplane.yaml'), `version: 1
directory:
  attributes:
    login:          { type: string, required: true, unique: true }
    email:          { type: string, unique: true }
    employeeNumber: { type: string, unique: true }
    firstName:      { type: string, required: true }
    lastName:       { type: string, required: true }
    title:          { type: string }
    department:     { type: string }
    city:           { type: string }
    groups:         { type: "string[]" }
profileSources: [hr]
safeguards: { deactivateUsers: "50%" }
apps:
  hr:
    provider: http
    connection: ${JSON.stringify(withEnvToken)}
${appExtra}    import:
      onNoMatch: create
      newUserStatus: ACTIVE
      disabled: 'app.status == "Terminated"'
${importExtra}      mappings:
        login: app.email
        email: app.email
        employeeNumber: app.id
        firstName: app.firstName
        lastName: app.lastName
        title: app.title
        department: app.department
        city: app["address.city"]
        groups: 'app.groups.split(", ")'
`);
}

afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function idplane(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '-C', dir, ...args], {
      env: { ...process.env, NO_COLOR: '1', HR_TOKEN: TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      outputs.push(stdout, stderr);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function plan(): Promise<{ run: Run; json: PlanJson }> {
  const run = await idplane(['plan', '--format', 'json']);
  return { run, json: (run.code === 0 || run.code === 4 ? JSON.parse(run.stdout) : null) as PlanJson };
}

async function apply(): Promise<Run> {
  return idplane(['apply', '--auto-approve']);
}

/** The stored directory: its serial (bumped by every write) and users. */
async function state(): Promise<{ serial: number; users: StateUser[] }> {
  const run = await idplane(['state', 'list', '--format', 'json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { serial: number; users: StateUser[] };
}

async function users(): Promise<StateUser[]> {
  return (await state()).users;
}

async function show(login: string): Promise<{ status: string; profile: Record<string, unknown> }> {
  const run = await idplane(['state', 'show', login, '--format', 'json']);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { user: { status: string; profile: Record<string, unknown> } }).user;
}

const logins = (list: { login: string }[]) => list.map((u) => u.login).sort();
const emails = (s: HrTestServer) => s.employees.map((e) => e.email as string).sort();

describe('the http source through the CLI', () => {
  it('plan and apply create every employee from a paged listing with a total, then nothing is left to do', async () => {
    await start();
    await project(connectionFor('page', { retries: 1 }));
    const first = await plan();
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(first.json.summary.users).toMatchObject({ create: 250, update: 0, deactivate: 0 });
    const run = await apply();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const stored = await users();
    expect(logins(stored)).toEqual(emails(server));
    expect(await show('zoe.hopper.1030@example.com')).toMatchObject({
      status: 'ACTIVE',
      profile: { employeeNumber: '1030', firstName: 'Zoë', lastName: 'Hopper', city: 'Berlin', department: 'Support', groups: ['Support', 'All Staff'], title: 'Engineer' },
    });
    expect((await idplane(['plan', '--detailed-exitcode'])).code).toBe(0);
    expect(server.requests.every((r) => r.authorized)).toBe(true);
  });

  it.each(['offset', 'cursor', 'next-link', 'link-header', 'none'] as const)('creates every employee from a %s listing', async (style) => {
    await start({ count: 120 });
    const connection = connectionFor(style);
    if (connection.pagination && 'pageSize' in connection.pagination) connection.pagination = { ...connection.pagination, pageSize: 50 };
    if (style === 'next-link' || style === 'link-header') connection.query = { per_page: 50 };
    await project(connection);
    const run = await apply();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(logins(await users())).toEqual(emails(server));
    // apply reads the source once: one request for none, three pages of 50 for the others.
    expect(server.requests.length).toBe(style === 'none' ? 1 : 3);
    expect(server.requests.every((r) => r.authorized)).toBe(true);
  });

  it('after a first apply, a listing that fails part-way deactivates nobody; once it reads whole, the removed are deactivated', async () => {
    await start();
    await project(connectionFor('page', { retries: 1 }));
    expect((await apply()).code).toBe(0);
    const before = await state();
    server.employees.splice(200, 10); // ten people leave: the complete listing would deactivate them

    server.inject({ url: /[?&]page=2&/, times: 10, fault: { status: 500 } });
    const failed = await plan();
    expect(failed.run.code).toBe(1);
    expect(failed.run.stderr).toContain('hr: page 2 of the listing (GET /page/employees?page=2&per_page=100): HTTP 500 after 1 retry');
    const applied = await apply();
    expect(applied.code).toBe(1);
    expect(await state()).toEqual(before);

    // A page that comes back short of the total is the same: an error, never a shorter list.
    server.clearFaults();
    server.inject({ url: /[?&]page=3&/, times: 10, fault: { mutate: (body) => ({ ...(body as object), data: { employees: [] } }) } });
    const short = await apply();
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('hr: page 3 of the listing (GET /page/employees?page=3&per_page=100): the listing ended after 200 records on page 3, short of the 240 the server reports (meta.total); it is not used');
    expect(await state()).toEqual(before);

    // onUnreachable: skip leaves the app out of the plan (exit 4), and still deactivates nobody.
    server.clearFaults();
    server.inject({ url: /[?&]page=2&/, times: 10, fault: { status: 503 } });
    await writeConfig(connectionFor('page', { retries: 1 }), '', '    onUnreachable: skip\n');
    const skipped = await plan();
    expect(skipped.run.code).toBe(4);
    expect(skipped.json.notPlanned).toEqual([expect.objectContaining({ app: 'hr', reason: expect.stringContaining('page 2 of the listing (GET /page/employees?page=2&per_page=100): HTTP 503 after 1 retry') })]);
    expect(skipped.json.summary.users.deactivate).toBe(0);
    expect((await apply()).code).toBe(4);
    expect(await state()).toEqual(before);

    server.clearFaults();
    const whole = await plan();
    expect(whole.run.code).toBe(0);
    expect(whole.json.summary.users).toMatchObject({ create: 0, update: 0, deactivate: 10 });
  });

  it('reports a record without a key as a row error naming its line and page, and deactivates nobody', async () => {
    await start();
    await project(connectionFor('page'));
    expect((await apply()).code).toBe(0);
    const before = await state();
    server.inject({ url: /[?&]page=2&/, times: 2, fault: { keyless: [4] } }); // for plan and apply
    server.employees.splice(10, 1); // gone too, yet not deactivated: an unreadable record may be anyone
    const { run, json } = await plan();
    expect(run.code, run.stderr).toBe(0);
    expect(json.warnings.map((w) => [w.code, w.message])).toEqual([
      ['row-error', 'line 105: the record on page 2 has no id (the key): it is absent'],
      ['held-back', '1 row of hr could not be read; 2 linked accounts missing from hr were not treated as missing, so their users are left as they are until hr reads whole'],
      ['missing-suspended', '1 row(s) of hr could not be read, so no account of hr is treated as missing in this run'],
    ]);
    expect(json.summary.users).toMatchObject({ create: 0, update: 0, deactivate: 0 });
    expect((await apply()).code).toBe(0);
    expect((await state()).users).toEqual(before.users);
  });

  it('refuses a record holding a NUL, naming its page and attribute, and applies the rest', async () => {
    await start();
    await project(connectionFor('page'));
    expect((await apply()).code).toBe(0);
    const poisoned = server.employees[104]!;
    const before = await show(poisoned.email as string);
    server.employees[104] = { ...poisoned, title: 'Data\u0000Engineer' };
    server.employees[3] = { ...server.employees[3]!, title: 'Principal' };
    const { run, json } = await plan();
    expect(run.code, run.stderr).toBe(0);
    expect(json.warnings.filter((w) => w.code === 'row-error').map((w) => w.message)).toEqual([
      'line 105: the record on page 2 has a NUL character (U+0000) in "title"; no value may hold one, so it is not imported',
    ]);
    expect(json.summary.users).toMatchObject({ update: 1, deactivate: 0 });
    expect((await apply()).code).toBe(0);
    expect(await show(poisoned.email as string)).toEqual(before);
  });

  it('refuses a page nested 10,000 levels deep, naming the app, the request and the page, and changes nothing', async () => {
    await start();
    await project(connectionFor('page'));
    expect((await apply()).code).toBe(0);
    const before = await state();
    server.inject({ url: /[?&]page=2&/, times: 2, fault: { nest: 10_000 } });
    const { run } = await plan();
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/hr: .*page 2 of the listing \(GET \/page\/employees\?page=2&per_page=100\): HTTP 200 with JSON nested more than 64 levels deep, which no record is; the answer is refused/);
    expect(run.stderr).not.toMatch(/Maximum call stack|Internal error| {4}at /);
    expect((await apply()).code).toBe(1);
    expect(await state()).toEqual(before);
  });

  it('incremental: the first run reads everything, later runs send since=watermark, apply the changes and deactivate nobody missing', async () => {
    await start();
    const imp = '      mode: incremental\n      watermark: updatedAt\n';
    await project(connectionFor('cursor', { since: { param: 'updated_since' } }), imp);
    const first = await plan();
    expect(first.json.summary.users.create).toBe(250);
    expect(first.json.watermarks).toEqual([{ app: 'hr', from: null, to: '2024-01-01T04:09:00.000Z' }]);
    expect((await apply()).code).toBe(0);
    expect(server.requests.every((r) => r.query.updated_since === undefined)).toBe(true);

    server.requests.length = 0;
    const changed = server.touch(1003, { title: 'Director' });
    server.employees.splice(server.employees.findIndex((e) => e.id === 1005), 1);
    const second = await plan();
    expect(second.run.code, second.run.stderr).toBe(0);
    expect(server.requests.map((r) => r.query.updated_since)).toEqual(['2024-01-01T04:09:00.000Z']);
    expect(second.json.summary.users).toMatchObject({ create: 0, update: 1, deactivate: 0 });
    expect(second.json.users).toEqual([expect.objectContaining({ action: 'update', login: 'grace.lovelace.1003@example.com', attributes: { title: { from: 'Engineer', to: 'Director' } } })]);
    expect(second.json.watermarks).toEqual([{ app: 'hr', from: '2024-01-01T04:09:00.000Z', to: changed.updatedAt }]);
    expect((await apply()).code).toBe(0);
    expect((await users()).length).toBe(250);

    server.requests.length = 0;
    expect((await idplane(['plan', '--detailed-exitcode'])).code).toBe(0);
    expect(server.requests.map((r) => r.query.updated_since)).toEqual([changed.updatedAt]);
  });

  it('incremental without connection.since is refused by the config check, before any request, saying to set it', async () => {
    await start();
    await project(connectionFor('page'), '      mode: incremental\n      watermark: updatedAt\n');
    const run = await idplane(['plan']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: an incremental http import needs connection\.since/);
    expect(server.requests).toEqual([]);
  });

  it('retries a 429 with Retry-After and a 503, and converges', async () => {
    await start();
    await project(connectionFor('page'));
    server.inject({ url: /[?&]page=2&/, times: 2, fault: { status: 429, retryAfter: '1', body: { message: 'rate limit exceeded' } } });
    server.inject({ url: /[?&]page=3&/, fault: { status: 503, retryAfter: '0' } });
    const run = await apply();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(logins(await users())).toEqual(emails(server));
    expect(server.requests.filter((r) => r.query.page === '2')).toHaveLength(3);
    expect(server.requests.filter((r) => r.query.page === '3')).toHaveLength(2);
    expect((await idplane(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  const echo = { error: 'invalid_token', message: `token Bearer ${TOKEN} expired` };
  // [case, paging, connection settings, fault (on the page named, or on every page for 'short'), page named, message]
  const bad: [string, 'page' | 'none', Partial<HttpConnection>, Fault | null, number, string][] = [
    ['401 refused credentials (the server echoing the token)', 'page', {}, { status: 401, body: echo }, 1, 'the server refused the credentials (HTTP 401); check connection.token, username/password or headers; the server said: token Bearer *** expired'],
    ['403 on a later page', 'page', {}, { status: 403 }, 2, 'the server refused the credentials (HTTP 403)'],
    ['404', 'page', { url: '/nope/employees' }, null, 1, 'not found (HTTP 404); check connection.url'],
    ['500 after the retries', 'page', {}, { status: 500 }, 3, 'HTTP 500 after 1 retry; the server said: injected 500'],
    ['an HTML page with 200', 'page', {}, { html: true }, 2, 'HTTP 200 with a body that is not valid JSON (an HTML page (text/html; charset=utf-8): Sign in Your session has expired Please sign in again.)'],
    ['a body that is not JSON', 'page', {}, { notJson: true }, 2, 'HTTP 200 with a body that is not valid JSON (application/json;'],
    ['the records path missing', 'page', {}, { body: { message: 'ok', meta: { total: 250 } } }, 2, 'the page has no data.employees (connection.records); its keys: message, meta'],
    ['records that are not an array', 'page', {}, { body: { data: { employees: { id: 1 } }, meta: { total: 250 } } }, 3, 'data.employees (connection.records) is an object, not an array of records'],
    ['a page that is not an object', 'page', {}, { body: 'maintenance' }, 1, 'the page is a string, not a JSON object with the records at data.employees'],
    ['a page slower than timeoutMs', 'page', { timeoutMs: 300 }, { delayMs: 1500 }, 2, 'no answer within 300 ms (timeoutMs) (after 1 retry)'],
    ['a connection reset every time', 'page', {}, { reset: true }, 3, 'cannot reach 127.0.0.1:'],
    ['pagination none on a server that pages', 'none', {}, { headers: { link: '</none/employees?page=2>; rel="next"' } }, 1, 'the answer has a Link header with rel="next": the server pages its listing, and only its first page would be read'],
    ['a listing short of its total', 'page', {}, { mutate: (body) => ({ ...(body as object), meta: { total: 260 } }) }, 3, 'the listing ended after 250 records on page 3, short of the 260 the server reports (meta.total)'],
  ];
  it.each(bad)('stops on %s with exit 1, naming the app, the path and the page', async (name, style, extra, fault, page, message) => {
    await start();
    const connection = connectionFor(style, { retries: 1 });
    if (extra.url) extra.url = `${server.url}${extra.url}`;
    await project({ ...connection, ...extra });
    const target = style === 'none' ? '/none/employees' : extra.url ? '/nope/employees?page=1&per_page=100' : `/page/employees?page=${page}&per_page=100`;
    const everyPage = style === 'none' || name.includes('short of its total');
    if (fault) server.inject({ url: everyPage ? undefined : new RegExp(`[?&]page=${page}&`), times: 10, fault });
    const run = await idplane(['plan']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(`hr: page ${page} of the listing (GET ${target}): ${message}`);
    expect(run.stderr).not.toContain(server.url);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('schema discover reports the attributes of a sample page with inferred types', async () => {
    await start();
    await project(connectionFor('page'));
    const run = await idplane(['schema', 'discover', 'hr', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const found = JSON.parse(run.stdout) as { note: string; attributes: { name: string; type: string; unique: boolean; required: boolean; description: string }[] };
    expect(found.note).toBe('GET /page/employees?page=1&per_page=100: 15 attributes, types inferred from a sample of 100 records (the first page of 250)');
    const byName = Object.fromEntries(found.attributes.map((a) => [a.name, a]));
    expect(Object.keys(byName)).toEqual(['id', 'firstName', 'lastName', 'email', 'title', 'department', 'status', 'active', 'fte', 'address.city', 'address.country', 'manager', 'groups', 'updatedAt', 'manager.id']);
    expect(byName.id).toMatchObject({ type: 'string', unique: true, required: true });
    expect(byName.fte).toMatchObject({ type: 'number', unique: false });
    expect(byName.active).toMatchObject({ type: 'boolean' });
    expect(byName['manager.id']).toMatchObject({ type: 'string', required: false });
    expect(byName.groups!.description).toContain('a list, joined with ", "');
    expect(server.requests).toHaveLength(1);

    const text = await idplane(['schema', 'discover', 'hr']);
    expect(text.stdout).toContain('addressCity:');
    expect(text.stdout).toContain('app["address.city"]');
  });

  it('examples/http-hr validates and plans against the server, with HR_URL and HR_TOKEN set', async () => {
    await start();
    const example = await copyExample('http-hr');
    try {
      dir = example.dir;
      const env = { HR_URL: server.url };
      const validate = await idplane(['validate'], env);
      expect(validate.code, validate.stderr).toBe(0);
      expect(validate.stdout).toContain('The configuration is valid.');
      const run = await idplane(['plan', '--format', 'json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect((JSON.parse(run.stdout) as PlanJson).summary.users.create).toBe(250);
      expect(server.requests.map((r) => r.url)).toEqual([1, 2, 3].map((n) => `/page/employees?status=all&page=${n}&per_page=100`));
      const unset = await idplane(['validate']);
      expect(unset.code).toBe(1);
      expect(unset.stderr).toContain('environment variable HR_URL is not set (/apps/hr/connection/url)');
    } finally {
      await example.cleanup();
    }
  });
});

describe('secrets from ${env:} and ${file:} outside the token', () => {
  const KEY = 'q-secret Lk93/never+printed';
  const encoded = encodeURIComponent(KEY);

  it('a query parameter from the environment is *** in every error and in schema discover, whatever its encoding', async () => {
    await start();
    await project({ ...connectionFor('page', { retries: 1 }), query: { api_key: '${env:HR_QUERY_KEY}' } });
    server.inject({ times: 100, fault: { status: 503 } });
    for (const args of [['plan'], ['plan', '--format', 'json'], ['apply', '--auto-approve']]) {
      const run = await idplane(args, { HR_QUERY_KEY: KEY });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain('api_key=***');
      for (const form of [KEY, encoded, encoded.replaceAll('%20', '+'), 'Lk93']) expect(run.stdout + run.stderr).not.toContain(form);
    }
    server.clearFaults();
    const discovered = await idplane(['schema', 'discover', 'hr'], { HR_QUERY_KEY: KEY });
    expect(discovered.code, discovered.stderr).toBe(0);
    expect(discovered.stdout).toContain('api_key=***');
    expect(discovered.stdout + discovered.stderr).not.toContain('Lk93');
  });

  it('no output of any command, and no file the runs leave, holds a secret, in any encoding', async () => {
    await start();
    await project({ ...connectionFor('page', { retries: 1 }), query: { api_key: '${env:HR_QUERY_KEY}' } }, '', '    onUnreachable: skip\n');
    const env = { HR_QUERY_KEY: KEY };
    const runs: Run[] = [];
    const run = async (...args: string[]) => {
      const r = await idplane(args, env);
      runs.push(r);
      return r;
    };
    expect((await run('apply', '--auto-approve')).code).toBe(0);
    const login = server.employees[0]!.email as string;
    // A failing page: the read error reaches the plan (notPlanned), its file, the apply's report and history.
    server.inject({ url: /[?&]page=2&/, times: 100, fault: { status: 503, body: { error: 'unavailable', message: `no page for api_key=${KEY}` } } });
    for (const format of ['text', 'json', 'markdown']) expect((await run('plan', '--format', format)).code).toBe(4);
    expect((await run('plan', '--out', 'pr.plan')).code).toBe(4);
    await run('show', 'pr.plan', '--format', 'json');
    await run('apply', 'pr.plan', '--auto-approve');
    await run('apply', '--auto-approve', '--format', 'json');
    await run('drift', '--format', 'markdown');
    await run('explain', login);
    await run('history', '--format', 'json');
    await run('history', login);
    await run('state', 'list', '--format', 'json');
    await run('state', 'show', login, '--format', 'json');
    await run('validate');
    server.clearFaults();
    await run('schema', 'discover', 'hr');
    expect(runs.some((r) => /api_key=\*\*\*/.test(r.stdout + r.stderr))).toBe(true);

    const forms = [KEY, encodeURIComponent(KEY), encodeURIComponent(KEY).replaceAll('%20', '+'), 'Lk93', TOKEN, 'Zq81'];
    for (const r of runs) for (const form of forms) expect(r.stdout + r.stderr, `${form} in output`).not.toContain(form);
    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    const read = files.filter((f) => f.isFile()).map((f) => join(f.parentPath, f.name));
    expect(read.some((f) => f.endsWith('state.db'))).toBe(true);
    expect(read.some((f) => f.endsWith('pr.plan'))).toBe(true);
    for (const file of read) {
      const bytes = await readFile(file);
      for (const form of forms) {
        for (const encoded of [Buffer.from(form, 'utf8'), Buffer.from(form, 'utf16le')]) expect(bytes.includes(encoded), `${form} in ${file}`).toBe(false);
      }
    }
  });

  it('a CSV path read from a secret file is *** in "cannot read", and the file content never shows', async () => {
    root = await mkdtemp(join(tmpdir(), 'idplane-secret-file-'));
    dir = root;
    await writeFile(join(dir, 'hr-path.txt'), 'exports/hr-Tz77-private.csv\n');
    await writeFile(join(dir, 'idplane.yaml'), `version: 1
directory:
  attributes:
    login: { type: string, required: true, unique: true }
profileSources: [hr]
apps:
  hr:
    provider: csv
    connection: { path: "\${file:hr-path.txt}" }
    key: id
    import:
      onNoMatch: create
      mappings: { login: app.email }
`);
    for (const args of [['plan'], ['plan', '--format', 'json'], ['schema', 'discover', 'hr']]) {
      const run = await idplane(args);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toMatch(/cannot read \*\*\*/);
      expect(run.stdout + run.stderr).not.toContain('Tz77');
    }
  });
});
