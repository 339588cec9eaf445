/**
 * SCIM import and live target snapshot: lists the server's users (GET /Users, startIndex/count paging
 * that follows totalResults) and returns them as accounts.
 * Contract:
 * - Each account's key is the value at the app's key path (userName, or id, …). Its attributes are every
 *   value of the resource flattened to paths (see flattenResource), plus the exact paths the config
 *   names (the key, the import's app references, the provision mapping keys, match and status
 *   attributes) spelled as the config spells them, plus `id`, `meta.location` and `meta.version`.
 * - Paging: once the first page shows that the server honours `count` and gives totalResults, the other
 *   pages are requested at once (bounded by `concurrency`); otherwise page by page, advancing by what
 *   came back (a server that ignores `count`); a page with nothing new ends the listing. A listing that ends short of the last totalResults is an
 *   error, never a smaller account list: a full import would take the rest as removed.
 * - A resource without an id, with an empty key or with a key already seen is a row error (line = its
 *   position in the listing), so it is neither lost nor guessed at.
 * - The fingerprint is SHA-256 over the resources ordered by id.
 * - Anything that stops the listing (unreachable server, refused credentials, a non-JSON page, an
 *   error status after retries) is a ProviderError naming the app and the request; no secret is in it.
 */
import { createHash } from 'node:crypto';
import type { ScimApp } from '../../schemas/generated/config.ts';
import type { RowError, SourceAccount, SourceSnapshot } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import { importReads } from '../../reconciler/app-references.ts';
import { discover, type Discovery } from './discovery.ts';
import { openTransport, ScimRequestError, type ScimTransport } from './http.ts';
import { flattenResource, parsePath, readPath, type ScimPath } from './paths.ts';
import { setOwn } from '../../reconciler/records.ts';

export interface ScimReadOptions {
  app: string;
  config: ScimApp;
  /** The app's key path (the core's default is id). */
  key: string;
  onProgress?: (done: number, total: number) => void;
}

export async function readScimAccounts(options: ScimReadOptions): Promise<SourceSnapshot> {
  const { app } = options;
  const transport = openTransport(app, options.config.connection);
  try {
    return await list(transport, options);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new ProviderError(app, transport.redact(error instanceof Error ? error.message : String(error)));
  }
}

export interface Listing {
  /** Resources with an id, in listing order, each once, with their 1-based position in the listing. */
  resources: { position: number; resource: Record<string, unknown> }[];
  /** Entries without an id, by position in the listing. */
  rowErrors: RowError[];
}

/** Every user of the server, page by page (see the contract above). Throws on anything that stops it. */
export async function listResources(transport: ScimTransport, discovery: Discovery, onProgress?: (done: number, total: number) => void): Promise<Listing> {
  const resources: Listing['resources'] = [];
  const rowErrors: RowError[] = [];
  const seenIds = new Set<string>();
  const size = transport.pageSize;
  let position = 0;
  let total: number | undefined;

  const fetchPage = async (startIndex: number): Promise<{ page: unknown[]; total?: number }> => {
    const url = transport.endpoint(discovery.usersEndpoint, { startIndex, count: size });
    const response = await transport.request('GET', url);
    if (response.status < 200 || response.status >= 300) throw transport.failure('GET', url, response);
    const body = response.body as { Resources?: unknown; totalResults?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || (body.Resources !== undefined && !Array.isArray(body.Resources))) {
      throw new ScimRequestError(`GET ${transport.describe(url)}: the answer is not a SCIM ListResponse`, 'malformed', response.status);
    }
    return { page: (body.Resources ?? []) as unknown[], ...(typeof body.totalResults === 'number' ? { total: body.totalResults } : {}) };
  };
  /** Takes a page in listing order; returns how many of its entries were new. */
  const consume = (page: { page: unknown[]; total?: number }): number => {
    if (page.total !== undefined) total = page.total;
    let fresh = 0;
    for (const resource of page.page) {
      const id = typeof (resource as { id?: unknown })?.id === 'string' ? (resource as { id: string }).id : undefined;
      if (id !== undefined && seenIds.has(id)) continue;
      position++;
      fresh++;
      if (typeof resource !== 'object' || resource === null || Array.isArray(resource) || id === undefined || id === '') {
        rowErrors.push({ line: position, message: `resource #${position} of the listing has no id` });
        continue;
      }
      seenIds.add(id);
      resources.push({ position, resource: resource as Record<string, unknown> });
    }
    onProgress?.(position, total ?? position);
    return fresh;
  };

  let startIndex = 1;
  let page = await fetchPage(1);
  let last = { length: page.page.length, fresh: consume(page) };
  startIndex += last.length;
  if (total !== undefined && last.length === size && startIndex <= total) {
    // The server honours count and says how many there are: ask for the other pages at once (the
    // transport bounds the requests in flight), and take them in order.
    const starts: number[] = [];
    for (let s = startIndex; s <= total; s += size) starts.push(s);
    const pages = await Promise.all(starts.map(fetchPage));
    pages.forEach((p, i) => {
      last = { length: p.page.length, fresh: consume(p) };
      startIndex = starts[i]! + p.page.length;
    });
  }
  // Page by page from here: a server that ignores count, or users added while listing.
  while (!(last.length === 0 || last.fresh === 0 || (total !== undefined && startIndex > total) || (total === undefined && last.length < size))) {
    page = await fetchPage(startIndex);
    last = { length: page.page.length, fresh: consume(page) };
    startIndex += last.length;
  }
  if (total !== undefined && position < total) {
    throw new ScimRequestError(`the server reported ${total} users but paging returned ${position}; it may not support startIndex paging, so the listing is incomplete and is not used`, 'malformed');
  }
  return { resources, rowErrors };
}

