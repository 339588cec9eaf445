/**
 * Transient faults and dead targets during apply, through the real CLI, against a real SCIM server
 * (scimmy, with injected faults) and a real slapd that is killed mid-run, next to a CSV target. What
 * must hold: one apply absorbs transient faults; a target that dies stops with one message (circuit
 * breaker) while the others finish; a re-run converges; never a duplicate, nothing lost.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ldapts';
import { afterEach, describe, expect, it } from 'vitest';
import { idplaneAsync, type RunResult } from './cli-helpers.ts';
import { startScimServer, type ScimTestServer } from './servers/scim-server.ts';
import { ADMIN_DN, ADMIN_PASSWORD, startSlapd, SUFFIX, type SlapdServer } from './servers/slapd.ts';

const TOKEN = 'faults-token-3f9c-never-logged';
const PEOPLE = `ou=people,${SUFFIX}`;

let root: string;
let dir: string;
let scim: ScimTestServer | null = null;
let slapd: SlapdServer | null = null;

afterEach(async () => {
  await scim?.close();
  await slapd?.stop();
  scim = null;
  slapd = null;
  await rm(root, { recursive: true, force: true });
});

const HR = (n: number) => ['employee_id,first_name,last_name,email',
  ...Array.from({ length: n }, (_, i) => `${1000 + i},First${i},Last${i},user${i}@example.com`)].join('\n') + '\n';

function target(name: string, body: string): string {
  return `  ${name}:\n${body.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n')}`;
}

async function project(users: number, targets: string[]): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'idplane-faults-'));
  dir = join(root, 'project');
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'data/hr.csv'), HR(users));
  await writeFile(join(dir, 'idplane.yaml'), `version: 1
directory:
  attributes:
    login:     { type: string, required: true, unique: true }
    firstName: { type: string, required: true }
    lastName:  { type: string, required: true }
profileSources: [hr]
apps:
  hr:
    provider: csv
    connection: { path: data/hr.csv }
    key: employee_id
    import:
      onNoMatch: create
      newUserStatus: ACTIVE
      mappings: { login: app.email, firstName: app.first_name, lastName: app.last_name }
  ledger:
    provider: csv
    connection: { path: data/ledger.csv }
    key: login
    provision:
      mappings: { login: user.login, name: 'user.firstName + " " + user.lastName' }
${targets.join('\n')}
`);
}

const scimTarget = (url: string, connection = '') => target('portal', `provider: scim
connection: { url: "${url}", token: "\${env:SCIM_TOKEN}"${connection} }
key: userName
provision:
  mappings:
    userName: { value: user.login, on: create }
    name.givenName: user.firstName
    name.familyName: user.lastName
`);

const ldapTarget = (url: string) => target('directory', `provider: ldap
connection: { url: "${url}", bindDN: "${ADMIN_DN}", password: "\${env:LDAP_PASSWORD}", baseDN: "${PEOPLE}", timeoutMs: 2000 }
key: uid
provision:
  objectClasses: [inetOrgPerson]
  dn: { rdn: uid, parent: '"${PEOPLE}"' }
  status: { attribute: employeeType, enabled: active, disabled: disabled }
  mappings:
    uid: 'substringBefore(user.login, "@")'
    cn: 'user.firstName + " " + user.lastName'
    sn: user.lastName
`);

const env = { SCIM_TOKEN: TOKEN, LDAP_PASSWORD: ADMIN_PASSWORD };
const run = (...args: string[]): Promise<RunResult> => idplaneAsync(dir, args, { env });
const ledgerRows = async () => (await readFile(join(dir, 'data/ledger.csv'), 'utf8')).trim().split('\n').length - 1;

function expectNoDuplicates(names: string[], expected: number): void {
  expect(names).toHaveLength(expected);
  expect(new Set(names).size).toBe(expected);
}

describe('a SCIM target down when the plan runs', () => {
  it('is not planned, with the reason; the CSV target and the directory are; once it is back the next plan plans it', async () => {
    scim = await startScimServer({ token: TOKEN });
    const url = scim.url;
    await scim.close();
    scim = null;
    await project(30, [scimTarget(url)]);
    const planned = await run('plan', '--format', 'json');
    expect(planned.code).toBe(4);
    const plan = JSON.parse(planned.stdout) as { notPlanned: { app: string; reason: string }[]; users: unknown[]; accounts: { app: string }[] };
    expect(plan.notPlanned).toEqual([expect.objectContaining({ app: 'portal', role: 'target', reason: expect.stringMatching(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/) })]);
    expect(plan.users).toHaveLength(30);
    expect(plan.accounts.filter((a) => a.app === 'ledger')).toHaveLength(30);
    expect(plan.accounts.filter((a) => a.app === 'portal')).toHaveLength(0);
    const applied = await run('apply', '--auto-approve');
    expect(applied.code).toBe(4);
    expect(await ledgerRows()).toBe(30);

    // Back, on another port: the config says where.
    scim = await startScimServer({ token: TOKEN });
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace(url, scim.url));
    const again = await run('apply', '--auto-approve');
    expect(again.code, again.stdout.slice(-1500)).toBe(0);
    expectNoDuplicates([...scim.users.values()].map((u) => u.data.userName as string), 30);
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);
  });
});

describe('SCIM faults during apply', () => {
  it('absorbs 429s with Retry-After, 500s, resets mid-answer and answers past the timeout in one apply: no duplicate, nothing lost', async () => {
    scim = await startScimServer({ token: TOKEN });
    await project(150, [scimTarget(scim.url, ', timeoutMs: 600')]);
    const many = 100_000;
    scim.inject({ method: 'POST', chance: 0.1, seed: 1, times: many, fault: { status: 429, retryAfter: '1', detail: 'slow down' } });
    scim.inject({ method: 'POST', chance: 0.11, seed: 2, times: many, fault: { status: 500, detail: 'backend hiccup' } });
    scim.inject({ method: 'POST', chance: 0.05, seed: 3, times: many, fault: { reset: true } });
    scim.inject({ method: 'POST', chance: 0.03, seed: 4, times: many, fault: { delayMs: 1500 } });
    scim.inject({ method: 'GET', url: 'filter', chance: 0.1, seed: 5, times: many, fault: { status: 500, detail: 'lookup hiccup' } });

    const applied = await run('apply', '--auto-approve');
    expect(applied.code, applied.stdout.slice(-2000) + applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Accounts: 300 done, 0 skipped, 0 failed.');
    // Every kind of fault was met, and the POSTs it cost were re-checked, not blindly repeated.
    const posts = scim.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(150 * 1.2);

    // Answers held past the timeout land late: the server's uniqueness turns any second POST into a 409.
    await new Promise((r) => setTimeout(r, 1600));
    scim.clearFaults();
    expectNoDuplicates([...scim.users.values()].map((u) => u.data.userName as string), 150);
    expect(await ledgerRows()).toBe(150);
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('stops a server that fails every request with one message (circuit breaker); the CSV target finishes; the re-run converges', async () => {
    scim = await startScimServer({ token: TOKEN });
    await project(200, [scimTarget(scim.url, ', breakAfter: 10')]);
    // The plan reads the server as usual; apply's first 20 creates go through, then every connection is cut.
    const accepted = 20;
    let creates = 0;
    const server = scim;
    scim.inject({ method: 'POST', times: accepted, fault: { run: () => {
      if (++creates === accepted) server.inject({ times: 1_000_000, fault: { delayMs: 0, pass: false } });
    } } });

    const applied = await run('apply', '--auto-approve');
    expect(applied.code).toBe(1);
    const failures = applied.stdout.split('\n').filter((l) => l.includes('✗'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/✗ failed 180 changes of portal \(create .*\): not attempted: portal failed 10 requests in a row, so idplane stopped sending it more in this run \(last: .*\); the other apps went on/);
    // Stopped, not hammered: a few requests per change in flight when it opened, not five per change.
    const afterCut = scim.requests.length - scim.requests.findIndex((r) => r.method === 'POST') - accepted;
    expect(afterCut).toBeLessThan(100);
    expect(await ledgerRows()).toBe(200);
    expect(applied.stdout + applied.stderr).not.toContain(TOKEN);

    scim.clearFaults();
    const again = await run('apply', '--auto-approve');
    expect(again.code, again.stdout.slice(-1500)).toBe(0);
    expectNoDuplicates([...scim.users.values()].map((u) => u.data.userName as string), 200);
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);
  }, 240_000);
});

describe('an LDAP server killed mid-apply', () => {
  async function entries(client: Client): Promise<string[]> {
    const { searchEntries } = await client.search(PEOPLE, { scope: 'one', filter: '(uid=*)', attributes: ['uid'] });
    return searchEntries.map((e) => String(e.uid));
  }

  it('fails its remaining changes with one message while the CSV target finishes; after a restart the re-run converges with no duplicate', async () => {
    slapd = await startSlapd();
    const admin = await slapd.client();
    await admin.add(PEOPLE, { objectClass: ['organizationalUnit'], ou: 'people' });
    await admin.unbind();
    const users = 5000;
    await project(users, [ldapTarget(slapd.url)]);

    const applying = run('apply', '--auto-approve');
    // Kill the server once the first entries are in (the target takes about a second for 5,000).
    const probe = await slapd.client();
    const started = Date.now();
    for (;;) {
      const { searchEntries } = await probe.search(PEOPLE, { scope: 'one', filter: '(uid=*)', attributes: ['uid'], sizeLimit: 1 });
      if (searchEntries.length > 0) break;
      if (Date.now() - started > 60_000) throw new Error('apply never reached the ldap target');
      await new Promise((r) => setTimeout(r, 2));
    }
    await slapd.kill();
    await probe.unbind().catch(() => {});
    const applied = await applying;
    expect(applied.code, applied.stdout.slice(-3000) + applied.stderr).toBe(1);
    const failures = applied.stdout.split('\n').filter((l) => l.includes('✗'));
    expect(failures.length, failures.join('\n')).toBeLessThanOrEqual(2);
    expect(applied.stdout).toMatch(/✗ failed \d+ changes of directory \(create .*\): not attempted: directory failed 25 requests in a row/);
    expect(await ledgerRows()).toBe(users);

    await slapd.restart();
    const again = await run('apply', '--auto-approve');
    expect(again.code, again.stdout.slice(-1500)).toBe(0);
    const client = await slapd.client();
    try {
      expectNoDuplicates(await entries(client), users);
    } finally {
      await client.unbind();
    }
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);
  }, 240_000);
});
