/**
 * Lists an org's users: GET /api/v1/users with `limit`, then the `Link: <…>; rel="next"` pages, each
 * only on the configured origin (the credentials go nowhere else; a next link elsewhere fails the
 * listing).
 * Contract:
 * - With connection.search or connection.filter, that one listing (Okta returns matching users of every
 *   status). With neither, Okta's plain listing leaves DEPROVISIONED users out, so they are listed too
 *   (`search=status eq "DEPROVISIONED"`): a deactivated user is read as deactivated, never as missing.
 *   A user found by both listings (deactivated while listing) is taken as the second saw them.
 * - Anything that stops a listing part-way (an error status after the transport's retries, a page that
 *   is not a JSON array, an unreadable, foreign or repeating next link) throws: a shorter list would make
 *   a full import take the rest as removed.
 * - Users without an id come back as row errors, by their 1-based position in the listing.
 */
import type { RowError } from '../../reconciler/model.ts';
import { HttpRequestError } from '../http-client.ts';
import { nextLink } from '../link-header.ts';
import type { OktaClient } from './http.ts';

export type OktaUser = Record<string, unknown> & { id: string };

export interface Listing<T = OktaUser> {
  /** Users with an id, each once (as `shape` keeps them), with their 1-based position in the listing. */
  users: { position: number; user: T }[];
  rowErrors: RowError[];
}

export interface ListOptions {
  search?: string;
  filter?: string;
  onProgress?: (done: number, total: number) => void;
}

export const DEPROVISIONED_SEARCH = 'status eq "DEPROVISIONED"';

/** The listings a read needs (see the contract). */
export function listingQueries(options: Pick<ListOptions, 'search' | 'filter'>): Record<string, string>[] {
  if (options.search !== undefined && options.filter !== undefined) {
    throw new HttpRequestError('connection has both search and filter; Okta takes one of them per request (E0000033): give one', 'malformed');
  }
  if (options.search !== undefined) return [{ search: options.search }];
  if (options.filter !== undefined) return [{ filter: options.filter }];
  return [{}, { search: DEPROVISIONED_SEARCH }];
}

/**
 * Every user the listings give, each kept as `shape` makes it (a reader keeps only what it needs of a
 * million users, not their links and credentials).
 */
export async function listUsers<T = OktaUser>(client: OktaClient, options: ListOptions = {}, shape: (user: OktaUser) => T = (user) => user as T): Promise<Listing<T>> {
  const byId = new Map<string, { position: number; user: T }>();
  const rowErrors: RowError[] = [];
  let position = 0;
  for (const query of listingQueries(options)) {
    let url: URL | undefined = client.api('/users', { limit: client.pageSize, ...query });
    const seen = new Set<string>();
    while (url) {
      seen.add(url.href);
      const response = await client.request('GET', url);
      if (response.status < 200 || response.status >= 300) throw client.failure('GET', url, response);
      if (!Array.isArray(response.body)) throw client.malformed('GET', url, response.status, 'the answer is not a JSON array of users');
      for (const entry of response.body as unknown[]) {
        position++;
        const id = (entry as { id?: unknown } | null)?.id;
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || typeof id !== 'string' || id === '') {
          rowErrors.push({ line: position, message: `user #${position} of the listing has no id` });
          continue;
        }
        const known = byId.get(id);
        byId.set(id, { position: known?.position ?? position, user: shape(entry as OktaUser) });
      }
      options.onProgress?.(byId.size, byId.size);
      url = following(client, url, response.headers.get('link'), seen);
    }
  }
  const users = [...byId.values()].sort((a, b) => a.position - b.position);
  return { users, rowErrors };
}

/** The next page's URL, checked (see the contract), or undefined on the last page. */
function following(client: OktaClient, current: URL, header: string | null, seen: Set<string>): URL | undefined {
  const link = nextLink(header);
  if (link === undefined) return undefined;
  const next = client.location(link);
  if (!next) throw client.malformed('GET', current, 200, `the next-page link ${JSON.stringify(client.redact(link))} is not a URL; the listing is incomplete and is not used`);
  if (!client.sameOrigin(next)) {
    throw client.malformed('GET', current, 200, `the next-page link points to ${next.origin}, not the configured org; not followed (credentials go only to connection.url), so the listing is incomplete and is not used`);
  }
  if (seen.has(next.href)) throw client.malformed('GET', current, 200, `the next-page link repeats a page already read (${client.describe(next)}); the listing is incomplete and is not used`);
  return next;
}