async function list(transport: ScimTransport, options: ScimReadOptions): Promise<SourceSnapshot> {
  const { app } = options;
  const discovery = await discover(transport);
  const keyPath = parseKey(app, options.key);
  const paths = pathsUsed(options.config, options.key);
  const { resources, rowErrors } = await listResources(transport, discovery, options.onProgress);

  const accounts: SourceAccount[] = [];
  const byKey = new Map<string, number>();
  const hash = createHash('sha256');
  const ordered = resources.map((r) => r.resource).sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : (a.id as string) > (b.id as string) ? 1 : 0));
  for (const r of ordered) hash.update(`${r.id as string}\u0000${JSON.stringify(r)}\n`);
  resources.forEach(({ position: line, resource }) => {
    const key = readPath(resource, keyPath);
    if (key === '') {
      rowErrors.push({ line, message: `resource ${resource.id as string} has no ${options.key}` });
      return;
    }
    const first = byKey.get(key);
    if (first !== undefined) {
      rowErrors.push({ line, key, message: `resource ${resource.id as string} has the same ${options.key} as resource ${accounts[first]!.attributes.id}` });
      return;
    }
    byKey.set(key, accounts.length);
    accounts.push({ key, attributes: flatten(resource, paths), line });
  });
  return { app, accounts, rowErrors: rowErrors.sort((a, b) => a.line - b.line), fingerprint: `sha256:${hash.digest('hex')}` };
}

function parseKey(app: string, key: string): ScimPath {
  try {
    return parsePath(key);
  } catch (error) {
    throw new ProviderError(app, `key: ${(error as Error).message}`);
  }
}

function flatten(resource: Record<string, unknown>, paths: ScimPath[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const p of paths) setOwn(attributes, p.text, readPath(resource, p));
  const meta = resource.meta as { location?: unknown; version?: unknown } | undefined;
  attributes.id = resource.id as string;
  attributes['meta.location'] = typeof meta?.location === 'string' ? meta.location : '';
  attributes['meta.version'] = typeof meta?.version === 'string' ? meta.version : '';
  return flattenResource(resource, attributes);
}

/** The paths the config reads or writes in this app, as written (those that are SCIM paths). */
export function pathsUsed(config: ScimApp, key: string): ScimPath[] {
  const names = new Set<string>([key, ...importReads(config.import)]);
  const p = config.provision;
  if (p) {
    for (const name of Object.keys(p.mappings)) names.add(name);
    if (p.match) names.add(p.match.app);
    names.add(p.status?.attribute ?? 'active');
  }
  const out: ScimPath[] = [];
  for (const name of names) {
    try {
      out.push(parsePath(name));
    } catch {
      // Not a SCIM path (a CEL member the flattening already covers, or nothing): nothing to read.
    }
  }
  return out;
}

