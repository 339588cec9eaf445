/**
 * The ldap provider against a real OpenLDAP server (test/servers/slapd.ts), no mocks: paged and
 * incremental import, TLS, hostile values in filters and DNs, and provisioning through the real CLI
 * (a CSV HR source → an ldap target): create, partial modify, disable, rename, move, bind failures.
 * Without slapd the suite is skipped with a warning, except under CI, where it fails.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { Attribute, Change, type Client, type Entry } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LdapApp } from '../schemas/generated/config.ts';
import { buildDn, escapeFilterValue, parseDn, sameDn } from '../reconciler/ldap-escape.ts';
import { readLdapAccounts } from '../providers/ldap/read.ts';
import { applyLdapTarget } from '../providers/ldap/write.ts';
import type { AccountChange } from '../schemas/generated/plan.ts';
import { AD_DISABLED } from '../engine/config/semantics.ts';
import { validate, validationProblems } from '../engine/config/test-helpers.ts';
import { idplane } from './cli-helpers.ts';
import { ADMIN_DN, ADMIN_PASSWORD, findSlapd, startSlapd, SUFFIX, type SlapdServer } from './servers/slapd.ts';

const SLAPD = findSlapd();
const RUN = SLAPD !== null || Boolean(process.env.CI);
if (!RUN) console.warn('test/ldap.test.ts: slapd is not installed, so the LDAP tests are skipped (apt-get install slapd ldap-utils; .ci/run installs it)');

const PEOPLE = `ou=people,${SUFFIX}`;
const STAFF = `ou=staff,${SUFFIX}`;
const SEEDED = 2500;

let server: SlapdServer;
let admin: Client;
let work: string;

async function addOu(dn: string): Promise<void> {
  await admin.add(dn, { objectClass: ['organizationalUnit'], ou: parseDn(dn)[0]![0]!.value });
}

async function find(base: string, filter: string, attributes: string[] = ['*', 'modifyTimestamp']): Promise<Entry[]> {
  return (await admin.search(base, { filter, attributes })).searchEntries;
}

function peopleApp(extra: Partial<LdapApp['connection']> = {}, imp?: LdapApp['import']): LdapApp {
  return {
    provider: 'ldap', key: 'uid',
    connection: { url: server.url, bindDN: ADMIN_DN, password: ADMIN_PASSWORD, baseDN: PEOPLE, ...extra },
    import: imp ?? { mappings: { login: 'app.mail', title: 'app.title' } },
  };
}

describe('ldap config (no server needed)', () => {
  const config = (app: string) => `version: 1
directory: { attributes: { login: { type: string, required: true, unique: true }, lastName: { type: string } } }
apps:
${app}`;

  it('an Active Directory import defaults import.disabled to the ACCOUNTDISABLE bit of userAccountControl', async () => {
    const outcome = await validate({ 'idplane.yaml': config(`  ad:
    provider: ldap
    connection: { url: "ldaps://dc.example.com", baseDN: "dc=example,dc=com", flavor: ad }
    key: objectGUID
    import: { mappings: { login: app.userPrincipalName } }
`) });
    if (!outcome.ok) throw new Error(JSON.stringify(outcome.problems));
    const disabled = outcome.project.apps.ad!.import!.disabled!;
    expect(disabled.text).toBe(AD_DISABLED);
    expect([512, 514, 66048, 66050, 546].map((uac) => disabled.evaluate({ app: { userAccountControl: String(uac) } }))).toEqual([false, true, false, true, true]);
  });

  it('checks provision.dn: ldap only, needed to create, a mapped RDN attribute, a parent that compiles', async () => {
    const problems = await validationProblems({ 'idplane.yaml': config(`  csvapp:
    provider: csv
    connection: { path: x.csv }
    provision: { dn: { rdn: id, parent: '"dc=x"' }, mappings: { id: user.login } }
  nodn:
    provider: ldap
    connection: { url: "ldap://x", baseDN: "dc=x" }
    key: uid
    provision: { status: { attribute: description }, mappings: { uid: user.login } }
  badrdn:
    provider: ldap
    connection: { url: "ldap://x", baseDN: "dc=x" }
    key: uid
    provision: { status: { attribute: description }, dn: { rdn: cn, parent: 'user.nope(' }, mappings: { uid: user.login } }
`) });
    const text = problems.map((p) => `${p.pointer}: ${p.message}`).join('\n');
    expect(text).toContain('/apps/csvapp/provision/dn: provision.dn only applies to ldap apps; csvapp is csv');
    expect(text).toContain('/apps/nodn/provision: an ldap target that creates entries needs provision.dn');
    expect(text).toContain('/apps/badrdn/provision/dn/rdn: the RDN attribute "cn" must be mapped');
    expect(text).toMatch(/\/apps\/badrdn\/provision\/dn\/parent: CEL expression does not compile/);
  });
});

describe.skipIf(!RUN)('ldap provider against a real slapd', () => {
  beforeAll(async () => {
    if (!SLAPD) throw new Error('slapd is not installed and CI is set: the LDAP tests need it (apt-get install slapd ldap-utils, as .ci/run does)');
    server = await startSlapd({ tls: true });
    admin = await server.client();
    for (const ou of [PEOPLE, STAFF, `ou=eng,${STAFF}`, `ou=sales,${STAFF}`]) await addOu(ou);
    await server.addPeople(PEOPLE, SEEDED);
    work = await mkdtemp(join(tmpdir(), 'idplane-ldap-'));
  });

  afterAll(async () => {
    await admin?.unbind().catch(() => {});
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('import', () => {
    it('reads a few thousand entries in pages of 200, as flat string maps keyed by uid, fingerprinted in DN order', async () => {
      const pages: number[] = [];
      const snapshot = await readLdapAccounts({ app: 'people', config: peopleApp({ pageSize: 200 }), key: 'uid', dir: work, onProgress: (n) => pages.push(n) });
      expect(snapshot.accounts).toHaveLength(SEEDED);
      expect(snapshot.rowErrors).toEqual([]);
      expect(pages).toHaveLength(Math.ceil(SEEDED / 200));
      expect(pages.at(-1)).toBe(SEEDED);
      expect(snapshot.partial).toBeUndefined();
      expect(snapshot.accounts.find((a) => a.key === 'u00042')).toEqual({
        key: 'u00042', attributes: { uid: 'u00042', mail: 'u00042@example.com', title: 'Engineer', dn: `uid=u00042,${PEOPLE}` },
      });
      const again = await readLdapAccounts({ app: 'people', config: peopleApp({ pageSize: 1000 }), key: 'uid', dir: work });
      expect(again.fingerprint).toBe(snapshot.fingerprint);
      expect(again.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('reports entries without the key attribute as row errors naming the DN', async () => {
      const snapshot = await readLdapAccounts({ app: 'people', config: peopleApp({ filter: '(|(uid=u00001)(uid=u00002))' }), key: 'employeeNumber', dir: work });
      expect(snapshot.accounts).toEqual([]);
      expect(snapshot.rowErrors).toEqual([
        { line: 0, message: `entry uid=u00001,${PEOPLE} has no employeeNumber value` },
        { line: 0, message: `entry uid=u00002,${PEOPLE} has no employeeNumber value` },
      ]);
    });

    it('incremental by modifyTimestamp: after a full import, only the entry modified since and those at the watermark come back, marked partial', async () => {
      const imp = { mode: 'incremental' as const, watermark: 'modifyTimestamp', mappings: { login: 'app.mail' } };
      const config = peopleApp({ pageSize: 500 }, imp);
      const full = await readLdapAccounts({ app: 'people', config, key: 'uid', dir: work, incremental: { attribute: 'modifyTimestamp', stored: null } });
      expect(full.accounts).toHaveLength(SEEDED);
      expect(full.partial).toBe(true);
      const stored = full.accounts.map((a) => a.attributes.modifyTimestamp!).sort().at(-1)!;
      expect(stored).toMatch(/^\d{14}Z$/);
      // modifyTimestamp has one-second resolution: change the entry in a later second than the watermark.
      while (new Date().toISOString().replace(/\D/g, '').slice(0, 14) <= stored.slice(0, 14)) await new Promise((r) => setTimeout(r, 100));
      await admin.modify(`uid=u00042,${PEOPLE}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Manager'] }) }));

      const changed = await readLdapAccounts({ app: 'people', config, key: 'uid', dir: work, incremental: { attribute: 'modifyTimestamp', stored } });
      expect(changed.partial).toBe(true);
      // The modified entry, plus the entries written in the watermark's own second: they are read again,
      // since a change in that second after the last read must not be lost. Nothing older comes back.
      const atWatermark = full.accounts.filter((a) => a.attributes.modifyTimestamp === stored).map((a) => a.key);
      expect(changed.accounts.map((a) => a.key).sort()).toEqual([...new Set(['u00042', ...atWatermark])].sort());
      expect(changed.accounts.find((a) => a.key === 'u00042')!.attributes.modifyTimestamp! > stored).toBe(true);
      expect(changed.accounts.every((a) => a.attributes.modifyTimestamp! >= stored)).toBe(true);
    });

    it('connects over ldaps:// and StartTLS with tls.ca relative to the config, and refuses an unknown CA', async () => {
      await copyFile(server.caFile!, join(work, 'ca.pem'));
      const ldaps = await readLdapAccounts({ app: 'people', config: peopleApp({ url: server.ldapsUrl!, tls: { ca: 'ca.pem' }, filter: '(uid=u0000*)' }), key: 'uid', dir: work });
      expect(ldaps.accounts).toHaveLength(9);
      const startTls = await readLdapAccounts({ app: 'people', config: peopleApp({ startTLS: true, tls: { ca: 'ca.pem', servername: 'localhost' }, filter: '(uid=u0000*)' }), key: 'uid', dir: work });
      expect(startTls.accounts).toHaveLength(9);
      await expect(readLdapAccounts({ app: 'people', config: peopleApp({ url: server.ldapsUrl! }), key: 'uid', dir: work }))
        .rejects.toThrow(`people: cannot connect to ${server.ldapsUrl}: self-signed certificate in certificate chain`);
    });

    it('a wrong password is a clear error naming the app, the server and the bind DN, never the password', async () => {
      const error = await readLdapAccounts({ app: 'people', config: peopleApp({ password: 'not-the-Secret-42' }), key: 'uid', dir: work }).catch((e: Error) => e);
      expect((error as Error).message).toBe(`people: cannot bind to ${server.url} as ${ADMIN_DN}: invalid credentials (LDAP result 49)`);
      expect((error as Error).message).not.toContain('not-the-Secret-42');
    });
  });

  describe('target writes', () => {
    const change = (action: AccountChange['action'], key: string, extra: Partial<AccountChange> = {}): AccountChange =>
      ({ action, app: 'people', key, userId: 'u', login: 'l', attributes: {}, link: false, reason: 'test', ...extra });
    const target = (): LdapApp => ({ ...peopleApp(), provision: { mappings: { uid: 'user.login' }, delete: true } });

    it('deletes an entry only for a delete, fails a change whose entry is gone or whose key is not unique', async () => {
      await server.addPeople(PEOPLE, 1, 90001);
      await admin.add(`cn=Dup,${PEOPLE}`, { objectClass: ['inetOrgPerson'], cn: 'Dup', sn: 'Dup', uid: 'u00007' });
      const results = await applyLdapTarget({ app: 'people', config: target(), key: 'uid', dir: work }, [
        change('delete', 'u90001'),
        change('link', 'nobody'),
        change('update', 'u00007', { attributes: { title: { from: 'Analyst', to: 'X' } } }),
      ]);
      expect(results.map((r) => [r.key, r.outcome])).toEqual([['u90001', 'done'], ['nobody', 'failed'], ['u00007', 'failed']]);
      expect(results[1]!.message).toBe(`no entry with uid=nobody under ${PEOPLE} any more`);
      expect(results[2]!.message).toContain('2 entries have uid=u00007');
      expect(await find(PEOPLE, '(uid=u90001)')).toEqual([]);
      expect((await find(PEOPLE, '(uid=u00007)')).map((e) => e.title ?? '').sort()).toEqual(['', 'Analyst']);
      await admin.del(`cn=Dup,${PEOPLE}`);
    });
  });

  describe('provisioning through the CLI (CSV HR → ldap)', () => {
    let dir: string;
    const hostile = { id: 'E9*)(uid=*', first: 'Evil *)(uid=*', last: ',+"\\' };
    const hostileCn = `${hostile.first} ${hostile.last}`;
    const env = () => ({ LDAP_URL: server.url, LDAP_PASSWORD: ADMIN_PASSWORD });
    const run = (...args: string[]) => idplane(dir, args, { env: env() });

    type Person = { id: string; first: string; last: string; dept: string; title: string; status: string };
    let people: Person[];
    const writeHr = async () => writeFile(join(dir, 'hr.csv'), stringify([
      ['employee_id', 'first_name', 'last_name', 'email', 'department', 'title', 'status'],
      ...people.map((p) => [p.id, p.first, p.last, `${p.first.replace(/\W/g, '').toLowerCase() || 'x'}.${p.id.replace(/\W/g, '')}@example.com`, p.dept, p.title, p.status]),
    ]));
    const person = (id: string) => people.find((p) => p.id === id)!;
    const entryOf = async (uid: string) => {
      const found = await find(STAFF, `(uid=${escapeFilterValue(uid)})`);
      expect(found).toHaveLength(1);
      return found[0]!;
    };
    const applyOk = () => {
      const r = run('apply', '--auto-approve');
      expect(r.stderr).not.toMatch(/failed|error/i);
      expect(r.code).toBe(0);
      return r;
    };

    beforeAll(async () => {
      dir = join(work, 'project');
      await rm(dir, { recursive: true, force: true });
      await (await import('node:fs/promises')).mkdir(dir);
      people = [
        { id: '1001', first: 'Ann', last: 'Lee', dept: 'Engineering', title: 'Engineer', status: 'Active' },
        { id: '1002', first: 'Bob', last: 'Ray', dept: 'Sales', title: 'Account Executive', status: 'Active' },
        { id: '1003', first: 'Evil', last: 'Twin', dept: 'Sales', title: 'Decoy', status: 'Active' },
        { ...hostile, dept: 'Engineering', title: 'Tester', status: 'Active' },
      ];
      await writeHr();
      await writeFile(join(dir, 'idplane.yaml'), `version: 1
directory:
  attributes:
    login:          { type: string, required: true, unique: true }
    employeeNumber: { type: string, unique: true }
    firstName:      { type: string }
    lastName:       { type: string }
    department:     { type: string }
    title:          { type: string }
profileSources: [hr]
safeguards: { deactivateUsers: "100%", disableAccounts: "100%" }
apps:
  hr:
    provider: csv
    connection: { path: hr.csv }
    key: employee_id
    import:
      newUserStatus: ACTIVE
      disabled: 'app.status == "Terminated"'
      reactivate: { deactivated: true }
      mappings:
        login: app.email
        employeeNumber: app.employee_id
        firstName: app.first_name
        lastName: app.last_name
        department: app.department
        title: app.title
  directory:
    provider: ldap
    connection:
      url: \${env:LDAP_URL}
      bindDN: ${ADMIN_DN}
      password: \${env:LDAP_PASSWORD}
      baseDN: ${STAFF}
      pageSize: 2
    key: uid
    provision:
      status: { attribute: description, enabled: active, disabled: disabled }
      dn:
        rdn: cn
        parent: 'user.department == "Sales" ? "ou=sales,${STAFF}" : "ou=eng,${STAFF}"'
      objectClasses: [inetOrgPerson]
      mappings:
        uid: user.employeeNumber
        cn: user.firstName + " " + user.lastName
        sn: user.lastName
        givenName: user.firstName
        mail: user.login
        title: user.title
`);
    });

    it('validate refuses an OpenLDAP target that disables without provision.status', async () => {
      const other = join(work, 'no-status');
      await (await import('node:fs/promises')).mkdir(other, { recursive: true });
      await writeFile(join(other, 'idplane.yaml'), `version: 1
directory: { attributes: { login: { type: string, required: true, unique: true } } }
apps:
  d:
    provider: ldap
    connection: { url: "ldap://127.0.0.1:1", baseDN: "${STAFF}" }
    key: uid
    provision:
      dn: { rdn: uid, parent: '"${STAFF}"' }
      mappings: { uid: user.login }
`);
      const r = idplane(other, ['validate']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('OpenLDAP has no standard enabled flag: set provision.status');
    });

    it('creates the entries at escaped DNs under the parent the config computes', async () => {
      const plan = JSON.parse(run('plan', '--format', 'json').stdout) as { accounts: { action: string; key: string; dn?: string }[] };
      expect(plan.accounts.filter((a) => a.action === 'create').map((a) => [a.key, a.dn]).sort()).toEqual([
        ['1001', `cn=Ann Lee,ou=eng,${STAFF}`],
        ['1002', `cn=Bob Ray,ou=sales,${STAFF}`],
        ['1003', `cn=Evil Twin,ou=sales,${STAFF}`],
        [hostile.id, `cn=Evil *)(uid\\=* \\,\\+\\"\\5c,ou=eng,${STAFF}`],
      ]);
      applyOk();
      const ann = await entryOf('1001');
      expect(sameDn(ann.dn, `cn=Ann Lee,ou=eng,${STAFF}`)).toBe(true);
      expect(ann).toMatchObject({ cn: 'Ann Lee', sn: 'Lee', givenName: 'Ann', title: 'Engineer', description: 'active', objectClass: 'inetOrgPerson' });
      expect(run('plan', '--detailed-exitcode').code).toBe(0);
    });

    it('hostile values: the DN is escaped, and an exact filter finds that entry and no other', async () => {
      const evil = await entryOf(hostile.id);
      expect(evil.cn).toBe(hostileCn);
      expect(parseDn(evil.dn)[0]).toEqual([{ type: 'cn', value: hostileCn }]);
      expect(sameDn(evil.dn, buildDn('cn', hostileCn, `ou=eng,${STAFF}`))).toBe(true);
      const exact = await find(STAFF, `(cn=${escapeFilterValue(hostileCn)})`);
      expect(exact.map((e) => e.uid)).toEqual([hostile.id]);
      // Unescaped, the same text is a wildcard that matches the decoy too: escaping is what keeps it exact.
      expect((await find(STAFF, '(cn=Evil *)')).map((e) => e.uid).sort()).toEqual(['1003', hostile.id].sort());
      expect(await find(STAFF, `(uid=${escapeFilterValue('*')})`)).toEqual([]);
    });

    it('updates only the changed attributes: a value set by hand on an unmapped attribute survives', async () => {
      const ann = await entryOf('1001');
      await admin.modify(ann.dn, new Change({ operation: 'add', modification: new Attribute({ type: 'telephoneNumber', values: ['+1 555 0100'] }) }));
      person('1001').title = 'Staff Engineer';
      person(hostile.id).title = 'Senior Tester';
      await writeHr();
      const plan = JSON.parse(run('plan', '--format', 'json').stdout) as { accounts: { action: string; key: string; attributes: object }[] };
      expect(plan.accounts.map((a) => [a.key, a.action, a.attributes]).sort()).toEqual([
        ['1001', 'update', { title: { from: 'Engineer', to: 'Staff Engineer' } }],
        [hostile.id, 'update', { title: { from: 'Tester', to: 'Senior Tester' } }],
      ]);
      applyOk();
      expect(await entryOf('1001')).toMatchObject({ title: 'Staff Engineer', telephoneNumber: '+1 555 0100', cn: 'Ann Lee', description: 'active' });
      expect((await entryOf(hostile.id)).title).toBe('Senior Tester');
    });

    it('compare-and-set: a value changed in the directory since the plan is skipped, not overwritten', async () => {
      person('1002').title = 'Sales Director';
      await writeHr();
      const planFile = join(dir, 'race.plan.json');
      expect(run('plan', '--out', planFile, '--detailed-exitcode').code).toBe(2);
      const bob = await entryOf('1002');
      await admin.modify(bob.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Changed By Hand'] }) }));
      const r = run('apply', planFile, '--auto-approve');
      expect(r.stdout + r.stderr).toContain('changed in directory since the plan: title');
      expect((await entryOf('1002')).title).toBe('Changed By Hand');
      // The next plan starts from what is there now, and converges.
      applyOk();
      expect((await entryOf('1002')).title).toBe('Sales Director');
    });

    it('renames the entry when the RDN value changes, and moves it when the parent changes', async () => {
      person('1001').last = 'Smith';
      await writeHr();
      const plan = JSON.parse(run('plan', '--format', 'json').stdout) as { accounts: { key: string; action: string; dn?: string; attributes: object }[] };
      expect(plan.accounts).toEqual([expect.objectContaining({
        key: '1001', action: 'update', dn: `cn=Ann Smith,ou=eng,${STAFF}`,
        attributes: { cn: { from: 'Ann Lee', to: 'Ann Smith' }, sn: { from: 'Lee', to: 'Smith' } },
      })]);
      applyOk();
      let ann = await entryOf('1001');
      expect(sameDn(ann.dn, `cn=Ann Smith,ou=eng,${STAFF}`)).toBe(true);
      expect(ann).toMatchObject({ cn: 'Ann Smith', sn: 'Smith', telephoneNumber: '+1 555 0100' });
      expect(await find(STAFF, '(cn=Ann Lee)')).toEqual([]);

      person('1001').dept = 'Sales';
      person(hostile.id).dept = 'Sales';
      await writeHr();
      applyOk();
      ann = await entryOf('1001');
      expect(sameDn(ann.dn, `cn=Ann Smith,ou=sales,${STAFF}`)).toBe(true);
      expect(ann).toMatchObject({ title: 'Staff Engineer', telephoneNumber: '+1 555 0100' });
      const evil = await entryOf(hostile.id);
      expect(sameDn(evil.dn, buildDn('cn', hostileCn, `ou=sales,${STAFF}`))).toBe(true);
      expect(run('plan', '--detailed-exitcode').code).toBe(0);
    });

    it('disables a terminated user by the configured status value, and enables them again', async () => {
      person('1002').status = 'Terminated';
      await writeHr();
      const plan = JSON.parse(run('plan', '--format', 'json').stdout) as { accounts: { key: string; action: string }[] };
      expect(plan.accounts.map((a) => [a.key, a.action])).toEqual([['1002', 'disable']]);
      applyOk();
      const bob = await entryOf('1002');
      expect(bob).toMatchObject({ description: 'disabled', title: 'Sales Director', cn: 'Bob Ray' });
      expect(run('plan', '--detailed-exitcode').code).toBe(0);
      expect(await find(STAFF, '(uid=1002)')).toHaveLength(1); // disabled, never deleted

      person('1002').status = 'Active';
      await writeHr();
      const back = JSON.parse(run('plan', '--format', 'json').stdout) as { accounts: { key: string; action: string }[] };
      expect(back.accounts.map((a) => [a.key, a.action])).toEqual([['1002', 'enable']]);
      applyOk();
      expect(await entryOf('1002')).toMatchObject({ description: 'active', title: 'Sales Director' });
      expect(run('plan', '--detailed-exitcode').code).toBe(0);
    });

    it('after a crash between writing the entry and recording it, the next plan links the entry, never creates it twice', async () => {
      people.push({ id: '1005', first: 'Cy', last: 'Crash', dept: 'Engineering', title: 'Engineer', status: 'Active' });
      await writeHr();
      const crashed = idplane(dir, ['apply', '--auto-approve'], { env: { ...env(), IDPLANE_CRASH_AT: 'mid-target' } });
      expect(crashed.code).not.toBe(0);
      expect(await find(STAFF, '(uid=1005)')).toHaveLength(1);
      const plan = JSON.parse(run('plan', '--format', 'json').stdout) as { accounts: { key: string; action: string }[] };
      expect(plan.accounts.map((a) => [a.key, a.action])).toEqual([['1005', 'link']]);
      applyOk();
      expect(await find(STAFF, '(uid=1005)')).toHaveLength(1);
      expect(run('plan', '--detailed-exitcode').code).toBe(0);
    });

    it('a wrong bind password leaves the target out of the plan, with the app, the server and no password', () => {
      const r = idplane(dir, ['plan'], { env: { LDAP_URL: server.url, LDAP_PASSWORD: 'Wrong-Pa55word' } });
      expect(r.code).toBe(4);
      // The server's URL came from ${env:LDAP_URL}: like every value from the environment, it is never printed.
      expect(r.stdout).toContain(`- directory: cannot read accounts: cannot bind to *** as ${ADMIN_DN}: invalid credentials (LDAP result 49)`);
      expect(r.stderr + r.stdout).not.toContain('Wrong-Pa55word');
      expect(r.stderr + r.stdout).not.toContain(server.url);
    });
  });
});
