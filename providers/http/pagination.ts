/**
 * How a listing pages, as pure values and steps: the connection's `pagination` settings with their
 * defaults filled in (pagingOf), the query parameters of each page, and after each page what comes next.
 * listing.ts does the requests; this file decides nothing about I/O, so every rule is tested alone.
 * Contract:
 * - pagingOf() closes the settings into one Paging union (defaults: pageSize 100, page/per_page from
 *   firstPage 1, offset/limit, cursor/limit); cursor without cursorPath and next-link without nextPath
 *   throw PagingError, since such a listing could never go past its first page.
 * - firstParams() is the first request's paging parameters; pageParams(paging, index) those of the
 *   page at a 0-based index for page and offset (for the requests sent at once when the total is known).
 * - nextStep() says, from the page just read, what follows: more parameters (page, offset, cursor), a
 *   URL to follow (next-link, link-header), the end, or a loop (a cursor or a link seen before, a page
 *   or offset answered with the very same records as the page before it: repeated()). page and offset end on an
 *   empty page or a short one (fewer records than pageSize), or once `total` records were read.
 * - plannedIndexes() lists the pages still to fetch when the first one gave the total (page and
 *   offset only): indexes 1 … ceil(total / pageSize) − 1, or none when the first page was short.
 */
import type { HttpPagination } from '../../schemas/generated/config.ts';
import { parseDottedPath } from './paths.ts';

export const DEFAULT_PAGE_SIZE = 100;
/** The most pages one listing may take: past it the listing is taken to loop. */
export const MAX_PAGES = 100_000;

export type Paging =
  | { type: 'none' }
  | { type: 'page'; size: number; pageParam: string; sizeParam: string; firstPage: number }
  | { type: 'offset'; size: number; offsetParam: string; limitParam: string }
  | { type: 'cursor'; size: number; sizeParam: string; cursorParam: string; cursorPath: string[] }
  | { type: 'next-link'; nextPath: string[] }
  | { type: 'link-header' };

export class PagingError extends Error {}

export function pagingOf(p: HttpPagination | undefined): Paging {
  if (!p) return { type: 'none' };
  const size = p.pageSize ?? DEFAULT_PAGE_SIZE;
  switch (p.type) {
    case 'none': return { type: 'none' };
    case 'page': return { type: 'page', size, pageParam: p.pageParam ?? 'page', sizeParam: p.sizeParam ?? 'per_page', firstPage: p.firstPage ?? 1 };
    case 'offset': return { type: 'offset', size, offsetParam: p.offsetParam ?? 'offset', limitParam: p.limitParam ?? 'limit' };
    case 'cursor':
      if (!p.cursorPath) throw new PagingError('pagination type cursor needs pagination.cursorPath: where each page gives the next cursor, e.g. meta.next_cursor');
      return { type: 'cursor', size, sizeParam: p.sizeParam ?? 'limit', cursorParam: p.cursorParam ?? 'cursor', cursorPath: parseDottedPath(p.cursorPath) };
    case 'next-link':
      if (!p.nextPath) throw new PagingError('pagination type next-link needs pagination.nextPath: where each page gives the next page\'s URL, e.g. links.next');
      return { type: 'next-link', nextPath: parseDottedPath(p.nextPath) };
    case 'link-header': return { type: 'link-header' };
    default: {
      const never: never = p.type;
      throw new PagingError(`unknown pagination type ${JSON.stringify(never)}`);
    }
  }
}

/** The paging parameters of the page at a 0-based index (page and offset). */
export function pageParams(paging: Extract<Paging, { type: 'page' | 'offset' }>, index: number): Record<string, string> {
  switch (paging.type) {
    case 'page': return { [paging.pageParam]: String(paging.firstPage + index), [paging.sizeParam]: String(paging.size) };
    case 'offset': return { [paging.offsetParam]: String(index * paging.size), [paging.limitParam]: String(paging.size) };
    default: {
      const never: never = paging;
      throw new PagingError(`not an indexed paging: ${JSON.stringify(never)}`);
    }
  }
}

export function firstParams(paging: Paging): Record<string, string> {
  switch (paging.type) {
    case 'page':
    case 'offset': return pageParams(paging, 0);
    case 'cursor': return { [paging.sizeParam]: String(paging.size) };
    case 'none':
    case 'next-link':
    case 'link-header': return {};
    default: {
      const never: never = paging;
      throw new PagingError(`unknown paging ${JSON.stringify(never)}`);
    }
  }
}

