/**
 * The scim provider through the real CLI, end to end: a CSV HR source provisions a SCIM target served by
 * a real SCIM server (scimmy over express, test/servers/scim-server.ts) in this process. The CLI runs as
 * a child process (asynchronously: the server answers it from this event loop), with the connection's
 * token from ${env:SCIM_TOKEN}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from './cli-helpers.ts';
import { startScimServer, type RecordedRequest, type ScimTestServer } from './servers/scim-server.ts';

const TOKEN = 'scim-secret-7Qx9-do-not-leak';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const BIN = join(REPO, 'cli/bin/idplane.js');

const HR_HEADER = 'employee_id,first_name,last_name,email,title,department,mobile,status';
const HR_ROWS = [
  '1001,Ada,Lovelace,ada@example.com,Analyst,R&D,+44 20 7946 0001,Active',
  '1002,Alan,Turing,alan@example.com,Cryptanalyst,R&D,,Active',
  '1003,Grace,Hopper,grace@example.com,Rear Admiral,Navy,+1 555 0103,Active',
  '1004,Linus,Torvalds,linus@example.com,Maintainer,Kernel,,Active',
  '1005,Margaret,Hamilton,margaret@example.com,Director,Apollo,,Active',
];

function config(url: string, connection = ''): string {
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
    mobile:         { type: string }
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
      mappings:
        login: app.email
        email: app.email
        employeeNumber: app.employee_id
        firstName: app.first_name
        lastName: app.last_name
        title: app.title
        department: app.department
        mobile: app.mobile
  portal:
    provider: scim
    connection: { url: "${url}", token: "\${env:SCIM_TOKEN}", pageSize: 2${connection} }
    key: userName
    provision:
      match: { app: userName, user: email }
      mappings:
        userName: { value: user.email, on: create }
        externalId: user.employeeNumber
        name.givenName: user.firstName
        name.familyName: user.lastName
        displayName: 'user.firstName + " " + user.lastName'
        title: user.title
        'emails[type eq "work"].value': user.email
        'phoneNumbers[type eq "mobile"].value': user.mobile
        '${ENTERPRISE}:department': user.department
`;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let root: string;
let dir: string;
let server: ScimTestServer;
const outputs: string[] = [];

/** `onStderr` sees the whole stderr so far, each time more arrives (to act at a pause point, and resume the child). */
async function idplane(args: string[], options: { env?: Record<string, string>; onStderr?: (stderr: string, child: ChildProcess) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '-C', dir, ...args], {
      env: { ...process.env, NO_COLOR: '1', SCIM_TOKEN: TOKEN, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      outputs.push(stdout, stderr);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const apply = () => idplane(['apply', '--auto-approve']);
const converged = async () => (await idplane(['plan', '--detailed-exitcode'])).code;

interface ApplyJson {
  complete: boolean;
  accounts: { app: string; key: string; action: string; outcome: string; message?: string }[];
}
async function applyJson(args: string[] = []): Promise<{ run: Run; json: ApplyJson }> {
  const run = await idplane(['apply', ...(args.length > 0 ? args : ['--auto-approve']), '--format', 'json']);
  // Without a plan file, apply prints the plan it made first: the result is the last document.
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  return { run, json: JSON.parse(last) as ApplyJson };
}

async function setup(connection = ''): Promise<void> {
  server = await startScimServer({ token: TOKEN, etag: true });
  root = await mkdtemp(join(tmpdir(), 'idplane-scim-'));
  dir = join(root, 'project');
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'idplane.yaml'), config(server.url, connection));
  await writeHr(HR_ROWS);
}

async function writeHr(rows: string[]): Promise<void> {
  await writeFile(join(dir, 'data/hr.csv'), `${[HR_HEADER, ...rows].join('\n')}\n`);
}

/** Grace already has an account: everything as HR says except her title. */
function seedGrace() {
  return server.seed({
    userName: 'grace@example.com', externalId: '1003', name: { givenName: 'Grace', familyName: 'Hopper' }, displayName: 'Grace Hopper',
    title: 'Commodore', active: true, emails: [{ type: 'work', value: 'grace@example.com' }], phoneNumbers: [{ type: 'mobile', value: '+1 555 0103' }],
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE], [ENTERPRISE]: { department: 'Navy' },
  });
}

