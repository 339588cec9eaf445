/**
 * Finding an Okta user by an account key, for the writer. The answer is never trusted blindly: exactly
 * one user whose key equals the key exactly is the account; several are a refusal (never a guess); one
 * that differs only in case is a refusal that says so (linking it under another key would not converge).
 * Contract:
 * - key `id`: GET /api/v1/users/{id}. key `profile.login`: GET /api/v1/users/{login} (the get-user
 *   endpoint, which Okta recommends over search for current data), unless the login holds `/` or `?`
 *   (Okta fetches those only by id). Any other key, and those logins: `search=<key> eq "<value>"`, which
 *   Okta documents as eventually consistent (typically under a second behind).
 * - byLogin() looks a user up by login (GET), whatever the app's key: logins are unique in an org, so a
 *   create that Okta refused as a duplicate, or whose answer was lost, is found here at once.
 * - 404 is `none`; any other error status, or an answer that is not a user, throws HttpRequestError.
 */
import { HttpRequestError } from '../http-client.ts';
import type { OktaClient } from './http.ts';
import { listUsers, type OktaUser } from './list.ts';
import { flattenUser, searchLiteral } from './profile.ts';

export type Lookup = { kind: 'found'; user: OktaUser } | { kind: 'none' } | { kind: 'refused'; message: string };

function isUser(value: unknown): value is OktaUser {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { id?: unknown }).id === 'string';
}

/** GET /api/v1/users/{idOrLogin}: the user, or null for 404. */
export async function getUser(client: OktaClient, idOrLogin: string): Promise<OktaUser | null> {
  const url = client.api(`/users/${encodeURIComponent(idOrLogin)}`);
  const response = await client.request('GET', url);
  if (response.status === 404) return null;
  if (response.status < 200 || response.status >= 300) throw client.failure('GET', url, response);
  if (!isUser(response.body)) throw new HttpRequestError(client.redact(`GET ${client.describe(url)}: the answer is not an Okta user`), 'malformed', response.status);
  return response.body;
}

/** The value of an account attribute (`id`, `profile.login`, …) of a user, as the reader flattens it. */
export function valueOf(user: OktaUser, attribute: string): string {
  return flattenUser(user)[attribute] ?? '';
}

/** Picks the user whose `attribute` is exactly `value` among candidates (see the contract). */
export function pick(app: string, candidates: OktaUser[], attribute: string, value: string): Lookup {
  const exact = candidates.filter((u) => valueOf(u, attribute) === value);
  if (exact.length === 1) return { kind: 'found', user: exact[0]! };
  if (exact.length > 1) {
    return { kind: 'refused', message: `${exact.length} users in ${app} have ${attribute} ${JSON.stringify(value)} (ids ${exact.map((u) => u.id).join(', ')}); idplane never guesses` };
  }
  const lower = value.toLowerCase();
  const folded = candidates.filter((u) => valueOf(u, attribute).toLowerCase() === lower);
  if (folded.length > 0) {
    const names = folded.map((u) => JSON.stringify(valueOf(u, attribute))).join(', ');
    return { kind: 'refused', message: `${app} holds ${names}, which differs from ${JSON.stringify(value)} only in case; not linked under another key (fix the user or the mapping)` };
  }
  return { kind: 'none' };
}

/** Finds the user whose `keyAttribute` is exactly `key`. */
export async function lookup(client: OktaClient, keyAttribute: string, key: string): Promise<Lookup> {
  if (keyAttribute === 'id') {
    const user = await getUser(client, key);
    return user && user.id === key ? { kind: 'found', user } : { kind: 'none' };
  }
  if (keyAttribute === 'profile.login' && !/[/?]/.test(key)) return byLogin(client, key);
  const listing = await listUsers(client, { search: `${keyAttribute} eq ${searchLiteral(key)}` });
  return pick(client.app, listing.users.map((u) => u.user), keyAttribute, key);
}

/** Finds the user whose login is `login` (GET by login; Okta also answers a unique login shortname, which is not it). */
export async function byLogin(client: OktaClient, login: string): Promise<Lookup> {
  if (/[/?]/.test(login)) {
    const listing = await listUsers(client, { search: `profile.login eq ${searchLiteral(login)}` });
    return pick(client.app, listing.users.map((u) => u.user), 'profile.login', login);
  }
  const user = await getUser(client, login);
  return user ? pick(client.app, [user], 'profile.login', login) : { kind: 'none' };
}
