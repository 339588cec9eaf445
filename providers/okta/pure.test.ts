/**
 * The okta provider's pure parts: flattening users and typing values back, the lifecycle table, Okta's
 * error body, rate-limit headers, Link parsing and the user schema.
 */
import { describe, expect, it } from 'vitest';
import { nextLink } from '../link-header.ts';
import { oktaErrorOf, openClient, rateLimitReset } from './http.ts';
import { operationsFor, requestOf } from './lifecycle.ts';
import { listingQueries } from './list.ts';
import { pick } from './lookup.ts';
import { flattenUser, isEnabled, OKTA_STATUSES, OktaValueError, profileName, searchLiteral, toWire } from './profile.ts';
import { parseSchema } from './schema.ts';
import { selectionOf } from './read.ts';
import type { OktaApp } from '../../schemas/generated/config.ts';

describe('flattenUser', () => {
  it('gives id, status, active, the timestamps and profile.NAME; never credentials, links, lastLogin or passwordChanged', () => {
    const attributes = flattenUser({
      id: '00u1', status: 'ACTIVE', created: '2024-01-01T00:00:00.000Z', activated: null, statusChanged: '2024-01-02T00:00:00.000Z',
      lastUpdated: '2024-01-03T00:00:00.000Z', lastLogin: '2024-05-05T00:00:00.000Z', passwordChanged: '2024-01-01T00:00:00.000Z',
      profile: { login: 'ada@example.com', mobilePhone: null, isManager: true, level: 7, groups: ['eng', 'ops'], address: { city: 'London' } },
      credentials: { password: {}, provider: { type: 'OKTA' } }, _links: { self: { href: 'https://x/api/v1/users/00u1' } },
    });
    expect(attributes).toEqual({
      id: '00u1', status: 'ACTIVE', active: 'true', created: '2024-01-01T00:00:00.000Z', activated: '', statusChanged: '2024-01-02T00:00:00.000Z',
      lastUpdated: '2024-01-03T00:00:00.000Z', 'profile.login': 'ada@example.com', 'profile.mobilePhone': '', 'profile.isManager': 'true',
      'profile.level': '7', 'profile.groups': 'eng,ops', 'profile.address': '{"city":"London"}',
    });
  });

  it('counts a user by the status they are moving to', () => {
    expect(flattenUser({ id: 'x', status: 'STAGED', transitioningToStatus: 'ACTIVE', profile: {} }).active).toBe('true');
    expect(flattenUser({ id: 'x', status: 'ACTIVE', transitioningToStatus: 'DEPROVISIONED', profile: {} }).active).toBe('false');
    expect(flattenUser({ id: 'x', status: 'WHATEVER', profile: {} }).active).toBe('false');
  });

  it('treats a user as enabled exactly when they can sign in or are on the way to it', () => {
    expect(OKTA_STATUSES.filter(isEnabled)).toEqual(['PROVISIONED', 'ACTIVE', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED']);
  });
});

describe('toWire', () => {
  it('types values by the schema and sends "" as null', () => {
    expect(toWire('isManager', 'TRUE', { type: 'boolean' })).toBe(true);
    expect(toWire('level', '12', { type: 'integer' })).toBe(12);
    expect(toWire('ratio', '0.5', { type: 'number' })).toBe(0.5);
    expect(toWire('groups', 'eng, ops,', { type: 'array', items: 'string' })).toEqual(['eng', 'ops']);
    expect(toWire('codes', '1,2', { type: 'array', items: 'integer' })).toEqual([1, 2]);
    expect(toWire('title', 'Boss', undefined)).toBe('Boss');
    expect(toWire('title', '', { type: 'string' })).toBeNull();
    expect(toWire('title', null, undefined)).toBeNull();
  });

  it('refuses a value its type cannot hold, naming the attribute', () => {
    expect(() => toWire('isManager', 'yes', { type: 'boolean' })).toThrow(new OktaValueError('profile.isManager is a boolean in Okta: expected true or false, got "yes"'));
    expect(() => toWire('level', '1.5', { type: 'integer' })).toThrow(OktaValueError);
  });

  it('round-trips an array the way the reader joins it', () => {
    const shape = { type: 'array' as const, items: 'string' as const };
    expect(flattenUser({ id: 'x', profile: { groups: toWire('groups', 'a,b', shape) } })['profile.groups']).toBe('a,b');
  });
});

describe('names and literals', () => {
  it('maps profile.NAME to the property and nothing else', () => {
    expect(profileName('profile.department')).toBe('department');
    expect(profileName('department')).toBeNull();
    expect(profileName('profile.')).toBeNull();
    expect(profileName('profile.a.b')).toBeNull();
  });

  it('quotes search values with " and \\ escaped', () => {
    expect(searchLiteral('bob"smith\\x')).toBe('"bob\\"smith\\\\x"');
  });
});

describe('lifecycle table', () => {
  it('enables STAGED and DEPROVISIONED users by activating, SUSPENDED ones by unsuspending, others not at all', () => {
    const enable = Object.fromEntries(OKTA_STATUSES.map((s) => [s, operationsFor('enable', s)]));
    expect(enable).toEqual({
      STAGED: ['activate'], PROVISIONED: [], ACTIVE: [], RECOVERY: [], LOCKED_OUT: [], PASSWORD_EXPIRED: [], SUSPENDED: ['unsuspend'], DEPROVISIONED: ['activate'],
    });
    // What enable leaves alone is what the reader counts as enabled, so an enable always converges.
    for (const s of OKTA_STATUSES) expect(enable[s]!.length === 0).toBe(isEnabled(s));
  });

  it('deactivates anyone not DEPROVISIONED, and deletes only after deactivating', () => {
    expect(OKTA_STATUSES.map((s) => operationsFor('disable', s).join('+'))).toEqual(['deactivate', 'deactivate', 'deactivate', 'deactivate', 'deactivate', 'deactivate', 'deactivate', '']);
    expect(operationsFor('delete', 'ACTIVE')).toEqual(['deactivate', 'delete']);
    expect(operationsFor('delete', 'DEPROVISIONED')).toEqual(['delete']);
  });

  it('sends activate and deactivate without email', () => {
    expect(requestOf('activate', '00u 1')).toEqual({ method: 'POST', path: '/users/00u%201/lifecycle/activate', query: { sendEmail: 'false' } });
    expect(requestOf('deactivate', '00u1')).toEqual({ method: 'POST', path: '/users/00u1/lifecycle/deactivate', query: { sendEmail: 'false' } });
    expect(requestOf('unsuspend', '00u1')).toEqual({ method: 'POST', path: '/users/00u1/lifecycle/unsuspend', query: {} });
    expect(requestOf('delete', '00u1')).toEqual({ method: 'DELETE', path: '/users/00u1', query: {} });
  });
});

describe('Okta wire format', () => {
  it('reads the error body: code, summary and causes', () => {
    expect(oktaErrorOf({
      errorCode: 'E0000001', errorSummary: 'Api validation failed: login', errorLink: 'E0000001', errorId: 'oae1',
      errorCauses: [{ errorSummary: 'login: An object with this field already exists in the current organization' }],
    })).toEqual({ code: 'E0000001', label: 'E0000001', detail: 'Api validation failed: login (login: An object with this field already exists in the current organization)' });
    expect(oktaErrorOf({ errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorCauses: [] })).toEqual({ code: 'E0000011', label: 'E0000011', detail: 'Invalid token provided' });
    expect(oktaErrorOf('<html>')).toEqual({});
  });

  it('turns X-Rate-Limit-Reset (epoch seconds) into a wait', () => {
    expect(rateLimitReset(new Headers({ 'x-rate-limit-reset': '1700000010' }), 1_700_000_000_000)).toBe(10_000);
    expect(rateLimitReset(new Headers({ 'x-rate-limit-reset': '1600000000' }), 1_700_000_000_000)).toBe(0);
    expect(rateLimitReset(new Headers({}), 0)).toBeUndefined();
    expect(rateLimitReset(new Headers({ 'x-rate-limit-reset': 'soon' }), 0)).toBeUndefined();
    // Measured on Okta's clock (its Date header) when there is one: a local clock 5 s ahead still waits.
    expect(rateLimitReset(new Headers({ 'x-rate-limit-reset': '1700000010', date: new Date(1_700_000_004_000).toUTCString() }), 1_700_000_009_000)).toBe(6_000);
  });

  it('finds rel="next" among the Link headers fetch joins', () => {
    const joined = '<https://acme.okta.com/api/v1/users?limit=2>; rel="self", <https://acme.okta.com/api/v1/users?after=00u2&limit=2>; rel="next"';
    expect(nextLink(joined)).toBe('https://acme.okta.com/api/v1/users?after=00u2&limit=2');
    expect(nextLink('<https://acme.okta.com/api/v1/users?limit=2>; rel="self"')).toBeUndefined();
    expect(nextLink('<https://x/a?b=c,d>; rel=next')).toBe('https://x/a?b=c,d');
    expect(nextLink(null)).toBeUndefined();
  });

  it('needs exactly one credential and sends it the way Okta reads it', () => {
    expect(() => openClient('okta', { url: 'https://acme.okta.com' })).toThrow('okta: connection needs token (an API token, sent as SSWS) or accessToken (OAuth 2.0)');
    expect(() => openClient('okta', { url: 'https://acme.okta.com', token: 'a', accessToken: 'b' })).toThrow('give one');
    expect(() => openClient('okta', { url: 'https://user:pw12@acme.okta.com', token: 'tok-1234' })).toThrow('must not hold credentials');
  });

  it('lists DEPROVISIONED users besides the plain listing, unless a search or filter selects', () => {
    expect(listingQueries({})).toEqual([{}, { search: 'status eq "DEPROVISIONED"' }]);
    expect(listingQueries({ search: 'profile.department eq "R&D"' })).toEqual([{ search: 'profile.department eq "R&D"' }]);
    expect(listingQueries({ filter: 'status eq "ACTIVE"' })).toEqual([{ filter: 'status eq "ACTIVE"' }]);
    expect(() => listingQueries({ search: 'a pr', filter: 'b pr' })).toThrow('E0000033');
  });

  it('picks exactly one user by key, refusing duplicates and case-only differences', () => {
    const u = (id: string, login: string) => ({ id, profile: { login } });
    expect(pick('okta', [u('1', 'a@x.io'), u('2', 'b@x.io')], 'profile.login', 'b@x.io')).toEqual({ kind: 'found', user: u('2', 'b@x.io') });
    expect(pick('okta', [u('1', 'a@x.io'), u('2', 'a@x.io')], 'profile.login', 'a@x.io')).toMatchObject({ kind: 'refused', message: expect.stringContaining('2 users in okta') });
    expect(pick('okta', [u('1', 'A@x.io')], 'profile.login', 'a@x.io')).toMatchObject({ kind: 'refused', message: expect.stringContaining('only in case') });
    expect(pick('okta', [u('1', 'ab@x.io')], 'profile.login', 'a@x.io')).toEqual({ kind: 'none' });
  });
});

describe('parseSchema', () => {
  it('reads base and custom properties with types, required and uniqueness', () => {
    const properties = parseSchema({
      definitions: {
        base: { id: '#base', properties: { login: { title: 'Username', type: 'string', required: true }, email: { type: 'string', unique: 'UNIQUE_VALIDATED' }, nickName: { type: 'string' } }, required: ['login', 'email'] },
        custom: { id: '#custom', properties: { costCodes: { type: 'array', items: { type: 'integer' } }, isManager: { type: 'boolean', description: 'People  lead' }, odd: { type: 'object' } }, required: [] },
      },
    });
    expect(properties).toEqual([
      { name: 'login', origin: 'base', type: 'string', required: true, unique: true, title: 'Username', description: null },
      { name: 'email', origin: 'base', type: 'string', required: true, unique: true, title: null, description: null },
      { name: 'nickName', origin: 'base', type: 'string', required: false, unique: false, title: null, description: null },
      { name: 'costCodes', origin: 'custom', type: 'array', items: 'integer', required: false, unique: false, title: null, description: null },
      { name: 'isManager', origin: 'custom', type: 'boolean', required: false, unique: false, title: null, description: 'People lead' },
      { name: 'odd', origin: 'custom', type: 'string', required: false, unique: false, title: null, description: null },
    ]);
    expect(parseSchema({ id: 'nope' })).toBeNull();
  });
});

describe('selectionOf (incremental reads)', () => {
  const app = (connection: Record<string, string>) => ({ provider: 'okta', connection: { url: 'https://acme.okta.test', token: 't', ...connection }, import: { mappings: {} } }) as unknown as OktaApp;
  const since = { attribute: 'lastUpdated', stored: '2026-12-07T08:15:00.000Z' };

  it('keeps the configured selection on a full read and on the first incremental one', () => {
    expect(selectionOf('okta', app({ search: 'profile.department eq "R&D"' }), null)).toEqual({ search: 'profile.department eq "R&D"' });
    expect(selectionOf('okta', app({}), { attribute: 'lastUpdated', stored: null })).toEqual({});
  });

  it('narrows it to the users changed at or after the watermark', () => {
    expect(selectionOf('okta', app({}), since)).toEqual({ search: 'lastUpdated ge "2026-12-07T08:15:00.000Z"' });
    expect(selectionOf('okta', app({ search: 'profile.a eq "x" or profile.b eq "y"' }), since)).toEqual({ search: '(profile.a eq "x" or profile.b eq "y") and lastUpdated ge "2026-12-07T08:15:00.000Z"' });
    expect(selectionOf('okta', app({ filter: 'status eq "ACTIVE"' }), since)).toEqual({ filter: '(status eq "ACTIVE") and lastUpdated ge "2026-12-07T08:15:00.000Z"' });
  });

  it('refuses another watermark, and a stored one that is not an Okta timestamp (it goes into the query)', () => {
    expect(() => selectionOf('okta', app({}), { attribute: 'profile.login', stored: null })).toThrow('set import.watermark to lastUpdated');
    expect(() => selectionOf('okta', app({}), { attribute: 'lastUpdated', stored: '2026" or status eq "x' })).toThrow('is not an Okta timestamp');
  });
});

describe('operationsFor suspend', () => {
  it('suspends an ACTIVE user, leaves one that cannot sign in, and deactivates a status Okta cannot suspend', () => {
    expect(operationsFor('suspend', 'ACTIVE')).toEqual(['suspend']);
    expect(operationsFor('suspend', 'SUSPENDED')).toEqual([]);
    expect(operationsFor('suspend', 'DEPROVISIONED')).toEqual([]);
    for (const status of ['STAGED', 'PROVISIONED', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED'] as const) expect(operationsFor('suspend', status)).toEqual(['deactivate']);
    expect(requestOf('suspend', '00u1')).toEqual({ method: 'POST', path: '/users/00u1/lifecycle/suspend', query: {} });
  });
});
