/**
 * The http provider's reader against a real HR API (test/servers/hr-server.ts, node:http in this
 * process): every paging style, credentials, flattening, incremental, faults and loops. The CLI end to
 * end is test/http-source.test.ts. Whatever a test did, the token never reaches a message.
 */
import { describe, expect, it } from 'vitest';
import type { HttpApp, HttpConnection } from '../schemas/generated/config.ts';
import { ProviderError } from '../providers/errors.ts';
import { readHttpAccounts, type HttpReadOptions } from '../providers/http/read.ts';
import { connectionFor, FAST, others, outputs, server, start, TOKEN, useHrServer } from './http-helpers.ts';
import { startHrServer } from './servers/hr-server.ts';

useHrServer();

function read(connection: HttpConnection, more: Partial<HttpReadOptions> = {}, imp?: HttpApp['import']) {
  const config: HttpApp = { provider: 'http', connection, ...(imp ? { import: imp } : {}) };
  return readHttpAccounts({ app: 'hr', config, key: 'id', incremental: null, retry: FAST, ...more });
}

/** The ProviderError a read fails with. */
async function failure(connection: HttpConnection, more: Partial<HttpReadOptions> = {}): Promise<ProviderError> {
  const error = await read(connection, more).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  outputs.push((error as Error).message);
  return error as ProviderError;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(1001 + i));

