/**
 * Lists every record of an http app, page by page, as pagination.ts says, through the shared transport.
 * Contract:
 * - Each page is a GET with the app's credentials. Its records are the array at connection.records
 *   (the body itself when unset); they are returned as found, with their 1-based position in the
 *   listing and the page they came on; listing.ts judges no record (records.ts does).
 * - Anything else stops the listing with a ListingError whose message names the request by its path
 *   and query (never the origin or a secret) and the page's number in the listing: an error status
 *   (401/403 "the server refused the credentials", 404, 5xx and 429 after the retries), a redirect
 *   (not followed), a timeout or lost connection after the retries, a body that is not JSON (an HTML
 *   page with 200 included), a page that is not a JSON object when records are at a path, the records
 *   path missing or not an array, a next link to another origin (credentials go nowhere else), a loop
 *   (a cursor or link seen before, a page that repeats the one before, more than MAX_PAGES pages).
 * - A listing is never returned shorter than the server says it is: with pagination none, an answer
 *   with a Link rel="next" header (the server pages, and only page 1 would be read) is an error; with
 *   totalPath, a listing that ends with fewer records than the total is an error, and so is a page or
 *   offset listing whose pages give different totals (records were added or removed while paging, so
 *   records may have shifted between pages unseen).
 * - With totalPath and page or offset paging, once the first page gives the total, the other pages are
 *   requested at once, by `concurrency` workers (the transport's adaptive limit bounds them further
 *   after a 429), and taken in order; a page that comes back full after them is followed page by page.
 *   After a failure no further page is requested.
 * - `firstPageOnly` (schema discovery) stops after the first page, without the completeness checks.
 */
import { createHash } from 'node:crypto';
import { HttpRequestError } from '../http-client.ts';
import type { HrClient } from './client.ts';
import { nextLink } from '../link-header.ts';
import { firstParams, nextStep, pageParams, plannedIndexes, repeated, type PageFacts, type Paging } from './pagination.ts';
import { countAt, isObject, kindOf, readPath } from './paths.ts';
import { withParams } from './query.ts';

export interface ListedRecord {
  /** 1-based position in the listing. */
  position: number;
  /** 1-based number of the page in the listing. */
  page: number;
  record: unknown;
}

export interface Listing {
  records: ListedRecord[];
  pages: number;
  /** The total the server gave (totalPath), if any. */
  total?: number;
  /** How the first request is named in messages. */
  firstRequest: string;
}

