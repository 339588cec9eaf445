/**
 * The okta provider through the real CLI, end to end, against the local Okta stand-in
 * (test/servers/okta-server.ts) in this process: importing an existing org as a profile source,
 * provisioning a CSV HR source into Okta (create, partial update, deactivate, reactivate, adoption by
 * match), rate limits, lost answers, per-user validation errors, bad answers and schema discovery. The
 * CLI runs as a child process (asynchronously: the server answers it from this event loop), with the
 * API token from ${env:OKTA_TOKEN}; no output may ever hold it.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { idplaneAsync, type RunResult } from './cli-helpers.ts';
import { startOktaServer, type OktaServerOptions, type OktaTestServer, type StoredUser } from './servers/okta-server.ts';

const TOKEN = 'okta-e2e-token-00Qx7-never-logged';

let root: string;
let dir: string;
let server: OktaTestServer | undefined;
const outputs: string[] = [];

async function run(...args: string[]): Promise<RunResult> {
  const result = await idplaneAsync(dir, args, { env: { OKTA_TOKEN: TOKEN } });
  outputs.push(result.stdout, result.stderr);
  return result;
}
const apply = () => run('apply', '--auto-approve');
const converged = async () => (await run('plan', '--detailed-exitcode')).code;

interface PlanJson {
  users: { action: string; login: string; after: { status: string }; reason: string }[];
  accounts: { action: string; key: string; link: boolean; attributes: Record<string, { from: string | null; to: string | null }> }[];
  notPlanned?: { app: string; role: string; reason: string }[];
}
async function planJson(): Promise<{ run: RunResult; plan: PlanJson }> {
  const result = await run('plan', '--format', 'json');
  return { run: result, plan: JSON.parse(result.stdout) as PlanJson };
}
interface ApplyJson {
  accounts: { app: string; key: string; action: string; outcome: string; message?: string }[];
}
async function applyJson(): Promise<{ run: RunResult; json: ApplyJson }> {
  const result = await run('apply', '--auto-approve', '--format', 'json');
  return { run: result, json: JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as ApplyJson };
}

async function project(config: string, options: Partial<OktaServerOptions> = {}): Promise<OktaTestServer> {
  server = await startOktaServer({ token: TOKEN, ...options });
  root = await mkdtemp(join(tmpdir(), 'idplane-okta-'));
  dir = join(root, 'project');
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'idplane.yaml'), config.replaceAll('OKTA_URL', server.url));
  return server;
}

beforeEach(() => {
  outputs.length = 0;
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  // Whatever a test did, the token never reached the output, the plan or the state.
  for (const text of outputs) expect(text).not.toContain(TOKEN);
  const stateDir = join(dir, '.idplane');
  const files = await readdir(stateDir, { recursive: true }).catch(() => [] as string[]);
  for (const f of files) expect(await readFile(join(stateDir, f)).then((b) => b.toString('latin1'), () => ''), f).not.toContain(TOKEN);
  await rm(root, { recursive: true, force: true });
});

const person = (login: string, first: string, last: string, extra: Record<string, unknown> = {}) => ({ login, email: login, firstName: first, lastName: last, ...extra });
const logins = (s: OktaTestServer) => [...s.users.values()].map((u) => String(u.profile.login)).sort();
const writes = (s: OktaTestServer, since = 0) => s.requests.slice(since).filter((r) => r.method !== 'GET');

// ---- importing an existing org ------------------------------------------------------------------

const IMPORT = `version: 1
directory:
  attributes:
    login:      { type: string, required: true, unique: true }
    email:      { type: string, unique: true }
    firstName:  { type: string, required: true }
    lastName:   { type: string, required: true }
    department: { type: string }
profileSources: [okta]
safeguards: { deactivateUsers: "50%", suspendUsers: "50%" }
apps:
  okta:
    provider: okta
    connection: { url: "OKTA_URL", token: "\${env:OKTA_TOKEN}", pageSize: 2 }
    import:
      onNoMatch: create
      newUserStatus: ACTIVE
      disabled: 'app.status == "SUSPENDED" || app.status == "DEPROVISIONED"'
      onDisabled: suspend
      mappings:
        login: app["profile.login"]
        email: app["profile.email"]
        firstName: app["profile.firstName"]
        lastName: app["profile.lastName"]
        department: app["profile.department"]
`;

describe('an existing Okta org as a profile source', () => {
  it('imports every user, deactivated and suspended ones with their status, writes nothing to Okta, and converges', async () => {
    const s = await project(IMPORT);
    s.seed(person('ada@example.com', 'Ada', 'Lovelace', { department: 'R&D' }));
    s.seed(person('alan@example.com', 'Alan', 'Turing', { department: 'R&D' }));
    s.seed(person('grace@example.com', 'Grace', 'Hopper', { department: 'Navy' }), { status: 'PROVISIONED', password: false });
    s.seed(person('linus@example.com', 'Linus', 'Torvalds'), { status: 'SUSPENDED' });
    s.seed(person('olivia@example.com', 'Olivia', 'Nguyen'), { status: 'DEPROVISIONED' });

    const { run: planned, plan } = await planJson();
    expect(planned.code, planned.stderr).toBe(0);
    const status = Object.fromEntries(plan.users.map((u) => [u.login, `${u.action} ${u.after.status}`]));
    expect(status).toEqual({
      'ada@example.com': 'create ACTIVE', 'alan@example.com': 'create ACTIVE', 'grace@example.com': 'create ACTIVE',
      // A new user cannot be suspended (SPEC §1.3): a disabled Okta account makes them DEPROVISIONED, with the reason.
      'linus@example.com': 'create DEPROVISIONED', 'olivia@example.com': 'create DEPROVISIONED',
    });
    expect(plan.users.find((u) => u.login === 'olivia@example.com')!.reason).toContain('account is disabled at the source');
    expect(plan.accounts).toEqual([]);

    const applied = await apply();
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const state = await run('state', 'list');
    for (const login of ['ada', 'alan', 'grace', 'linus', 'olivia']) expect(state.stdout).toContain(`${login}@example.com`);
    expect(await converged()).toBe(0);
    expect(writes(s)).toEqual([]);
    expect(s.requests.every((r) => r.authorized)).toBe(true);
    // The plain listing leaves DEPROVISIONED users out; idplane also asked for them.
    expect(s.requests.some((r) => r.url.includes('search=status eq "DEPROVISIONED"'))).toBe(true);
  });

  it('day 2: a user suspended in Okta is suspended, one deactivated is disabled (never taken as missing), one unsuspended comes back', async () => {
    const s = await project(IMPORT);
    const ada = s.seed(person('ada@example.com', 'Ada', 'Lovelace'));
    const alan = s.seed(person('alan@example.com', 'Alan', 'Turing'));
    const grace = s.seed(person('grace@example.com', 'Grace', 'Hopper'));
    s.seed(person('hedy@example.com', 'Hedy', 'Lamarr'));
    expect((await apply()).code).toBe(0);

    const set = (u: StoredUser, status: StoredUser['status']) => Object.assign(s.users.get(u.id)!, { status, lastUpdated: new Date().toISOString() });
    set(ada, 'SUSPENDED');
    set(alan, 'DEPROVISIONED');
    const { plan } = await planJson();
    expect(plan.users.map((u) => [u.login, u.action, u.reason])).toEqual([
      ['ada@example.com', 'suspend', expect.stringContaining('account is disabled at the source')],
      ['alan@example.com', 'suspend', expect.stringContaining('account is disabled at the source')],
    ]);
    expect(plan.users.some((u) => /vanished/.test(u.reason))).toBe(false);
    expect((await apply()).code).toBe(0);

    set(ada, 'ACTIVE');
    s.users.get(grace.id)!.profile.lastName = 'Hopper-Murray';
    const { plan: next } = await planJson();
    expect(next.users.map((u) => [u.login, u.action, u.after.status])).toEqual([['ada@example.com', 'unsuspend', 'ACTIVE'], ['grace@example.com', 'update', 'ACTIVE']]);
    expect((await apply()).code).toBe(0);
    expect(await converged()).toBe(0);
    expect(writes(s)).toEqual([]);
  });
});

// ---- provisioning HR into Okta --------------------------------------------------------------------

const HR_HEADER = 'employee_id,first_name,last_name,email,title,department,status';
const HR_ROWS = [
  '1001,Ada,Lovelace,ada@example.com,Analyst,R&D,Active',
  '1002,Alan,Turing,alan@example.com,Cryptanalyst,R&D,Active',
  '1003,Grace,Hopper,grace@example.com,Rear Admiral,Navy,Active',
  '1004,Linus,Torvalds,linus@example.com,Maintainer,Kernel,Active',
  '1005,Margaret,Hamilton,margaret@example.com,Director,Apollo,Active',
];

function target(connection = ''): string {
  return `version: 1
directory:
  attributes:
    login:          { type: string, required: true, unique: true }
    email:          { type: string, unique: true }
    employeeNumber: { type: string, unique: true }
    firstName:      { type: string, required: true }
    lastName:       { type: string, required: true }
    title:          { type: string }
    department:     { type: string }
profileSources: [hr]
safeguards: { deactivateUsers: "50%", disableAccounts: "50%" }
apps:
  hr:
    provider: csv
    connection: { path: data/hr.csv }
    key: employee_id
    import:
      onNoMatch: create
      newUserStatus: ACTIVE
      disabled: 'app.status == "Terminated"'
      reactivate: { deactivated: true }
      mappings:
        login: app.email
        email: app.email
        employeeNumber: app.employee_id
        firstName: app.first_name
        lastName: app.last_name
        title: app.title
        department: app.department
  okta:
    provider: okta
    connection: { url: "OKTA_URL", token: "\${env:OKTA_TOKEN}", pageSize: 2${connection} }
    provision:
      match: { app: profile.email, user: email }
      mappings:
        profile.login: { value: user.email, on: create }
        profile.email: user.email
        profile.firstName: user.firstName
        profile.lastName: user.lastName
        profile.title: user.title
        profile.department: user.department
        profile.employeeNumber: user.employeeNumber
`;
}

async function writeHr(rows: string[]): Promise<void> {
  await writeFile(join(dir, 'data/hr.csv'), `${[HR_HEADER, ...rows].join('\n')}\n`);
}

describe('an incremental Okta import', () => {
  it('lists everyone first, then only the users changed since the watermark (lastUpdated ge), never taking the rest as removed', async () => {
    const s = await project(IMPORT.replace('      onNoMatch: create', '      mode: incremental\n      watermark: lastUpdated\n      onNoMatch: create'));
    const ada = s.seed(person('ada@example.com', 'Ada', 'Lovelace'));
    const alan = s.seed(person('alan@example.com', 'Alan', 'Turing'));
    s.seed(person('grace@example.com', 'Grace', 'Hopper'));
    expect((await apply()).code).toBe(0);
    const firstListing = s.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1/users?'));
    expect(firstListing.every((r) => !r.url.includes('lastUpdated'))).toBe(true);
    const watermark = [...s.users.values()].map((u) => u.lastUpdated).sort().at(-1)!;

    const later = new Date(Date.parse(watermark) + 60_000).toISOString();
    Object.assign(s.users.get(ada.id)!, { lastUpdated: later, profile: { ...s.users.get(ada.id)!.profile, department: 'Analytics' } });
    s.users.delete(alan.id); // gone from Okta: an incremental import cannot tell, so nothing happens to Alan
    const since = s.requests.length;
    const { run: planned, plan } = await planJson();
    expect(planned.code, planned.stderr).toBe(0);
    expect(plan.users.map((u) => [u.login, u.action])).toEqual([['ada@example.com', 'update']]);
    const asked = s.requests.slice(since).filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1/users?')).map((r) => r.url);
    expect(asked).toEqual([`/api/v1/users?limit=2&search=lastUpdated ge "${watermark}"`]);
    expect((await apply()).code).toBe(0);
    expect(await converged()).toBe(0);
  });

  it('refuses a watermark other than lastUpdated, saying which to set', async () => {
    const s = await project(IMPORT.replace('      onNoMatch: create', '      mode: incremental\n      watermark: profile.login\n      onNoMatch: create'));
    s.seed(person('ada@example.com', 'Ada', 'Lovelace'));
    const r = await run('plan');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/idplane\.yaml:\d+:\d+: error: an incremental okta import reads the users changed since the watermark by lastUpdated: set watermark: lastUpdated/);
    expect(s.requests).toEqual([]); // refused by the config check, before any request
  });
});

describe('HR into Okta', () => {
  it('creates activated users, updates one attribute, deactivates on termination, reactivates, converging each time', async () => {
    const s = await project(target());
    await writeHr(HR_ROWS);
    const created = await apply();
    expect(created.code, created.stdout + created.stderr).toBe(0);
    expect(logins(s)).toEqual(['ada@example.com', 'alan@example.com', 'grace@example.com', 'linus@example.com', 'margaret@example.com']);
    expect([...s.users.values()].every((u) => u.status === 'PROVISIONED')).toBe(true);
    expect(writes(s).map((r) => r.url)).toEqual(Array(5).fill('/api/v1/users?activate=true'));
    expect(s.byLogin('ada@example.com')!.profile).toEqual({
      login: 'ada@example.com', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', title: 'Analyst', department: 'R&D', employeeNumber: '1001',
    });
    expect(await converged()).toBe(0);

    // One changed attribute: one partial update carrying only it.
    const ada = s.byLogin('ada@example.com')!;
    let since = s.requests.length;
    await writeHr(HR_ROWS.map((r) => r.replace('Analyst', 'Principal Analyst')));
    expect((await apply()).code).toBe(0);
    expect(writes(s, since).map((r) => [r.method, r.url, r.body])).toEqual([['POST', `/api/v1/users/${ada.id}`, { profile: { title: 'Principal Analyst' } }]]);
    expect(await converged()).toBe(0);

    // Termination: the Okta user is deactivated (the next read sees them through the DEPROVISIONED search).
    const linus = s.byLogin('linus@example.com')!;
    since = s.requests.length;
    await writeHr(HR_ROWS.map((r) => r.replace('Analyst', 'Principal Analyst').replace('Kernel,Active', 'Kernel,Terminated')));
    expect((await apply()).code).toBe(0);
    expect(writes(s, since).map((r) => `${r.method} ${r.url}`)).toEqual([`POST /api/v1/users/${linus.id}/lifecycle/deactivate?sendEmail=false`]);
    expect(s.users.get(linus.id)!.status).toBe('DEPROVISIONED');
    expect(await converged()).toBe(0);

    // Back at work: reactivated (Okta activates DEPROVISIONED users), no mail sent, no second user.
    since = s.requests.length;
    await writeHr(HR_ROWS.map((r) => r.replace('Analyst', 'Principal Analyst')));
    expect((await apply()).code).toBe(0);
    expect(writes(s, since).map((r) => `${r.method} ${r.url}`)).toEqual([`POST /api/v1/users/${linus.id}/lifecycle/activate?sendEmail=false`]);
    expect(s.users.get(linus.id)!.status).toBe('PROVISIONED');
    expect(await converged()).toBe(0);
    expect(s.users.size).toBe(5);
  });

  it('suspends the Okta user of a directory user suspended at the source (a leave), and unsuspends them on return', async () => {
    const s = await project(target().replace(`      disabled: 'app.status == "Terminated"'`, `      disabled: 'app.status == "Leave"'\n      onDisabled: suspend`));
    await writeHr(HR_ROWS);
    expect((await apply()).code).toBe(0);
    const ada = s.byLogin('ada@example.com')!;
    Object.assign(ada, { status: 'ACTIVE' }); // she has signed in since: an ACTIVE Okta user
    await writeHr(HR_ROWS.map((r) => (r.startsWith('1001,') ? r.replace(/Active$/, 'Leave') : r)));
    const { plan } = await planJson();
    expect(plan.users.map((u) => [u.login, u.action])).toEqual([['ada@example.com', 'suspend']]);
    expect(plan.accounts.map((a) => [a.action, a.key])).toEqual([['disable', 'ada@example.com']]);
    const since = s.requests.length;
    expect((await apply()).code).toBe(0);
    expect(writes(s, since).map((r) => `${r.method} ${r.url}`)).toEqual([`POST /api/v1/users/${ada.id}/lifecycle/suspend`]);
    expect(s.byLogin('ada@example.com')!.status).toBe('SUSPENDED');
    expect(await converged()).toBe(0);

    await writeHr(HR_ROWS);
    const back = s.requests.length;
    expect((await apply()).code).toBe(0);
    expect(writes(s, back).map((r) => `${r.method} ${r.url}`)).toEqual([`POST /api/v1/users/${ada.id}/lifecycle/unsuspend`]);
    expect(s.byLogin('ada@example.com')!.status).toBe('ACTIVE');
    expect(await converged()).toBe(0);
  });

  it('adopts users already in Okta: matched by key or by provision.match, linked, not duplicated', async () => {
    const s = await project(target());
    await writeHr(HR_ROWS);
    // Grace has an older login; her email matches. Ada is there under the login idplane would give her.
    const grace = s.seed(person('grace.hopper@corp.example.com', 'Grace', 'Hopper', { email: 'grace@example.com', title: 'Commodore', department: 'Navy', employeeNumber: '1003' }));
    const ada = s.seed(person('ada@example.com', 'Ada', 'Lovelace', { title: 'Analyst', department: 'R&D', employeeNumber: '1001' }));
    const { plan } = await planJson();
    expect(plan.accounts.map((a) => [a.action, a.key, a.link])).toEqual([
      ['link', 'ada@example.com', true], ['create', 'alan@example.com', true], ['update', 'grace.hopper@corp.example.com', true],
      ['create', 'linus@example.com', true], ['create', 'margaret@example.com', true],
    ]);
    expect(plan.accounts[2]!.attributes).toEqual({ 'profile.title': { from: 'Commodore', to: 'Rear Admiral' } });
    const applied = await apply();
    expect(applied.code, applied.stdout).toBe(0);
    expect(s.users.size).toBe(5);
    expect(s.users.get(grace.id)!.profile).toMatchObject({ login: 'grace.hopper@corp.example.com', title: 'Rear Admiral' });
    expect(writes(s).filter((r) => r.url.includes(ada.id))).toEqual([]);
    expect(await converged()).toBe(0);
  });

  it('honours 429 and the rate-limit headers, converging with no duplicate', async () => {
    const s = await project(target(', retries: 3'), { rateLimit: { limit: 6, windowMs: 1000 } });
    await writeHr(HR_ROWS);
    s.inject({ method: 'POST', body: 'alan@example.com', times: 2, fault: { status: 429 } });
    const applied = await apply();
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(logins(s)).toEqual(['ada@example.com', 'alan@example.com', 'grace@example.com', 'linus@example.com', 'margaret@example.com']);
    const alanPosts = s.requests.filter((r) => r.method === 'POST' && JSON.stringify(r.body).includes('alan@example.com'));
    expect(alanPosts.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(await converged()).toBe(0);
    expect(s.users.size).toBe(5);
  });

  it('retries a create whose answer was lost from its lookup: no duplicate', async () => {
    const s = await project(target());
    await writeHr(HR_ROWS);
    s.inject({ method: 'POST', url: '/api/v1/users?activate=true', body: 'alan@example.com', fault: { lost: true } });
    const { run: applied, json } = await applyJson();
    expect(applied.code, applied.stderr).toBe(0);
    expect(json.accounts.find((a) => a.key === 'alan@example.com')).toMatchObject({
      action: 'create', outcome: 'done', message: expect.stringMatching(/^created \(confirmed by a lookup after: POST \/api\/v1\/users\?activate=true: cannot reach 127\.0\.0\.1:\d+/),
    });
    expect(s.requests.filter((r) => r.method === 'POST' && JSON.stringify(r.body).includes('alan@example.com'))).toHaveLength(1);
    expect(s.users.size).toBe(5);
    expect(await converged()).toBe(0);
  });

  it('reports E0000001 for a bad value per user while the rest applies; fixed, the next apply converges', async () => {
    const s = await project(target());
    await writeHr(HR_ROWS.map((r) => r.replace('alan@example.com', 'alan(at)example.com')));
    const applied = await apply();
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain('✗ failed create okta/alan(at)example.com: POST /api/v1/users?activate=true failed: HTTP 400 (E0000001): Api validation failed: login (login: Username must be in the form of an email address; email: Does not match required pattern)');
    expect(applied.stdout).toContain('Accounts: 4 done, 0 skipped, 1 failed.');
    expect(s.users.size).toBe(4);
    await writeHr(HR_ROWS);
    expect((await apply()).code).toBe(0);
    expect(s.users.size).toBe(5);
    expect(await converged()).toBe(0);
  });
});

// ---- bad answers, and schema discovery ----------------------------------------------------------

describe('bad answers and schema discovery', () => {
  it('a refused token or an HTML page stops an import source (exit 1) naming the app and the request', async () => {
    const s = await project(IMPORT.replace('${env:OKTA_TOKEN}', '${env:OKTA_TOKEN}-stale'));
    s.seed(person('ada@example.com', 'Ada', 'Lovelace'));
    const refused = await run('plan');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('okta: GET /api/v1/users?limit=2 failed: HTTP 401 (E0000011): Invalid token provided');
    await writeFile(join(dir, 'idplane.yaml'), IMPORT.replaceAll('OKTA_URL', s.url));
    s.inject({ fault: { html: true } });
    const garbage = await run('plan');
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toContain('okta: GET /api/v1/users?limit=2: HTTP 200 with a body that is not valid JSON (an HTML page (text/html): Sign In Okta sign-in)');
  });

  it('a target that answers garbage is not planned (exit 4), with the reason; the rest is', async () => {
    const s = await project(target());
    await writeHr(HR_ROWS);
    s.inject({ fault: { malformed: true } });
    const { run: planned, plan } = await planJson();
    expect(planned.code).toBe(4);
    expect(plan.notPlanned).toEqual([{ app: 'okta', role: 'target', operation: 'read accounts', reason: expect.stringMatching(/^GET \/api\/v1\/users\?limit=2: HTTP 200 with a body that is not valid JSON \(application\/json; /) }]);
    expect(plan.users).toHaveLength(5);
    expect(plan.accounts).toEqual([]);
  });

  it('schema discover prints the org\'s profile properties, custom ones too', async () => {
    await project(IMPORT, { custom: { costCenterCode: { type: 'string', unique: true, title: 'Cost center code' }, skills: { type: 'array', items: 'string' } } });
    const result = await run('schema', 'discover', 'okta');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('# okta (okta): /api/v1/meta/schemas/user/default: 31 base and 2 custom profile properties.');
    const doc = parse(result.stdout) as { directory: { attributes: Record<string, unknown> }; apps: { okta: { import: { mappings: Record<string, string> } } } };
    expect(doc.directory.attributes.login).toEqual({ type: 'string', required: true, unique: true });
    expect(doc.directory.attributes.costCenterCode).toEqual({ type: 'string', unique: true });
    expect(doc.directory.attributes.skills).toEqual({ type: 'string[]' });
    expect(doc.apps.okta.import.mappings).toMatchObject({ login: 'app["profile.login"]', costCenterCode: 'app["profile.costCenterCode"]' });
  });
});