/** The pages still to fetch at once after the first, when the server gave the total (page and offset). */
export function plannedIndexes(paging: Paging, total: number | undefined, firstCount: number): number[] {
  if (total === undefined || (paging.type !== 'page' && paging.type !== 'offset')) return [];
  if (firstCount < paging.size) return []; // a short first page: the last, or a server that caps the size
  const pages = Math.ceil(total / paging.size);
  return Array.from({ length: Math.max(pages - 1, 0) }, (_, i) => i + 1);
}

/** What one page said that paging needs. */
export interface PageFacts {
  /** 0-based index of the page in the listing. */
  index: number;
  /** Its records (all of them, readable or not). */
  count: number;
  /** Records read so far, this page included. */
  read: number;
  /** The total the server gave, if totalPath is set and the page had it. */
  total?: number;
  /** cursor: the value at cursorPath ('' when absent or null). */
  cursor?: string;
  /** next-link / link-header: the next page's URL as the server wrote it ('' when none). */
  next?: string;
  /** A digest of the page's records, to tell a page that repeats the one before. */
  digest: string;
  /** The digest of the page before, if any. */
  previousDigest?: string;
}

export type Step =
  | { kind: 'params'; params: Record<string, string> }
  | { kind: 'follow'; link: string }
  | { kind: 'end' }
  | { kind: 'loop'; reason: string };

/**
 * page and offset: why a page that holds the very same records as the page before it means the server
 * ignores the paging parameter, or undefined when it does not repeat (or is empty).
 */
export function repeated(paging: Paging, page: Pick<PageFacts, 'count' | 'digest' | 'previousDigest'>): string | undefined {
  if (paging.type !== 'page' && paging.type !== 'offset') return undefined;
  if (page.count === 0 || page.previousDigest === undefined || page.digest !== page.previousDigest) return undefined;
  const param = paging.type === 'page' ? 'pageParam' : 'offsetParam';
  return `the server answered it with the same records as the page before, so it ignores ${paging.type === 'page' ? paging.pageParam : paging.offsetParam}; check pagination (type, ${param})`;
}

/** What follows a page (see the contract). `seen` holds the cursors or links already followed, and is added to. */
export function nextStep(paging: Paging, page: PageFacts, seen: Set<string>): Step {
  if (page.index + 1 >= MAX_PAGES) return { kind: 'loop', reason: `the listing did not end within ${MAX_PAGES} pages` };
  switch (paging.type) {
    case 'none': return { kind: 'end' };
    case 'page':
    case 'offset': {
      if (page.count < paging.size) return { kind: 'end' };
      if (page.total !== undefined && page.read >= page.total) return { kind: 'end' };
      const repeat = repeated(paging, page);
      if (repeat !== undefined) return { kind: 'loop', reason: repeat };
      if (paging.type === 'page') return { kind: 'params', params: pageParams(paging, page.index + 1) };
      // Advance by what came back: the page's records were all full-size so far.
      return { kind: 'params', params: { [paging.offsetParam]: String(page.read), [paging.limitParam]: String(paging.size) } };
    }
    case 'cursor': {
      const cursor = page.cursor ?? '';
      if (cursor === '') return { kind: 'end' };
      if (seen.has(cursor)) return { kind: 'loop', reason: `the cursor at ${paging.cursorPath.join('.')} repeats one given before, so the listing would never end` };
      seen.add(cursor);
      return { kind: 'params', params: { [paging.cursorParam]: cursor, [paging.sizeParam]: String(paging.size) } };
    }
    case 'next-link':
    case 'link-header': {
      const link = page.next ?? '';
      if (link === '') return { kind: 'end' };
      if (seen.has(link)) return { kind: 'loop', reason: `the next link ${paging.type === 'link-header' ? '(Link header)' : `at ${paging.nextPath.join('.')}`} points to a page read before, so the listing would never end` };
      seen.add(link);
      return { kind: 'follow', link };
    }
    default: {
      const never: never = paging;
      throw new PagingError(`unknown paging ${JSON.stringify(never)}`);
    }
  }
}
