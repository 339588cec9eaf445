import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { idplaneAsync } from './cli-helpers.ts';
import { startScimServer, type ScimTestServer } from './servers/scim-server.ts';
import { ADMIN_DN, ADMIN_PASSWORD, findSlapd, startSlapd, SUFFIX, type SlapdServer } from './servers/slapd.ts';

const SLAPD = findSlapd();
if (!SLAPD && !process.env.CI) console.warn('test/discover-servers.test.ts: slapd is not installed, so LDAP discovery is skipped (apt-get install slapd ldap-utils)');

describe('idplane schema discover against real servers', () => {
  let dir: string;
  let slapd: SlapdServer | undefined;
  let scim: ScimTestServer;
  const token = 'discover-test-token';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idplane-discover-'));
    if (SLAPD) slapd = await startSlapd();
    else if (process.env.CI) throw new Error('slapd is not installed and CI is set: install slapd ldap-utils, as .ci/run does');
    scim = await startScimServer({ token });
    await writeFile(join(dir, 'idplane.yaml'), `version: 1
directory: { attributes: { login: { required: true } } }
apps:
  ldap:
    provider: ldap
    connection: { url: "\${env:LDAP_URL}", bindDN: "${ADMIN_DN}", password: "\${env:LDAP_PASSWORD}", baseDN: "${SUFFIX}" }
  crm:
    provider: scim
    connection: { url: "${scim.url}", token: "\${env:SCIM_TOKEN}" }
`);
  });
  afterAll(async () => {
    await scim?.close();
    await slapd?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const env = () => ({ env: { LDAP_URL: slapd?.url ?? 'ldap://127.0.0.1:1', LDAP_PASSWORD: ADMIN_PASSWORD, SCIM_TOKEN: token } });

  it.skipIf(!SLAPD)('ldap: the attributes inetOrgPerson allows, from the subschema, with syntaxes and SINGLE-VALUE', async () => {
    const r = await idplaneAsync(dir, ['schema', 'discover', 'ldap'], env());
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(r.stdout);
    expect(doc.directory.attributes.sn).toEqual({ type: 'string[]', required: true });
    expect(doc.directory.attributes.displayName).toEqual({ type: 'string' });
    expect(doc.directory.attributes.mail).toEqual({ type: 'string[]' });
    expect(doc.apps.ldap.import.mappings.employeeNumber).toBe('app.employeeNumber');
    expect(r.stdout).not.toContain(ADMIN_PASSWORD);
  });

  it('scim: the User schema and the enterprise extension from /Schemas, as mapping paths', async () => {
    const r = await idplaneAsync(dir, ['schema', 'discover', 'crm'], env());
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(r.stdout);
    expect(doc.directory.attributes.userName).toEqual({ type: 'string', required: true, unique: true });
    expect(doc.directory.attributes.active).toEqual({ type: 'boolean' });
    expect(doc.apps.crm.import.mappings).toMatchObject({ nameGivenName: 'app["name.givenName"]', department: 'app["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"]' });
    expect(r.stdout).toContain('multi-valued: map one element, e.g. emails[type eq "work"].value');
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('scim: a refused token is a clear error without the token', async () => {
    const r = await idplaneAsync(dir, ['schema', 'discover', 'crm'], { env: { ...env().env, SCIM_TOKEN: 'wrong-token' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/crm: .*401/);
    expect(r.stderr).not.toContain('wrong-token');
  });
});