const userNames = () => [...server.users.values()].map((u) => u.data.userName as string).sort();
const writes = (since = 0): RecordedRequest[] => server.requests.slice(since).filter((r) => r.method !== 'GET');
const patchesFor = (id: string, since = 0) => writes(since).filter((r) => r.method === 'PATCH' && r.url.endsWith(`/Users/${id}`));

beforeEach(() => {
  outputs.length = 0;
});
afterEach(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
  // Whatever a test did, the token never reached the output.
  for (const text of outputs) expect(text).not.toContain(TOKEN);
});

describe('scim target through the CLI', () => {
  it('creates accounts, links the one that exists instead of duplicating it, and converges', async () => {
    await setup();
    const grace = seedGrace();
    const plan = JSON.parse((await idplane(['plan', '--format', 'json'])).stdout) as { accounts: { action: string; key: string; link: boolean; attributes: Record<string, unknown> }[] };
    const portal = plan.accounts;
    expect(portal.filter((a) => a.action === 'create').map((a) => a.key)).toEqual(['ada@example.com', 'alan@example.com', 'linus@example.com', 'margaret@example.com']);
    expect(portal.find((a) => a.key === 'grace@example.com')).toMatchObject({ action: 'update', link: true, attributes: { title: { from: 'Commodore', to: 'Rear Admiral' } } });

    const run = await apply();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(userNames()).toEqual(['ada@example.com', 'alan@example.com', 'grace@example.com', 'linus@example.com', 'margaret@example.com']);
    expect(server.users.get(grace.id)!.data.title).toBe('Rear Admiral');
    expect(patchesFor(grace.id).map((r) => r.body)).toEqual([
      { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Rear Admiral' }] },
    ]);
    expect(server.byUserName('ada@example.com')!.data).toMatchObject({
      externalId: '1001', name: { givenName: 'Ada', familyName: 'Lovelace' }, displayName: 'Ada Lovelace', title: 'Analyst', active: true,
      emails: [{ type: 'work', value: 'ada@example.com' }], phoneNumbers: [{ type: 'mobile', value: '+44 20 7946 0001' }], [ENTERPRISE]: { department: 'R&D' },
    });
    expect(server.byUserName('alan@example.com')!.data.phoneNumbers).toBeUndefined();
    expect(await converged()).toBe(0);
    expect(server.requests.every((r) => r.authorized)).toBe(true);
  });

  it('day 2: pushes only the changed attributes, disables with active=false, and converges', async () => {
    await setup();
    expect((await apply()).code).toBe(0);
    const ada = server.byUserName('ada@example.com')!;
    const linus = server.byUserName('linus@example.com')!;
    const before = server.requests.length;
    await writeHr(HR_ROWS.map((row) => row
      .replace('Analyst,R&D,+44 20 7946 0001', 'Principal Analyst,R&D,')
      .replace('1004,Linus,Torvalds,linus@example.com,Maintainer,Kernel,,Active', '1004,Linus,Torvalds,linus@example.com,Maintainer,Kernel,,Terminated')));

    const run = await apply();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(patchesFor(ada.id, before).map((r) => r.body)).toEqual([{
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Principal Analyst' }, { op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }],
    }]);
    expect(patchesFor(linus.id, before).map((r) => r.body)).toEqual([
      { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] },
    ]);
    expect(patchesFor(ada.id, before)[0]!.ifMatch).toBe('W/"1"');
    expect(writes(before)).toHaveLength(2);
    expect(server.users.get(linus.id)!.data.active).toBe(false);
    expect(server.users.has(linus.id)).toBe(true);
    expect(server.users.get(ada.id)!.data).toMatchObject({ title: 'Principal Analyst' });
    expect(server.users.get(ada.id)!.data.phoneNumbers).toBeUndefined();
    expect(await converged()).toBe(0);
  });

  it('a 409 uniqueness on create links the account that appeared since the plan', async () => {
    await setup();
    const planFile = join(dir, 'day1.plan.json');
    expect((await idplane(['plan', '--out', planFile])).code).toBe(0);
    const seedMargaret = () => server.seed({ userName: 'margaret@example.com', name: { givenName: 'Maggie', familyName: 'Hamilton' }, active: true });

    // Made while apply runs (after it checked the plan, before it pushes): the 409 links it.
    let margaret: ReturnType<typeof seedMargaret> | null = null;
    const run = await idplane(['apply', planFile, '--format', 'json'], {
      env: { IDPLANE_PAUSE_AT: 'after-directory' },
      onStderr: (text, child) => {
        if (!text.includes('paused at after-directory') || margaret) return;
        margaret = seedMargaret();
        child.kill('SIGUSR2'); // seeded: the apply goes on and pushes
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(margaret).not.toBeNull();
    const json = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ApplyJson;
    expect(json.accounts.find((a) => a.key === 'margaret@example.com')).toMatchObject({ action: 'create', outcome: 'done', message: 'already existed; linked' });
    expect(userNames().filter((n) => n === 'margaret@example.com')).toHaveLength(1);

    const next = JSON.parse((await idplane(['plan', '--format', 'json'])).stdout) as { accounts: { key: string; action: string; link: boolean; attributes: Record<string, unknown> }[] };
    expect(next.accounts).toEqual([expect.objectContaining({ key: 'margaret@example.com', action: 'update', link: false })]);
    expect(Object.keys(next.accounts[0]!.attributes)).toContain('name.givenName');
    expect((await apply()).code).toBe(0);
    expect(server.users.get(margaret!.id)!.data).toMatchObject({ name: { givenName: 'Margaret', familyName: 'Hamilton' }, externalId: '1005' });
    expect(server.users.size).toBe(5);
    expect(await converged()).toBe(0);
  });

  it('an account made in the target after the plan turns its planned create into an update of that account: a data change of the target, applied', async () => {
    await setup();
    const planFile = join(dir, 'day1.plan.json');
    expect((await idplane(['plan', '--out', planFile])).code).toBe(0);
    server.seed({ userName: 'margaret@example.com', name: { givenName: 'Maggie', familyName: 'Hamilton' }, active: true });
    const run = await idplane(['apply', planFile, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ApplyJson & { review: { since: unknown[] } };
    expect(json.review.since).toEqual([{ userId: expect.any(String), login: 'margaret@example.com', why: 'target', changes: 1 }]);
    expect(json.accounts.find((a) => a.key === 'margaret@example.com')).toMatchObject({ action: 'update', outcome: 'done' });
    expect(userNames().filter((n) => n === 'margaret@example.com')).toHaveLength(1);
    expect(await converged()).toBe(0);
  });
});

describe('scim faults through the CLI', () => {
  it('retries a 429 after its Retry-After and succeeds', async () => {
    await setup();
    server.inject({ method: 'POST', body: 'alan@example.com', times: 2, fault: { status: 429, retryAfter: '1', detail: 'slow down' } });
    const run = await apply();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(userNames()).toHaveLength(5);
    const posts = server.requests.filter((r) => r.method === 'POST' && JSON.stringify(r.body).includes('alan@example.com'));
    expect(posts).toHaveLength(3);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(posts[2]!.at - posts[1]!.at).toBeGreaterThanOrEqual(950);
    expect(await converged()).toBe(0);
  });

  it('reports a 500 that outlasts the retries for its user with the detail while the others succeed; exit 1; the next apply converges', async () => {
    await setup();
    server.inject({ method: 'POST', body: 'alan@example.com', times: 5, fault: { status: 500, detail: 'directory backend unavailable', scimType: 'invalidValue' } });
    const run = await apply();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ failed create portal/alan@example.com: POST /Users failed: HTTP 500 (scimType invalidValue): directory backend unavailable (5 attempts, each started again from a lookup)');
    expect(run.stdout).toContain('Accounts: 4 done, 0 skipped, 1 failed.');
    expect(userNames()).toEqual(['ada@example.com', 'grace@example.com', 'linus@example.com', 'margaret@example.com']);
    const retry = await apply();
    expect(retry.code, retry.stdout).toBe(0);
    expect(userNames()).toHaveLength(5);
    expect(await converged()).toBe(0);
  });

  it('reports malformed JSON from the server as a failure of that user only', async () => {
    await setup();
    expect((await apply()).code).toBe(0);
    await writeHr(HR_ROWS.map((row) => row.replace('Cryptanalyst', 'Mathematician').replace('Rear Admiral', 'Admiral')));
    const alan = server.byUserName('alan@example.com')!;
    server.inject({ method: 'PATCH', url: alan.id, fault: { malformed: true } });
    const { run, json } = await applyJson();
    expect(run.code).toBe(1);
    expect(json.accounts.find((a) => a.key === 'alan@example.com')).toMatchObject({
      outcome: 'failed', message: expect.stringMatching(/^PATCH \/Users\/[\w-]+: HTTP 200 with a body that is not valid JSON/),
    });
    expect(json.accounts.find((a) => a.key === 'grace@example.com')).toMatchObject({ outcome: 'done' });
    expect(server.users.get(alan.id)!.data.title).toBe('Cryptanalyst');
    expect((await apply()).code).toBe(0);
    expect(server.users.get(alan.id)!.data.title).toBe('Mathematician');
    expect(await converged()).toBe(0);
  });

  it('fails a create that stays slower than timeoutMs after its retries; state stays intact and the re-run converges without a duplicate', async () => {
    await setup(', timeoutMs: 800, retries: 1');
    server.inject({ method: 'POST', body: 'alan@example.com', times: 10, fault: { delayMs: 4000 } });
    const { run, json } = await applyJson();
    expect(run.code).toBe(1);
    expect(json.accounts.find((a) => a.key === 'alan@example.com')).toMatchObject({
      outcome: 'failed', message: expect.stringContaining('POST /Users: no answer within 800 ms (timeoutMs)'),
    });
    expect(json.accounts.filter((a) => a.outcome === 'done')).toHaveLength(4);
    const state = await idplane(['state', 'list']);
    expect(state.code).toBe(0);
    expect(state.stdout).toContain('alan@example.com');

    // The slow server carries the POSTs out late: the first creates the account, the second gets a 409.
    for (let i = 0; i < 100 && !server.byUserName('alan@example.com'); i++) await new Promise((r) => setTimeout(r, 100));
    server.clearFaults();
    const plan = JSON.parse((await idplane(['plan', '--format', 'json'])).stdout) as { accounts: { key: string; action: string }[] };
    expect(plan.accounts).toEqual([expect.objectContaining({ key: 'alan@example.com', action: 'link' })]);
    expect((await apply()).code).toBe(0);
    expect(userNames().filter((n) => n === 'alan@example.com')).toHaveLength(1);
    expect(await converged()).toBe(0);
  });

  it('never lets the token into stdout, stderr, the plan or the state, even when the server echoes it', async () => {
    await setup();
    server.inject({ method: 'POST', body: 'ada@example.com', times: 5, fault: { status: 500, detail: `rejected Authorization: Bearer ${TOKEN}` } });
    const planFile = join(dir, 'plan.json');
    expect((await idplane(['plan', '--out', planFile])).code).toBe(0);
    expect((await idplane(['plan'])).code).toBe(0);
    expect((await idplane(['plan', '--format', 'json'])).code).toBe(0);
    const run = await idplane(['apply', planFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('rejected Authorization: Bearer ***');
    const files = [planFile, ...(await readdir(join(dir, '.idplane'), { recursive: true })).map((f) => join(dir, '.idplane', f))];
    for (const file of files) {
      const text = await readFile(file).then((b) => b.toString('latin1'), () => '');
      expect(text, file).not.toContain(TOKEN);
    }
    expect(server.requests.every((r) => r.authorized)).toBe(true);
  });
});