export interface ListOptions {
  client: HrClient;
  /** connection.url. */
  url: URL;
  /** The query every request built from url carries (baseParams). */
  params: Record<string, string>;
  paging: Paging;
  /** connection.records as segments; null for the body itself. */
  recordsPath: string[] | null;
  totalPath: string[] | null;
  firstPageOnly?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export class ListingError extends Error {}

interface Page {
  number: number;
  url: URL;
  records: unknown[];
  total?: number;
  cursor?: string;
  /** The next page's absolute URL (next-link, link-header), '' when none. */
  next?: string;
  digest: string;
}

export async function listRecords(options: ListOptions): Promise<Listing> {
  const { client, paging } = options;
  const records: ListedRecord[] = [];
  const seen = new Set<string>();
  let firstTotal: number | undefined;
  let lastTotal: number | undefined;
  let previousDigest: string | undefined;
  let pages = 0;

  const take = (page: Page) => {
    pages = page.number;
    for (const record of page.records) records.push({ position: records.length + 1, page: page.number, record });
    if (page.total !== undefined) {
      if (firstTotal === undefined) firstTotal = page.total;
      else if ((paging.type === 'page' || paging.type === 'offset') && page.total !== firstTotal) {
        throw pageError(client, page, `it gives a total of ${page.total} (${options.totalPath!.join('.')}) where page 1 gave ${firstTotal}: records were added or removed while paging, so some may have moved to a page already read; the listing is not used (run again)`);
      }
      lastTotal = page.total;
    }
    options.onProgress?.(records.length, lastTotal ?? records.length);
  };
  const facts = (page: Page): PageFacts => ({
    index: page.number - 1, count: page.records.length, read: records.length, digest: page.digest,
    ...(lastTotal !== undefined ? { total: lastTotal } : {}),
    ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
    ...(page.next !== undefined ? { next: page.next } : {}),
    ...(previousDigest !== undefined ? { previousDigest } : {}),
  });

  const firstUrl = withParams(options.url, { ...options.params, ...firstParams(paging) });
  seen.add(firstUrl.href);
  let page = await fetchPage(options, 1, firstUrl);
  take(page);
  if (options.firstPageOnly) return { records, pages, ...(lastTotal !== undefined ? { total: lastTotal } : {}), firstRequest: client.describe(firstUrl) };
  if (paging.type === 'page' || paging.type === 'offset') {
    const planned = plannedIndexes(paging, lastTotal, page.records.length);
    if (planned.length > 0) {
      const fetched = await fetchAll(planned, client.concurrency, (index) => fetchPage(options, index + 1, withParams(options.url, { ...options.params, ...pageParams(paging, index) })));
      for (const p of fetched) {
        previousDigest = page.digest;
        const repeat = repeated(paging, { count: p.records.length, digest: p.digest, previousDigest });
        if (repeat !== undefined) throw pageError(client, p, `${repeat}; the listing is not used`);
        take(p);
        page = p;
      }
    }
  }
  for (;;) {
    const step = nextStep(paging, facts(page), seen);
    if (step.kind === 'end') break;
    if (step.kind === 'loop') throw pageError(client, page, `${step.reason}; the listing is not used`);
    let url: URL;
    if (step.kind === 'params') url = withParams(options.url, { ...options.params, ...step.params });
    else url = new URL(step.link);
    previousDigest = page.digest;
    page = await fetchPage(options, page.number + 1, url);
    take(page);
  }
  const total = lastTotal;
  if (total !== undefined && records.length < total) {
    const size = paging.type === 'page' || paging.type === 'offset' ? paging.size : undefined;
    const capped = size !== undefined && pages === 1 && records.length > 0 && records.length < size;
    throw pageError(client, page, `the listing ended after ${records.length} records on page ${page.number}, short of the ${total} the server reports (${options.totalPath!.join('.')}); it is not used, since a full import would take the missing people as removed${capped ? `. The server may cap the page size below pageSize (${size}): set pagination.pageSize to its maximum` : ''}`);
  }
  return { records, pages, ...(total !== undefined ? { total } : {}), firstRequest: client.describe(firstUrl) };
}

/**
 * Fetches the pages at these indexes with at most `workers` at a time, in order of index. After a
 * failure no further page is started; the pages in flight are let finish, and the failure of the
 * earliest page is thrown, so that the message does not depend on which answer came first.
 */
async function fetchAll(indexes: number[], workers: number, fetch: (index: number) => Promise<Page>): Promise<Page[]> {
  const pages: Page[] = new Array<Page>(indexes.length);
  const failures: { at: number; error: unknown }[] = [];
  let next = 0;
  const work = async () => {
    while (failures.length === 0 && next < indexes.length) {
      const at = next++;
      try {
        pages[at] = await fetch(indexes[at]!);
      } catch (error) {
        failures.push({ at, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(workers, 1), indexes.length) }, work));
  if (failures.length > 0) throw failures.sort((a, b) => a.at - b.at)[0]!.error;
  return pages;
}

function where(client: HrClient, number: number, url: URL): string {
  return `page ${number} of the listing (GET ${client.describe(url)})`;
}

function pageError(client: HrClient, page: Pick<Page, 'number' | 'url'>, what: string): ListingError {
  return new ListingError(client.redact(`${where(client, page.number, page.url)}: ${what}`));
}

/** GETs one page and reads what paging needs from it; throws ListingError on anything unusable. */
async function fetchPage(options: ListOptions, number: number, url: URL): Promise<Page> {
  const { client, paging } = options;
  const fail = (what: string) => pageError(client, { number, url }, what);
  if (!client.sameOrigin(url)) {
    throw fail(`the next page's URL is on another origin (${url.origin}), and idplane sends the credentials only to the configured one (${client.baseUrl.origin}); the listing is not used`);
  }
  let response;
  try {
    response = await client.request('GET', url);
  } catch (error) {
    if (!(error instanceof HttpRequestError)) throw error;
    const transient = error.kind === 'timeout' || error.kind === 'network';
    throw fail(`${withoutRequest(client, url, error.message)}${transient ? ` (${retried(client)})` : ''}`);
  }
  const status = response.status;
  if (status < 200 || status >= 300) throw fail(statusMessage(client, url, response, status));
  const body = response.body;
  if (body === undefined) throw fail(`HTTP ${status} with an empty body, not a JSON page`);
  const path = options.recordsPath;
  let list: unknown;
  if (path === null) {
    list = body;
    if (!Array.isArray(list)) {
      const keys = isObject(body) ? ` with the keys ${Object.keys(body).slice(0, 8).join(', ')}` : '';
      throw fail(`the page is ${kindOf(body)}${keys}, not an array of records; set connection.records to where the records are`);
    }
  } else {
    if (!isObject(body)) throw fail(`the page is ${kindOf(body)}, not a JSON object with the records at ${path.join('.')}`);
    list = readPath(body, path);
    if (list === undefined) throw fail(`the page has no ${path.join('.')} (connection.records); its keys: ${Object.keys(body).slice(0, 8).join(', ') || 'none'}`);
    if (!Array.isArray(list)) throw fail(`${path.join('.')} (connection.records) is ${kindOf(list)}, not an array of records`);
  }
  const records = list as unknown[];
  const page: Page = { number, url, records, digest: createHash('sha256').update(JSON.stringify(records)).digest('hex') };
  if (options.totalPath) {
    const total = countAt(body, options.totalPath);
    if (total !== undefined) page.total = total;
    else if (number === 1) throw fail(`the page has no count at ${options.totalPath.join('.')} (pagination.totalPath): it is ${kindOf(readPath(body, options.totalPath))}`);
  }
  const linkHeader = nextLink(response.headers.get('link'));
  switch (paging.type) {
    case 'none':
      if (linkHeader !== undefined) {
        throw fail('the answer has a Link header with rel="next": the server pages its listing, and only its first page would be read; set connection.pagination (type: link-header, or the paging the API documents)');
      }
      break;
    case 'page':
    case 'offset':
      break;
    case 'cursor': {
      const cursor = readPath(body, paging.cursorPath);
      if (cursor !== undefined && cursor !== null && typeof cursor !== 'string' && typeof cursor !== 'number') {
        throw fail(`the cursor at ${paging.cursorPath.join('.')} is ${kindOf(cursor)}, not a string`);
      }
      page.cursor = cursor === undefined || cursor === null ? '' : String(cursor);
      break;
    }
    case 'next-link': {
      const link = readPath(body, paging.nextPath);
      if (link !== undefined && link !== null && typeof link !== 'string') throw fail(`the next link at ${paging.nextPath.join('.')} is ${kindOf(link)}, not a URL`);
      page.next = resolve(link ?? '', url, fail);
      break;
    }
    case 'link-header':
      page.next = resolve(linkHeader ?? '', url, fail);
      break;
    default: {
      const never: never = paging;
      throw fail(`unknown paging ${JSON.stringify(never)}`);
    }
  }
  return page;
}

/** A next link as an absolute URL (relative ones against the page's own URL), '' for none. */
function resolve(link: string, base: URL, fail: (what: string) => ListingError): string {
  if (link.trim() === '') return '';
  try {
    return new URL(link.trim(), base).href;
  } catch {
    throw fail('the next link is not a URL');
  }
}

/** The transport's message without its leading "GET /path" (the caller names the request and page). */
function withoutRequest(client: HrClient, url: URL, message: string): string {
  const prefix = `GET ${client.describe(url)}`;
  return message.startsWith(prefix) ? message.slice(prefix.length).replace(/^:\s*/, '') : message;
}

/** The statuses the transport retries on a GET. */
const RETRIED = new Set([500, 502, 503, 504]);

function retried(client: HrClient): string {
  const retries = client.policy.settings.retries;
  return `after ${retries} ${retries === 1 ? 'retry' : 'retries'}`;
}

function statusMessage(client: HrClient, url: URL, response: Awaited<ReturnType<HrClient['request']>>, status: number): string {
  const failure = client.failure('GET', url, response);
  const detail = failure.detail ?? response.text;
  const said = detail ? `; the server said: ${client.redact(detail)}` : '';
  if (status === 401 || status === 403) return `the server refused the credentials (HTTP ${status}); check connection.token, username/password or headers${said}`;
  if (status === 404) return `not found (HTTP 404); check connection.url${said}`;
  if (status === 429) return `HTTP 429 (too many requests) ${retried(client)}${said}`;
  if (RETRIED.has(status)) return `HTTP ${status} ${retried(client)}${said}`;
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location');
    const to = location ? client.location(location) : undefined;
    return `HTTP ${status}, a redirect${to ? ` to ${to.origin === client.baseUrl.origin ? client.describe(to) : to.origin}` : ''}, which idplane does not follow (credentials stay with the configured URL); set connection.url to where it points`;
  }
  return `HTTP ${status}${said}`;
}
