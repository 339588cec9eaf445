/**
 * The Okta reader and writer against the local Okta stand-in (test/servers/okta-server.ts), one server
 * per test, with the faults each case needs. Retry timings are shortened; what is retried is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OktaApp } from '../../schemas/generated/config.ts';
import type { AccountChange } from '../../schemas/generated/plan.ts';
import { startOktaServer, type OktaServerOptions, type OktaTestServer } from '../../test/servers/okta-server.ts';
import { ProviderError } from '../errors.ts';
import { discoverOkta } from './discover.ts';
import { readOktaAccounts } from './read.ts';
import { applyOktaTarget } from './write.ts';

const TOKEN = 'okta-unit-token-8d1e77';
const FAST = { baseDelayMs: 5, maxDelayMs: 20 };

let server: OktaTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<OktaServerOptions> = {}): Promise<OktaTestServer> {
  server = await startOktaServer({ token: TOKEN, ...options });
  return server;
}

function app(s: OktaTestServer, connection: Partial<OktaApp['connection']> = {}): OktaApp {
  return {
    provider: 'okta', key: 'profile.login',
    connection: { url: s.url, token: TOKEN, timeoutMs: 2000, retries: 2, ...connection },
    provision: { mappings: { 'profile.login': 'user.login', 'profile.title': 'user.title' } },
  };
}

const person = (login: string, extra: Record<string, unknown> = {}) => ({ login, email: login, firstName: login.split('@')[0], lastName: 'Test', ...extra });
const read = (s: OktaTestServer, connection: Partial<OktaApp['connection']> = {}, key = 'profile.login') =>
  readOktaAccounts({ app: 'okta', config: app(s, connection), key, retry: FAST });
const write = (s: OktaTestServer, changes: AccountChange[], connection: Partial<OktaApp['connection']> = {}, key = 'profile.login') =>
  applyOktaTarget({ app: 'okta', config: app(s, connection), key, retry: FAST }, changes);

function change(action: AccountChange['action'], key: string, attributes: AccountChange['attributes'] = {}): AccountChange {
  return { action, app: 'okta', key, userId: `id-${key}`, login: key, attributes, link: action === 'create' || action === 'link', reason: 'test' };
}
const writes = (s: OktaTestServer) => s.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);

describe('reading', () => {
  it('pages through Link rel="next" and also lists the DEPROVISIONED users the plain listing leaves out', async () => {
    const s = await start();
    for (let i = 1; i <= 5; i++) s.seed(person(`u${i}@example.com`, { department: i % 2 ? 'R&D' : 'Ops' }));
    s.seed(person('gone@example.com'), { status: 'DEPROVISIONED' });
    s.seed(person('paused@example.com'), { status: 'SUSPENDED' });
    const snapshot = await read(s, { pageSize: 2 });
    expect(snapshot.accounts.map((a) => a.key)).toEqual(['u1@example.com', 'u2@example.com', 'u3@example.com', 'u4@example.com', 'u5@example.com', 'paused@example.com', 'gone@example.com']);
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.accounts.find((a) => a.key === 'gone@example.com')!.attributes).toMatchObject({ status: 'DEPROVISIONED', active: 'false', 'profile.department': '' });
    expect(snapshot.accounts.find((a) => a.key === 'paused@example.com')!.attributes).toMatchObject({ status: 'SUSPENDED', active: 'false' });
    expect(snapshot.accounts[0]!.attributes).toMatchObject({ status: 'ACTIVE', active: 'true', 'profile.department': 'R&D', 'profile.title': '' });
    expect(snapshot.columns).toEqual(['id', 'status', 'created', 'activated', 'statusChanged', 'lastUpdated', 'active', 'profile.department', 'profile.email', 'profile.firstName', 'profile.lastName', 'profile.login', 'profile.title']);
    const gets = s.requests.filter((r) => r.method === 'GET').map((r) => r.url);
    expect(gets).toHaveLength(4);
    expect(gets[0]).toBe('/api/v1/users?limit=2');
    expect(gets.filter((u) => u.includes('after='))).toHaveLength(2);
    expect(gets.at(-1)).toBe('/api/v1/users?limit=2&search=status eq "DEPROVISIONED"');
    expect(s.requests.every((r) => r.authorized)).toBe(true);
    expect(snapshot.fingerprint).toBe((await read(s, { pageSize: 2 })).fingerprint);
  });

  it('lists only what connection.search selects, in every status', async () => {
    const s = await start();
    s.seed(person('a@example.com', { department: 'R&D' }));
    s.seed(person('b@example.com', { department: 'Ops' }));
    s.seed(person('c@example.com', { department: 'r&d' }), { status: 'DEPROVISIONED' });
    const snapshot = await read(s, { search: 'profile.department eq "R&D"' });
    expect(snapshot.accounts.map((a) => a.key)).toEqual(['a@example.com', 'c@example.com']);
  });

  it('reports users without the key or with a duplicate key as row errors', async () => {
    const s = await start();
    s.seed(person('a@example.com', { employeeNumber: '1' }));
    s.seed(person('b@example.com'));
    s.seed(person('c@example.com', { employeeNumber: '1' }));
    const snapshot = await read(s, {}, 'profile.employeeNumber');
    expect(snapshot.accounts.map((a) => a.key)).toEqual(['1']);
    expect(snapshot.rowErrors).toEqual([
      { line: 2, message: expect.stringMatching(/^Okta user 00u\w+ has no profile\.employeeNumber$/) },
      { line: 3, key: '1', message: expect.stringMatching(/has the same profile\.employeeNumber as user 00u/) },
    ]);
    await expect(read(s, {}, 'login')).rejects.toThrow('okta: key "login" is not an Okta attribute: use profile.NAME (default profile.login) or id');
  });

  it('fails the whole read, never a shorter list, when a later page fails after the retries', async () => {
    const s = await start();
    for (let i = 1; i <= 5; i++) s.seed(person(`u${i}@example.com`));
    s.inject({ method: 'GET', url: 'after=', times: 10, fault: { status: 500, errorSummary: 'backend down' } });
    const error = await read(s, { pageSize: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toMatch(/^okta: GET \/api\/v1\/users\?limit=2&after=00u\w+ failed: HTTP 500 \(E0000009\): backend down$/);
    expect(s.requests.filter((r) => r.url.includes('after='))).toHaveLength(3);
  });

  it('refuses a next link to another origin', async () => {
    const s = await start({ linkOrigin: 'http://127.0.0.2:9' });
    for (let i = 1; i <= 3; i++) s.seed(person(`u${i}@example.com`));
    await expect(read(s, { pageSize: 2 })).rejects.toThrow('okta: GET /api/v1/users?limit=2: the next-page link points to http://127.0.0.2:9, not the configured org; not followed');
  });

  it('names the app and the request, never the token, for 401, HTML and broken JSON', async () => {
    const s = await start();
    s.seed(person('a@example.com'));
    const refused = await readOktaAccounts({ app: 'okta', config: app(s, { token: 'wrong-token-123' }), key: 'profile.login', retry: FAST }).catch((e: Error) => e.message);
    expect(refused).toBe('okta: GET /api/v1/users?limit=200 failed: HTTP 401 (E0000011): Invalid token provided');
    s.inject({ fault: { html: true } });
    expect(await read(s).catch((e: Error) => e.message)).toBe('okta: GET /api/v1/users?limit=200: HTTP 200 with a body that is not valid JSON (an HTML page (text/html): Sign In Okta sign-in)');
    s.inject({ fault: { malformed: true } });
    expect(await read(s).catch((e: Error) => e.message)).toMatch(/^okta: GET \/api\/v1\/users\?limit=200: HTTP 200 with a body that is not valid JSON \(application\/json; /);
    expect(s.requests.some((r) => JSON.stringify(r).includes(TOKEN))).toBe(false);
  });

  it('waits for X-Rate-Limit-Reset once X-Rate-Limit-Remaining is 0, instead of being refused', async () => {
    const s = await start({ rateLimit: { limit: 2, windowMs: 300 } });
    for (let i = 1; i <= 5; i++) s.seed(person(`u${i}@example.com`));
    const snapshot = await read(s, { pageSize: 1 });
    expect(snapshot.accounts).toHaveLength(5);
    // Five pages of the plain listing and the DEPROVISIONED search, over three windows of two, none refused.
    expect(s.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('accepts an OAuth access token as a bearer token', async () => {
    const s = await start({ accessToken: 'oauth-at-5521' });
    s.seed(person('a@example.com'));
    const snapshot = await readOktaAccounts({ app: 'okta', config: { ...app(s), connection: { url: s.url, accessToken: 'oauth-at-5521' } }, key: 'profile.login' });
    expect(snapshot.accounts).toHaveLength(1);
  });
});

describe('writing', () => {
  it('creates with activate=true after a lookup, sending typed profile values', async () => {
    const s = await start({ custom: { isManager: { type: 'boolean' }, costCodes: { type: 'array', items: 'integer' } } });
    const results = await write(s, [change('create', 'ada@example.com', {
      'profile.email': { from: null, to: 'ada@example.com' }, 'profile.firstName': { from: null, to: 'Ada' }, 'profile.lastName': { from: null, to: 'Lovelace' },
      'profile.isManager': { from: null, to: 'true' }, 'profile.costCodes': { from: null, to: '10,20' },
    })]);
    expect(results).toEqual([{ app: 'okta', key: 'ada@example.com', action: 'create', outcome: 'done' }]);
    const post = s.requests.find((r) => r.method === 'POST')!;
    expect(post.url).toBe('/api/v1/users?activate=true');
    expect(post.body).toEqual({ profile: { login: 'ada@example.com', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', isManager: true, costCodes: [10, 20] } });
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /api/v1/meta/schemas/user/default', 'GET /api/v1/users/ada@example.com', 'POST /api/v1/users?activate=true']);
    expect(s.byLogin('ada@example.com')!.status).toBe('PROVISIONED');
  });

  it('links a user that exists already instead of creating a second', async () => {
    const s = await start();
    s.seed(person('ada@example.com'));
    const results = await write(s, [change('create', 'ada@example.com', { 'profile.firstName': { from: null, to: 'Ada' } })]);
    expect(results[0]).toMatchObject({ outcome: 'done', message: 'already existed; linked' });
    expect(writes(s)).toEqual([]);
    expect(s.users.size).toBe(1);
  });

  it('confirms a create whose answer was lost by a lookup, and sends it once', async () => {
    const s = await start();
    s.inject({ method: 'POST', url: '/api/v1/users?activate=true', fault: { lost: true } });
    const results = await write(s, [change('create', 'ada@example.com', { 'profile.email': { from: null, to: 'ada@example.com' }, 'profile.firstName': { from: null, to: 'Ada' }, 'profile.lastName': { from: null, to: 'L' } })]);
    expect(results[0]).toMatchObject({ outcome: 'done', message: expect.stringMatching(/^created \(confirmed by a lookup after: POST \/api\/v1\/users\?activate=true: cannot reach 127\.0\.0\.1:\d+/) });
    expect(writes(s)).toEqual(['POST /api/v1/users?activate=true']);
    expect(s.users.size).toBe(1);
  });

  it('links on Okta\'s duplicate-login refusal when the lookup missed the user', async () => {
    const s = await start();
    // Someone creates the user between idplane's lookup and its POST.
    s.inject({ method: 'POST', fault: { run: () => void s.seed(person('ada@example.com')) } });
    const results = await write(s, [change('create', 'ada@example.com', { 'profile.email': { from: null, to: 'ada@example.com' }, 'profile.firstName': { from: null, to: 'Ada' }, 'profile.lastName': { from: null, to: 'L' } })]);
    expect(results[0]).toMatchObject({ outcome: 'done', message: 'already existed; linked' });
    expect(s.users.size).toBe(1);
  });

  it('reports E0000001 with its causes for that user while the others are created', async () => {
    const s = await start();
    const full = (login: string, email: string) => change('create', login, { 'profile.email': { from: null, to: email }, 'profile.firstName': { from: null, to: 'X' }, 'profile.lastName': { from: null, to: 'Y' } });
    const results = await write(s, [full('a@example.com', 'a@example.com'), full('b@example.com', 'not-an-email'), full('c@example.com', 'c@example.com')]);
    expect(results.map((r) => r.outcome)).toEqual(['done', 'failed', 'done']);
    expect(results[1]!.message).toBe('POST /api/v1/users?activate=true failed: HTTP 400 (E0000001): Api validation failed: email (email: Does not match required pattern)');
    expect([...s.users.values()].map((u) => u.profile.login).sort()).toEqual(['a@example.com', 'c@example.com']);
  });

  it('updates only the changed attributes with a partial POST, and skips one that moved since the plan', async () => {
    const s = await start();
    const ada = s.seed(person('ada@example.com', { title: 'Analyst', department: 'R&D' }));
    s.seed(person('bob@example.com', { title: 'Engineer' }));
    const results = await write(s, [
      change('update', 'ada@example.com', { 'profile.title': { from: 'Analyst', to: 'Principal' }, 'profile.department': { from: 'R&D', to: null } }),
      change('update', 'bob@example.com', { 'profile.title': { from: 'Intern', to: 'Engineer II' } }),
    ]);
    expect(results.map((r) => [r.outcome, r.message])).toEqual([
      ['done', undefined],
      ['skipped', 'changed in okta since the plan: profile.title; not overwritten (plan again)'],
    ]);
    const posts = s.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.url, r.body])).toEqual([[`/api/v1/users/${ada.id}`, { profile: { title: 'Principal', department: null } }]]);
    expect(s.users.get(ada.id)!.profile).toEqual(person('ada@example.com', { title: 'Principal' }));
  });

  it('enables by the user\'s status: activate, unsuspend, or nothing; then pushes the attributes', async () => {
    const s = await start();
    const gone = s.seed(person('gone@example.com', { title: 'Old' }), { status: 'DEPROVISIONED', password: false });
    const staged = s.seed(person('staged@example.com'), { status: 'STAGED' });
    const paused = s.seed(person('paused@example.com'), { status: 'SUSPENDED' });
    const active = s.seed(person('active@example.com'));
    const results = await write(s, [
      change('enable', 'gone@example.com', { 'profile.title': { from: 'Old', to: 'New' } }),
      change('enable', 'staged@example.com'), change('enable', 'paused@example.com'), change('enable', 'active@example.com'),
    ]);
    expect(results.map((r) => [r.key, r.outcome, r.message])).toEqual([
      ['gone@example.com', 'done', 'activate, profile update'], ['staged@example.com', 'done', 'activate'],
      ['paused@example.com', 'done', 'unsuspend'], ['active@example.com', 'done', 'already in place'],
    ]);
    expect([gone, staged, paused, active].map((u) => s.users.get(u.id)!.status)).toEqual(['PROVISIONED', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    expect(writes(s).sort()).toEqual([
      `POST /api/v1/users/${gone.id}`, `POST /api/v1/users/${gone.id}/lifecycle/activate?sendEmail=false`,
      `POST /api/v1/users/${paused.id}/lifecycle/unsuspend`, `POST /api/v1/users/${staged.id}/lifecycle/activate?sendEmail=false`,
    ].sort());
    // Okta updates no DEPROVISIONED user: the activation comes first.
    expect(writes(s).filter((w) => w.includes(gone.id))).toEqual([`POST /api/v1/users/${gone.id}/lifecycle/activate?sendEmail=false`, `POST /api/v1/users/${gone.id}`]);
    expect(s.users.get(gone.id)!.profile.title).toBe('New');
  });

  it('disables by deactivating, deletes after deactivating, and says when a user is gone', async () => {
    const s = await start();
    const a = s.seed(person('a@example.com'));
    const b = s.seed(person('b@example.com'), { status: 'SUSPENDED' });
    s.seed(person('c@example.com'), { status: 'DEPROVISIONED' });
    const d = s.seed(person('d@example.com'));
    const results = await write(s, [change('disable', 'a@example.com'), change('delete', 'b@example.com'), change('disable', 'c@example.com'), change('update', 'x@example.com', { 'profile.title': { from: null, to: 'T' } }), change('delete', 'y@example.com')]);
    expect(results.map((r) => [r.outcome, r.message])).toEqual([
      ['done', 'deactivate'], ['done', undefined], ['done', 'already in place'],
      ['failed', 'the user is no longer in okta (deleted outside idplane?); plan again'], ['done', 'already gone'],
    ]);
    expect(s.users.get(a.id)!.status).toBe('DEPROVISIONED');
    expect(s.users.has(b.id)).toBe(false);
    expect(writes(s).filter((w) => w.includes(b.id))).toEqual([`POST /api/v1/users/${b.id}/lifecycle/deactivate?sendEmail=false`, `DELETE /api/v1/users/${b.id}`]);
    expect(s.users.get(d.id)!.status).toBe('ACTIVE');
  });

  it('retries a change from its lookup after 409 E0000112 (still activating) and 503, and reports E0000023 per user', async () => {
    const s = await start();
    const a = s.seed(person('a@example.com', { title: 'T1' }));
    const b = s.seed(person('b@example.com', { title: 'T1' }));
    s.inject({ method: 'POST', url: a.id, fault: { status: 503, errorCode: 'E0000010', errorSummary: 'Service is in read-only mode.' } });
    s.inject({ method: 'POST', url: a.id, fault: { status: 409, errorCode: 'E0000112', errorSummary: 'Cannot update this user because they are still being activated. Please try again in a few minutes.' } });
    s.inject({ method: 'POST', url: b.id, times: 10, fault: { status: 403, errorCode: 'E0000023', errorSummary: 'Operation failed because user profile is mastered under another system.' } });
    const results = await write(s, [change('update', 'a@example.com', { 'profile.title': { from: 'T1', to: 'T2' } }), change('update', 'b@example.com', { 'profile.title': { from: 'T1', to: 'T2' } })]);
    expect(results.map((r) => [r.outcome, r.message])).toEqual([
      ['done', undefined],
      ['failed', `POST /api/v1/users/${b.id} failed: HTTP 403 (E0000023): Operation failed because user profile is mastered under another system.`],
    ]);
    expect(s.users.get(a.id)!.profile.title).toBe('T2');
    // 503: the transport sends the same request again (Okta did not act); 409 E0000112: the change starts again from its lookup.
    expect(s.requests.filter((r) => r.url.endsWith(a.id) || r.url.endsWith('/a@example.com')).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'POST 503', 'POST 409', 'GET 200', 'POST 200']);
    expect(s.requests.filter((r) => r.method === 'POST' && r.url.endsWith(b.id))).toHaveLength(1);
  });

  it('refuses attributes that are not profile.NAME and values their type cannot hold, per user', async () => {
    const s = await start({ custom: { isManager: { type: 'boolean' } } });
    s.seed(person('a@example.com'));
    s.seed(person('b@example.com'));
    const results = await write(s, [change('update', 'a@example.com', { title: { from: null, to: 'T' } }), change('update', 'b@example.com', { 'profile.isManager': { from: null, to: 'maybe' } })]);
    expect(results.map((r) => r.message)).toEqual([
      'title is not an Okta profile attribute: provision.mappings for okta name profile.NAME (e.g. profile.title)',
      'profile.isManager is a boolean in Okta: expected true or false, got "maybe"',
    ]);
    expect(writes(s)).toEqual([]);
  });

  it('skips an update of a user deactivated since the plan, and creates nothing under an id key', async () => {
    const s = await start();
    s.seed(person('a@example.com', { title: 'T1' }), { status: 'DEPROVISIONED' });
    const skipped = await write(s, [change('update', 'a@example.com', { 'profile.title': { from: 'T1', to: 'T2' } })]);
    expect(skipped[0]).toMatchObject({ outcome: 'skipped', message: "the user is DEPROVISIONED in okta (deactivated since the plan?), and Okta does not update a deactivated user's profile; plan again" });
    const byId = await write(s, [change('create', '00uNEW', { 'profile.login': { from: null, to: 'n@example.com' } })], {}, 'id');
    expect(byId[0]).toMatchObject({ outcome: 'failed', message: "okta's key is id, which Okta assigns: no user can be created under a given id (key the app by profile.login)" });
    expect(writes(s)).toEqual([]);
  });

  it('finds users by another key through search, and never links a login whose key differs', async () => {
    const s = await start();
    const a = s.seed(person('a@example.com', { employeeNumber: '1001', title: 'T1' }));
    s.seed(person('b@example.com', { employeeNumber: '2002' }));
    const results = await write(s, [
      change('update', '1001', { 'profile.title': { from: 'T1', to: 'T2' } }),
      change('create', '3003', { 'profile.login': { from: null, to: 'b@example.com' }, 'profile.email': { from: null, to: 'b@example.com' }, 'profile.firstName': { from: null, to: 'B' }, 'profile.lastName': { from: null, to: 'B' } }),
    ], {}, 'profile.employeeNumber');
    expect(results.map((r) => [r.outcome, r.message])).toEqual([
      ['done', undefined],
      ['failed', expect.stringMatching(/^okta already has login "b@example\.com" \(user 00u\w+\), whose profile\.employeeNumber is "2002", not "3003"; not linked under another key$/)],
    ]);
    expect(s.users.get(a.id)!.profile.title).toBe('T2');
    expect(s.requests.some((r) => r.url === '/api/v1/users?limit=200&search=profile.employeeNumber eq "1001"')).toBe(true);
  });
});

describe('schema discovery', () => {
  it('lists base and custom properties as profile.NAME with types, required and unique', async () => {
    const s = await start({ custom: { costCenterCode: { type: 'string', unique: true, title: 'Cost center code' }, skills: { type: 'array', items: 'string' }, level: { type: 'integer', required: true } } });
    const { attributes, note } = await discoverOkta('okta', app(s));
    expect(note).toBe('/api/v1/meta/schemas/user/default: 31 base and 3 custom profile properties');
    expect(attributes.find((a) => a.name === 'profile.login')).toEqual({ name: 'profile.login', type: 'string', multiValued: false, required: true, unique: true, description: 'Username' });
    expect(attributes.slice(-3)).toEqual([
      { name: 'profile.costCenterCode', type: 'string', multiValued: false, required: false, unique: true, description: 'Cost center code; custom' },
      { name: 'profile.skills', type: 'string', multiValued: true, required: false, unique: false, description: 'custom' },
      { name: 'profile.level', type: 'integer', multiValued: false, required: true, unique: false, description: 'custom' },
    ]);
    await expect(discoverOkta('okta', { ...app(s), connection: { url: s.url, token: 'nope-9999' } })).rejects.toThrow('okta: schema discovery failed: GET /api/v1/meta/schemas/user/default failed: HTTP 401 (E0000011): Invalid token provided');
  });
});

describe('the local Okta stand-in keeps to the documented rules the writer relies on', () => {
  const call = async (s: OktaTestServer, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${s.url}${path}`, { method, headers: { authorization: `SSWS ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, code: text ? (JSON.parse(text) as { errorCode?: string }).errorCode : undefined };
  };

  it('allows each lifecycle operation only from the statuses Okta documents', async () => {
    const s = await start();
    const active = s.seed(person('a@example.com'));
    const staged = s.seed(person('s@example.com'), { status: 'STAGED' });
    expect(await call(s, 'POST', `/api/v1/users/${active.id}/lifecycle/activate`)).toEqual({ status: 403, code: 'E0000016' });
    expect(await call(s, 'POST', `/api/v1/users/${active.id}/lifecycle/reactivate`)).toEqual({ status: 403, code: 'E0000038' });
    expect(await call(s, 'POST', `/api/v1/users/${staged.id}/lifecycle/suspend`)).toEqual({ status: 400, code: 'E0000001' });
    expect(await call(s, 'POST', `/api/v1/users/${active.id}/lifecycle/unsuspend`)).toEqual({ status: 400, code: 'E0000001' });
    expect(await call(s, 'POST', `/api/v1/users/${active.id}/lifecycle/suspend`)).toMatchObject({ status: 200 });
    expect(s.users.get(active.id)!.status).toBe('SUSPENDED');
    // DELETE of a user not yet deactivated deactivates them; a second one deletes.
    expect(await call(s, 'DELETE', `/api/v1/users/${staged.id}`)).toMatchObject({ status: 204 });
    expect(s.users.get(staged.id)!.status).toBe('DEPROVISIONED');
    expect(await call(s, 'POST', `/api/v1/users/${staged.id}`, { profile: { title: 'x' } })).toEqual({ status: 404, code: 'E0000007' });
    expect(await call(s, 'DELETE', `/api/v1/users/${staged.id}`)).toMatchObject({ status: 204 });
    expect(s.users.has(staged.id)).toBe(false);
    expect(await call(s, 'GET', '/api/v1/users?search=status%20pr&filter=status%20eq%20%22ACTIVE%22')).toEqual({ status: 400, code: 'E0000033' });
    expect(await call(s, 'GET', '/api/v1/users?filter=profile.department%20eq%20%22R%22')).toEqual({ status: 400, code: 'E0000031' });
  });
});