describe('the http reader', () => {
  it.each(['none', 'page', 'offset', 'cursor', 'next-link', 'link-header'] as const)('reads all 250 employees with %s paging, each request with the token', async (style) => {
    await start();
    const snapshot = await read(connectionFor(style));
    expect(snapshot.accounts.map((a) => a.key)).toEqual(ids(250));
    expect(snapshot.accounts.map((a) => a.line)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.partial).toBeUndefined();
    expect(server.requests).toHaveLength(style === 'none' ? 1 : 3);
    expect(server.requests.every((r) => r.authorized && r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('gives the same fingerprint whatever the paging, and another when a record changes', async () => {
    await start();
    const a = await read(connectionFor('page'));
    const b = await read(connectionFor('cursor'));
    expect(b.fingerprint).toBe(a.fingerprint);
    server.touch(1100, { title: 'Director' });
    expect((await read(connectionFor('offset'))).fingerprint).not.toBe(a.fingerprint);
  });

  it('sends page requests at once when the first page gives the total, within concurrency', async () => {
    await start({ count: 1000 });
    server.inject({ url: /[?&]page=([2-9]|10)&/, times: 9, fault: { delayMs: 150 } });
    const snapshot = await read(connectionFor('page', { concurrency: 3 }));
    expect(snapshot.accounts).toHaveLength(1000);
    expect(server.requests.map((r) => r.query.page)).toEqual(expect.arrayContaining(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']));
    expect(server.requests).toHaveLength(10);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('flattens nested records to dotted names, lists joined, numbers and booleans as text, null as empty', async () => {
    await start({ count: 3 });
    const snapshot = await read(connectionFor('none'), {}, { mappings: { login: 'app.email', nick: 'app.nickname' } });
    expect(snapshot.accounts[0]!.attributes).toEqual({
      id: '1001', firstName: 'Ada', lastName: 'Lovelace', email: 'ada.lovelace.1001@example.com', title: 'Manager', department: 'Engineering',
      status: 'Active', active: 'true', fte: '0.5', 'address.city': 'Oslo', 'address.country': 'NO', manager: '', 'manager.id': '',
      groups: 'Engineering, All Staff', updatedAt: '2024-01-01T00:00:00.000Z', nickname: '',
    });
    expect(snapshot.accounts[1]!.attributes).toMatchObject({ manager: '', 'manager.id': '1001', fte: '1', nickname: '' });
    expect(snapshot.columns).toEqual(['id', 'email', 'nickname', 'firstName', 'lastName', 'title', 'department', 'status', 'active', 'fte', 'address.city', 'address.country', 'manager', 'groups', 'updatedAt', 'manager.id']);
  });

  it('sends Basic credentials and extra headers, and keeps the header values out of messages', async () => {
    await start({ token: undefined, basic: { username: 'svc-idplane', password: 'pw-Kx99-secret' }, apiKey: { header: 'X-Api-Key', value: 'key-77ab-secret' } });
    const connection = { ...connectionFor('page'), token: undefined, username: 'svc-idplane', password: 'pw-Kx99-secret', headers: { 'X-Api-Key': 'key-77ab-secret' }, query: { status: 'all' } };
    expect((await read(connection)).accounts).toHaveLength(250);
    expect(server.requests.every((r) => r.authorized && r.query.status === 'all' && r.headers['x-api-key'] === 'key-77ab-secret')).toBe(true);
    server.inject({ fault: { status: 403, body: { error: 'forbidden', message: `key key-77ab-secret may not read; auth was Basic ${Buffer.from('svc-idplane:pw-Kx99-secret').toString('base64')}` } } });
    const error = await failure(connection);
    expect(error.message).toBe('hr: page 1 of the listing (GET /page/employees?status=all&page=1&per_page=100): the server refused the credentials (HTTP 403); check connection.token, username/password or headers; the server said: key *** may not read; auth was Basic ***');
  });

  it('refuses an Authorization header together with a token', async () => {
    await start();
    const error = await failure({ ...connectionFor('none'), headers: { authorization: 'Bearer other' } });
    expect(error.message).toBe('hr: connection.headers has an Authorization header as well as token or username/password: give one of them');
    expect(server.requests).toHaveLength(0);
  });

  it('incremental: sends since with the stored watermark, returns a partial snapshot, and needs connection.since', async () => {
    await start();
    const changed = server.touch(1003, { title: 'Director' });
    const connection = connectionFor('cursor', { since: { param: 'updated_since' } });
    const imp: HttpApp['import'] = { mode: 'incremental', watermark: 'updatedAt', mappings: { login: 'app.email' } };
    const first = await read(connection, { incremental: { attribute: 'updatedAt', stored: null } }, imp);
    expect(first.accounts).toHaveLength(250);
    expect(first.partial).toBe(true);
    expect(server.requests.every((r) => r.query.updated_since === undefined)).toBe(true);

    server.requests.length = 0;
    const next = await read(connection, { incremental: { attribute: 'updatedAt', stored: changed.updatedAt } }, imp);
    expect(next.accounts.map((a) => a.key)).toEqual(['1003']);
    expect(next.partial).toBe(true);
    expect(server.requests.map((r) => r.query.updated_since)).toEqual([changed.updatedAt]);

    const error = await failure(connectionFor('cursor'), { incremental: { attribute: 'updatedAt', stored: null } });
    expect(error.message).toContain('hr: import.mode is incremental, but connection.since is not set: set connection.since.param');
  });

  it('makes row errors, naming the page, of records without a key or with a repeated one', async () => {
    await start({ count: 150 });
    server.employees.push({ ...server.employees[120]!, firstName: 'Twin' }, { firstName: 'Nobody', updatedAt: '2024-01-01T00:00:00Z' } as never);
    server.employees.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    const snapshot = await read(connectionFor('page'));
    expect(snapshot.accounts).toHaveLength(150);
    expect(snapshot.accounts.find((a) => a.key === '1121')!.attributes.firstName).not.toBe('Twin');
    expect(snapshot.rowErrors).toEqual([
      { line: 1, message: 'the record on page 1 has no id (the key): it is absent' },
      { line: 123, key: '1121', message: 'the record on page 2 has id "1121", like record 122 (page 2); keys must be unique' },
    ]);
  });

  it('retries a 429 with Retry-After, a 503 and a reset connection, and reads everything', async () => {
    await start();
    server.inject({ url: 'page=2', fault: { status: 429, retryAfter: '1', body: { message: 'slow down' } } });
    server.inject({ url: 'page=3', fault: { status: 503 } });
    server.inject({ url: 'page=1', fault: { reset: true } });
    const snapshot = await read(connectionFor('page'));
    expect(snapshot.accounts.map((a) => a.key)).toEqual(ids(250));
    expect(server.requests.map((r) => r.query.page).sort()).toEqual(['1', '1', '2', '2', '3', '3']);
  });

  it('refuses a next link to another origin and sends that origin nothing', async () => {
    const elsewhere = await startHrServer({ token: TOKEN });
    others.push(elsewhere);
    await start({ nextOrigin: elsewhere.url });
    const error = await failure(connectionFor('next-link'));
    expect(error.message).toBe(`hr: page 2 of the listing (GET /next/employees?page=2&per_page=100): the next page's URL is on another origin (${elsewhere.url}), and idplane sends the credentials only to the configured one (${server.url}); the listing is not used`);
    expect(elsewhere.requests).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('offset with a total: asks for the other pages at once, and refuses a server that ignores the offset', async () => {
    await start();
    const connection = connectionFor('offset', { pagination: { type: 'offset', pageSize: 100, totalPath: 'total' } });
    expect((await read(connection)).accounts.map((a) => a.key)).toEqual(ids(250));
    expect(server.requests.map((r) => r.query.offset)).toEqual(['0', '100', '200']);

    server.inject({ url: 'offset=', times: 3, fault: { mutate: () => ({ items: server.employees.slice(0, 100), total: 250 }) } });
    const error = await failure(connection);
    expect(error.message).toBe('hr: page 2 of the listing (GET /offset/employees?offset=100&limit=100): the server answered it with the same records as the page before, so it ignores offset; check pagination (type, offsetParam); the listing is not used');
  });

  it('refuses a listing that a capped page size cut short, and says to lower pageSize', async () => {
    await start({ maxPageSize: 50 });
    const error = await failure(connectionFor('page'));
    expect(error.message).toBe('hr: page 1 of the listing (GET /page/employees?page=1&per_page=100): the listing ended after 50 records on page 1, short of the 250 the server reports (meta.total); it is not used, since a full import would take the missing people as removed. The server may cap the page size below pageSize (100): set pagination.pageSize to its maximum');
    expect((await read(connectionFor('page', { pagination: { type: 'page', pageSize: 50, totalPath: 'meta.total' } }))).accounts).toHaveLength(250);
  });

  it('refuses pages that overlap, even when they add up to the total', async () => {
    await start();
    server.inject({ url: /[?&]page=3&/, fault: { mutate: (body) => ({ ...(body as object), data: { employees: server.employees.slice(0, 50) } }) } });
    const error = await failure(connectionFor('page'));
    expect(error.message).toBe('hr: pages 1-3 of the listing (GET /page/employees?page=1&per_page=100 and on): 50 of its 250 records repeat records of other pages, which leaves 200, short of the 250 the server reports (meta.total); the pages overlap, so the listing is not used, since a full import would take the missing people as removed');
  });

  it('does not follow a redirect, and says where it pointed', async () => {
    await start();
    server.inject({ fault: { status: 302, headers: { location: '/v2/page/employees?page=1' } } });
    const same = await failure(connectionFor('page'));
    expect(same.message).toBe('hr: page 1 of the listing (GET /page/employees?page=1&per_page=100): HTTP 302, a redirect to /v2/page/employees?page=1, which idplane does not follow (credentials stay with the configured URL); set connection.url to where it points');
    server.inject({ fault: { status: 301, headers: { location: 'https://login.example.test/sso?user=x' } } });
    const away = await failure(connectionFor('page'));
    expect(away.message).toContain('HTTP 301, a redirect to https://login.example.test, which idplane does not follow');
    expect(server.requests).toHaveLength(2);
  });

  it('stops a cursor that repeats, and a page parameter the server ignores', async () => {
    await start();
    server.inject({ url: 'cursor=', times: 5, fault: { mutate: (body) => ({ ...(body as object), meta: { next_cursor: Buffer.from('after:100').toString('base64url') } }) } });
    const cursor = await failure(connectionFor('cursor'));
    expect(cursor.message).toMatch(/^hr: page 2 of the listing \(GET \/cursor\/employees\?cursor=YWZ0ZXI6MTAw&limit=100\): the cursor at meta\.next_cursor repeats one given before, so the listing would never end; the listing is not used$/);

    server.clearFaults();
    server.inject({ url: 'offset=', times: 5, fault: { mutate: () => ({ items: server.employees.slice(0, 100) }) } });
    const ignored = await failure(connectionFor('offset'));
    expect(ignored.message).toBe('hr: page 2 of the listing (GET /offset/employees?offset=100&limit=100): the server answered it with the same records as the page before, so it ignores offset; check pagination (type, offsetParam); the listing is not used');
  });
});

// ---------------------------------------------------------------------------------------------------
