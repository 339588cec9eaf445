/**
 * SCIM service discovery (RFC 7644 §4): what the server supports and how its users are described.
 * Contract:
 * - discover() reads /ServiceProviderConfig, /ResourceTypes and /Schemas once per run per app and URL
 *   (the answer is cached in this process: a run reads and then writes through the same discovery).
 * - It returns whether PATCH, ETags and filters are supported (bulk is ignored), the Users endpoint
 *   (default /Users) and the declared type of each User attribute, for typing values on the wire.
 * - A server that lacks an endpoint (404, 501) gets the RFC's common defaults (PATCH and filter
 *   supported, no ETags, /Users, types unknown). A refusal of the credentials (401, 403), an
 *   unreachable server or a malformed answer is an error: nothing else would work either.
 */
import { CORE_USER_SCHEMA, type AttributeType, type ScimPath } from './paths.ts';
import { ScimRequestError, type ScimTransport } from './http.ts';

export interface Discovery {
  patch: boolean;
  etag: boolean;
  filter: boolean;
  /** Endpoint of the User resource type, e.g. "/Users". */
  usersEndpoint: string;
  /** Attribute types by typeKey(schema, attribute, sub). */
  types: Map<string, AttributeType>;
}

const cache = new Map<string, Promise<Discovery>>();

/** Forgets cached discoveries (tests that reconfigure a server between runs in one process). */
export function clearDiscoveryCache(): void {
  cache.clear();
}

export function discover(transport: ScimTransport): Promise<Discovery> {
  const key = `${transport.app}\u0000${transport.baseUrl.href}`;
  let found = cache.get(key);
  if (!found) {
    found = run(transport);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

export function typeKey(schema: string | null, attribute: string, sub: string | null): string {
  return `${(schema ?? '').toLowerCase()}|${attribute.toLowerCase()}|${(sub ?? '').toLowerCase()}`;
}

/** The declared type of a path's attribute, when /Schemas described it. */
export function typeOf(discovery: Discovery, path: ScimPath): AttributeType | undefined {
  return discovery.types.get(typeKey(path.schema, path.attribute, path.sub));
}

async function run(transport: ScimTransport): Promise<Discovery> {
  const [config, resourceTypes, schemas] = await Promise.all([
    fetchOptional(transport, '/ServiceProviderConfig'),
    fetchOptional(transport, '/ResourceTypes'),
    fetchOptional(transport, '/Schemas'),
  ]);
  const supported = (name: string, fallback: boolean): boolean => {
    const entry = (config as Record<string, unknown> | undefined)?.[name] as { supported?: unknown } | undefined;
    return typeof entry?.supported === 'boolean' ? entry.supported : fallback;
  };
  const users = listOf(resourceTypes).find((t) => {
    const r = t as { schema?: unknown; name?: unknown; id?: unknown };
    return (typeof r.schema === 'string' && r.schema.toLowerCase() === CORE_USER_SCHEMA.toLowerCase()) || r.name === 'User' || r.id === 'User';
  }) as { endpoint?: unknown } | undefined;
  const types = new Map<string, AttributeType>();
  for (const s of listOf(schemas)) {
    const schema = s as { id?: unknown; attributes?: unknown };
    if (typeof schema.id !== 'string' || !Array.isArray(schema.attributes)) continue;
    const urn = schema.id.toLowerCase() === CORE_USER_SCHEMA.toLowerCase() ? null : schema.id;
    for (const a of schema.attributes as { name?: unknown; type?: unknown; subAttributes?: unknown }[]) {
      if (typeof a?.name !== 'string' || typeof a.type !== 'string') continue;
      types.set(typeKey(urn, a.name, null), a.type as AttributeType);
      for (const sub of Array.isArray(a.subAttributes) ? (a.subAttributes as { name?: unknown; type?: unknown }[]) : []) {
        if (typeof sub?.name === 'string' && typeof sub.type === 'string') types.set(typeKey(urn, a.name, sub.name), sub.type as AttributeType);
      }
    }
  }
  return {
    patch: supported('patch', true),
    etag: supported('etag', false),
    filter: supported('filter', true),
    usersEndpoint: typeof users?.endpoint === 'string' && users.endpoint !== '' ? users.endpoint : '/Users',
    types,
  };
}

/** GETs a discovery endpoint; undefined when the server does not have it. */
async function fetchOptional(transport: ScimTransport, path: string): Promise<unknown> {
  const url = transport.endpoint(path);
  const response = await transport.request('GET', url);
  if (response.status === 401 || response.status === 403) {
    const failure = transport.failure('GET', url, response);
    throw new ScimRequestError(`${failure.message} (the server refused the credentials)`, 'http', response.status, failure.code, failure.detail);
  }
  if (response.status < 200 || response.status >= 300) {
    if (response.status >= 500 && response.status !== 501) throw transport.failure('GET', url, response);
    return undefined;
  }
  if (typeof response.body !== 'object' || response.body === null) {
    throw new ScimRequestError(`GET ${path}: HTTP ${response.status} without a JSON object`, 'malformed', response.status);
  }
  return response.body;
}

/** The resources of a ListResponse, or the items of a bare array (some servers answer that way). */
function listOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  const resources = (body as { Resources?: unknown } | undefined)?.Resources;
  return Array.isArray(resources) ? resources : [];
}
