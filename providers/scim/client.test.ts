/**
 * The SCIM reader and writer against a real SCIM server (scimmy over express, test/servers), one per
 * test, with the options and faults each case needs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ScimApp } from '../../schemas/generated/config.ts';
import type { AccountChange } from '../../schemas/generated/plan.ts';
import { startScimServer, type ScimServerOptions, type ScimTestServer } from '../../test/servers/scim-server.ts';
import { ProviderError } from '../errors.ts';
import { clearDiscoveryCache } from './discovery.ts';
import { readScimAccounts } from './read.ts';
import { applyScimTarget } from './write.ts';

const TOKEN = 'test-token-5f2a9c81e4';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const STATUS = { attribute: 'active', enabled: 'true', disabled: 'false' };

let server: ScimTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<ScimServerOptions> = {}): Promise<ScimTestServer> {
  clearDiscoveryCache();
  server = await startScimServer({ token: TOKEN, ...options });
  return server;
}

function app(s: ScimTestServer, connection: Partial<ScimApp['connection']> = {}): ScimApp {
  return {
    provider: 'scim', key: 'userName',
    connection: { url: s.url, token: TOKEN, timeoutMs: 2000, retries: 2, ...connection },
    provision: { mappings: { userName: 'user.login', 'name.familyName': 'user.lastName', title: 'user.title', [`${ENTERPRISE}:department`]: 'user.department' } },
  };
}

function change(action: AccountChange['action'], key: string, attributes: AccountChange['attributes'] = {}): AccountChange {
  return { action, app: 'portal', key, userId: `id-${key}`, login: key, attributes, link: action === 'create' || action === 'link', reason: 'test' };
}

const write = (s: ScimTestServer, changes: AccountChange[], config = app(s), key = 'userName') =>
  applyScimTarget({ app: 'portal', config, key, status: STATUS }, changes);

const seedUsers = (s: ScimTestServer, n: number) => Array.from({ length: n }, (_, i) => s.seed({ userName: `user${i + 1}@example.com`, name: { familyName: `F${i + 1}` }, active: true }));

describe('reading', () => {
  it('pages through /Users with startIndex and count and flattens the paths the config uses', async () => {
    const s = await start();
    seedUsers(s, 5);
    s.seed({ userName: 'dept@example.com', [ENTERPRISE]: { department: 'Sales' }, schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE] });
    const snapshot = await readScimAccounts({ app: 'portal', config: app(s, { pageSize: 2 }), key: 'userName' });
    expect(snapshot.accounts.map((a) => a.key)).toHaveLength(6);
    expect(snapshot.rowErrors).toEqual([]);
    const dept = snapshot.accounts.find((a) => a.key === 'dept@example.com')!;
    expect(dept.attributes).toMatchObject({ [`${ENTERPRISE}:department`]: 'Sales', title: '', 'name.familyName': '', userName: 'dept@example.com' });
    expect(dept.attributes['meta.location']).toMatch(/^\/scim\/v2\/Users\//);
    expect(dept.attributes['meta.version']).toBe('W/"1"');
    const pages = s.requests.filter((r) => r.method === 'GET' && r.url.includes('startIndex'));
    expect(pages.map((r) => new URL(r.url, 'http://x').searchParams.get('startIndex')).sort()).toEqual(['1', '3', '5']);
    expect(s.requests.every((r) => r.authorized)).toBe(true);
    expect(snapshot.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = await readScimAccounts({ app: 'portal', config: app(s, { pageSize: 4 }), key: 'userName' });
    expect(again.fingerprint).toBe(snapshot.fingerprint);
  });

  it('asks for the pages after the first at once, and keeps the listing order', async () => {
    const s = await start();
    const seeded = seedUsers(s, 23);
    const snapshot = await readScimAccounts({ app: 'portal', config: app(s, { pageSize: 5, concurrency: 3 }), key: 'userName' });
    expect(snapshot.accounts.map((a) => a.attributes.id)).toEqual(seeded.map((u) => u.id));
    expect(snapshot.accounts.map((a) => a.line)).toEqual(seeded.map((_, i) => i + 1));
    expect(s.requests.filter((r) => r.url.includes('startIndex'))).toHaveLength(5);
  });

  it('tolerates a server that ignores count', async () => {
    const s = await start({ ignoreCount: true });
    seedUsers(s, 7);
    const snapshot = await readScimAccounts({ app: 'portal', config: app(s, { pageSize: 2 }), key: 'userName' });
    expect(snapshot.accounts).toHaveLength(7);
    expect(s.requests.filter((r) => r.url.includes('startIndex'))).toHaveLength(1);
  });

  it('retries a 503 with Retry-After, and fails clearly on refused credentials and unreachable servers', async () => {
    const s = await start();
    seedUsers(s, 1);
    s.inject({ method: 'GET', url: 'startIndex', fault: { status: 503, retryAfter: '0' } });
    expect((await readScimAccounts({ app: 'portal', config: app(s), key: 'userName' })).accounts).toHaveLength(1);
    expect(s.requests.filter((r) => r.url.includes('startIndex'))).toHaveLength(2);

    clearDiscoveryCache();
    const wrong = readScimAccounts({ app: 'portal', config: app(s, { token: 'wrong-token-value' }), key: 'userName' });
    await expect(wrong).rejects.toThrow(ProviderError);
    await expect(wrong).rejects.toThrow(/portal: GET \/ServiceProviderConfig failed: HTTP 401.*refused the credentials/);
    await expect(wrong).rejects.not.toThrow(/wrong-token-value/);

    const url = s.url;
    await s.close();
    server = undefined;
    clearDiscoveryCache();
    await expect(readScimAccounts({ app: 'portal', config: { ...app(s), connection: { url, token: TOKEN, retries: 0 } }, key: 'userName' }))
      .rejects.toThrow(/portal: GET \/(ServiceProviderConfig|ResourceTypes|Schemas): cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('refuses a listing that ends short of totalResults rather than report accounts missing', async () => {
    const s = await start({ ignoreStartIndex: true });
    seedUsers(s, 3);
    await expect(readScimAccounts({ app: 'portal', config: app(s, { pageSize: 1 }), key: 'userName' }))
      .rejects.toThrow(/the server reported 3 users but paging returned 1; it may not support startIndex paging/);
  });

  it('reports a page that is not JSON clearly', async () => {
    const s = await start();
    seedUsers(s, 3);
    s.inject({ method: 'GET', url: 'startIndex=2', fault: { malformed: true } });
    await expect(readScimAccounts({ app: 'portal', config: app(s, { pageSize: 1 }), key: 'userName' }))
      .rejects.toThrow(/^portal: GET \/Users\?startIndex=2&count=1: HTTP 200 with a body that is not valid JSON/);
  });

  it('reports resources with the same key as row errors, never one of them silently', async () => {
    const s = await start();
    s.seed({ userName: 'a@example.com', externalId: 'E1' });
    s.seed({ userName: 'b@example.com', externalId: 'E1' });
    s.seed({ userName: 'c@example.com' });
    const snapshot = await readScimAccounts({ app: 'portal', config: { ...app(s), key: 'externalId' }, key: 'externalId' });
    expect(snapshot.accounts.map((a) => a.key)).toEqual(['E1']);
    expect(snapshot.rowErrors).toEqual([
      expect.objectContaining({ line: 2, key: 'E1', message: expect.stringContaining('has the same externalId') }),
      expect.objectContaining({ line: 3, message: expect.stringContaining('has no externalId') }),
    ]);
  });
});

describe('writing', () => {
  it('creates, patches only what changed, disables, enables and deletes', async () => {
    const s = await start({ etag: true });
    const ada = s.seed({ userName: 'ada@example.com', name: { familyName: 'Lovelace' }, title: 'Countess', active: true });
    const results = await write(s, [
      change('create', 'new@example.com', { 'name.familyName': { from: null, to: 'New' }, [`${ENTERPRISE}:department`]: { from: null, to: 'Sales' } }),
      change('update', 'ada@example.com', { title: { from: 'Countess', to: 'Analyst' }, [`${ENTERPRISE}:department`]: { from: null, to: 'R&D' } }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['done', 'done']);
    const created = s.byUserName('new@example.com')!;
    expect(created.data).toMatchObject({ userName: 'new@example.com', name: { familyName: 'New' }, active: true, [ENTERPRISE]: { department: 'Sales' } });
    const patch = s.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.url).toBe(`/scim/v2/Users/${ada.id}`);
    expect(patch.ifMatch).toBe('W/"1"');
    expect(patch.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Analyst' }, { op: 'replace', path: `${ENTERPRISE}:department`, value: 'R&D' }],
    });

    expect((await write(s, [change('disable', 'ada@example.com')]))[0]).toMatchObject({ outcome: 'done' });
    expect(s.users.get(ada.id)!.data.active).toBe(false);
    expect(s.requests.at(-1)!.body).toMatchObject({ Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect((await write(s, [change('disable', 'ada@example.com')]))[0]).toMatchObject({ outcome: 'done', message: 'already in place' });
    expect((await write(s, [change('enable', 'ada@example.com', { title: { from: 'Analyst', to: null } })]))[0]).toMatchObject({ outcome: 'done' });
    expect(s.users.get(ada.id)!.data).toMatchObject({ active: true });
    expect(s.users.get(ada.id)!.data.title).toBeUndefined();

    expect((await write(s, [change('delete', 'ada@example.com')]))[0]).toMatchObject({ outcome: 'done' });
    expect(s.users.has(ada.id)).toBe(false);
    expect(s.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect((await write(s, [change('delete', 'ada@example.com')]))[0]).toMatchObject({ outcome: 'done', message: 'already gone' });
  });

  it('skips a change whose value moved since the plan (compare-and-set), and re-reads on 412', async () => {
    const s = await start({ etag: true });
    const u = s.seed({ userName: 'u@example.com', title: 'Someone else set this' });
    const [moved] = await write(s, [change('update', 'u@example.com', { title: { from: 'Engineer', to: 'Manager' } })]);
    expect(moved).toMatchObject({ outcome: 'skipped', message: expect.stringContaining('changed in portal since the plan: title') });
    expect(s.requests.some((r) => r.method === 'PATCH')).toBe(false);

    // A concurrent edit of another attribute between the read and the PATCH: 412, read again, PATCH again.
    s.users.get(u.id)!.data.title = 'Engineer';
    s.inject({ method: 'PATCH', fault: { run: () => {
      const stored = s.users.get(u.id)!;
      stored.data.name = { familyName: 'Concurrent' };
      stored.version++;
    } } });
    const [retried] = await write(s, [change('update', 'u@example.com', { title: { from: 'Engineer', to: 'Manager' } })]);
    expect(retried).toMatchObject({ outcome: 'done' });
    expect(s.requests.filter((r) => r.method === 'PATCH').map((r) => r.ifMatch)).toEqual(['W/"1"', 'W/"2"']);
    expect(s.users.get(u.id)!.data).toMatchObject({ title: 'Manager', name: { familyName: 'Concurrent' } });

    // A concurrent edit of the same attribute: 412, read again, and now it moved: skipped.
    s.inject({ method: 'PATCH', fault: { run: () => {
      const stored = s.users.get(u.id)!;
      stored.data.title = 'Director';
      stored.version++;
    } } });
    const [raced] = await write(s, [change('update', 'u@example.com', { title: { from: 'Manager', to: 'VP' } })]);
    expect(raced).toMatchObject({ outcome: 'skipped' });
    expect(s.users.get(u.id)!.data.title).toBe('Director');
  });

  it('PUTs the whole resource when the server does not support PATCH', async () => {
    const s = await start({ patch: false });
    const u = s.seed({ userName: 'p@example.com', title: 'Old', name: { familyName: 'Keep', givenName: 'Me' }, active: true });
    expect((await write(s, [change('update', 'p@example.com', { title: { from: 'Old', to: 'New' } })]))[0]).toMatchObject({ outcome: 'done' });
    const put = s.requests.find((r) => r.method === 'PUT')!;
    expect(put.body).toMatchObject({ userName: 'p@example.com', title: 'New', name: { familyName: 'Keep', givenName: 'Me' }, active: true });
    expect(s.requests.some((r) => r.method === 'PATCH')).toBe(false);
    expect(s.users.get(u.id)!.data).toMatchObject({ title: 'New', name: { familyName: 'Keep' } });
  });

  it('accepts a PATCH answered 204 without a body', async () => {
    const s = await start({ patchNoContent: true });
    const u = s.seed({ userName: 'n@example.com', title: 'Old' });
    expect((await write(s, [change('update', 'n@example.com', { title: { from: 'Old', to: 'New' } })]))[0]).toMatchObject({ outcome: 'done' });
    expect(s.users.get(u.id)!.data.title).toBe('New');
  });

  it('quotes keys with " and \\ in filters, and never trusts the server to have matched exactly', async () => {
    const s = await start({ filter: 'ignored' });
    s.seed({ userName: 'other@example.com' });
    const odd = s.seed({ userName: 'o"brien\\x@example.com', title: 'A' });
    const [r] = await write(s, [change('update', 'o"brien\\x@example.com', { title: { from: 'A', to: 'B' } })]);
    expect(r).toMatchObject({ outcome: 'done' });
    expect(s.requests.find((q) => q.url.includes('filter='))!.url).toContain('filter=userName eq "o\\"brien\\\\x@example.com"');
    expect(s.users.get(odd.id)!.data.title).toBe('B');
  });

  it('fails a key that several accounts hold, or that differs only in case, instead of guessing', async () => {
    const s = await start();
    s.seed({ userName: 'a@example.com', externalId: 'E1' });
    s.seed({ userName: 'b@example.com', externalId: 'E1' });
    s.seed({ userName: 'Mixed@Example.com' });
    const [several] = await write(s, [change('link', 'E1')], { ...app(s), key: 'externalId' }, 'externalId');
    expect(several).toMatchObject({ outcome: 'failed', message: expect.stringContaining('2 accounts in portal have externalId "E1"') });
    const [cased] = await write(s, [change('update', 'mixed@example.com', { title: { from: null, to: 'X' } })]);
    expect(cased).toMatchObject({ outcome: 'failed', message: expect.stringContaining('differs from "mixed@example.com" only in case') });
    expect(s.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('finds accounts by listing when the server has no filter support', async () => {
    const s = await start({ filter: false });
    seedUsers(s, 3);
    const results = await write(s, [change('link', 'user2@example.com'), change('link', 'user3@example.com'), change('link', 'nobody@example.com')], app(s, { pageSize: 2 }));
    expect(results.map((r) => r.outcome)).toEqual(['done', 'done', 'failed']);
    expect(s.requests.filter((r) => r.url.includes('filter='))).toHaveLength(0);
  });

  it('links the existing account on a 409 uniqueness', async () => {
    const s = await start();
    s.seed({ userName: 'taken@example.com' });
    const [r] = await write(s, [change('create', 'taken@example.com', { title: { from: null, to: 'T' } })]);
    expect(r).toMatchObject({ outcome: 'done', message: 'already existed; linked' });
    expect(s.users.size).toBe(1);
  });

  it('checks before retrying a POST that timed out, and never creates twice', async () => {
    const s = await start();
    s.inject({ method: 'POST', fault: { delayMs: 1500 } });
    const [r] = await write(s, [change('create', 'slow@example.com')], app(s, { timeoutMs: 600, retries: 3 }));
    expect(r).toMatchObject({ outcome: 'done' });
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect([...s.users.values()].filter((u) => u.data.userName === 'slow@example.com')).toHaveLength(1);
    const methods = s.requests.filter((q) => !/ServiceProviderConfig|Schemas|ResourceTypes/.test(q.url)).map((q) => q.method);
    expect(methods.slice(0, 2)).toEqual(['POST', 'GET']);
  });

  it('reports each failure per user with the status, detail and scimType, and never a secret', async () => {
    const s = await start();
    seedUsers(s, 3);
    s.inject({ method: 'PATCH', body: '"F1-new"', times: 3, fault: { status: 500, detail: `database down (token ${TOKEN})`, scimType: 'invalidValue' } });
    s.inject({ method: 'GET', url: 'user2@example.com', fault: { malformed: true } });
    const results = await write(s, [
      change('update', 'user1@example.com', { 'name.familyName': { from: 'F1', to: 'F1-new' } }),
      change('update', 'user2@example.com', { 'name.familyName': { from: 'F2', to: 'F2-new' } }),
      change('update', 'user3@example.com', { 'name.familyName': { from: 'F3', to: 'F3-new' } }),
      change('update', 'user4@example.com', { 'name.familyName': { from: 'F4', to: 'F4-new' } }),
    ]);
    expect(results[0]).toMatchObject({ outcome: 'failed', message: expect.stringMatching(/^PATCH \/Users\/[\w-]+ failed: HTTP 500 \(scimType invalidValue\): database down \(token \*\*\*\) \(3 attempts, each started again from a lookup\)$/) });
    expect(results[1]).toMatchObject({ outcome: 'failed', message: expect.stringContaining('HTTP 200 with a body that is not valid JSON') });
    expect(results[2]).toMatchObject({ outcome: 'done' });
    expect(results[3]).toMatchObject({ outcome: 'failed', message: 'the account is no longer in portal' });
    expect(JSON.stringify(results)).not.toContain(TOKEN);
  });

  it('fails a value the attribute type cannot hold, for that user only', async () => {
    const s = await start();
    seedUsers(s, 1);
    const [r] = await applyScimTarget({ app: 'portal', config: app(s), key: 'userName', status: { attribute: 'active', enabled: 'yes', disabled: 'no' } }, [change('disable', 'user1@example.com')]);
    expect(r).toMatchObject({ outcome: 'failed', message: expect.stringContaining('active is a boolean: expected true or false, got "no"') });
  });
});
