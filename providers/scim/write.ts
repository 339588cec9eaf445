/**
 * SCIM provisioning target: applies a plan's account changes to a SCIM 2.0 server (RFC 7644).
 * Contract (every change comes back with one ChangeResult: done, skipped or failed with the reason):
 * - An account is found by its key: GET /Users/{key} when the key is `id`, else `filter=<key path> eq
 *   "<key>"`. The answer is never trusted blindly: exactly one resource whose key equals the key exactly
 *   is the account; several are a failure (never a guess); one that differs only in case is a failure
 *   that says so (linking it under another key would not converge).
 * - create: POST /Users with the key, the mapped values and the enabled status. A 409 (uniqueness) looks
 *   the account up and, found exactly, reports done "already existed; linked" (the core records the
 *   link).
 * - A change that failed on a transient fault (a timeout, a lost connection, 429 after the transport's
 *   own retries, 500, 502, 503, 504) is tried again whole, after a backoff, up to connection.retries
 *   times: it starts again from its lookup, so a write the server carried out before its answer was
 *   lost is found and not sent twice (a create is confirmed by the lookup; an update finds its values in
 *   place). Once the app's circuit breaker opens, the remaining changes fail at once with its one message.
 *   More changes run at once than requests may be in flight, so one waiting out a backoff or a
 *   Retry-After does not hold the others up; the transport's adaptive limit bounds the requests.
 * - update, enable, disable: compare-and-set. The live resource is read first; an attribute whose live
 *   value is neither the plan's `from` nor its `to` moved since the plan, and the change is skipped and
 *   reported, never forced. Only attributes that differ are sent: PATCH (PatchOp) when the server
 *   supports it, else PUT of the whole resource with the changes applied; If-Match with the resource's
 *   version when the server supports ETags, and on 412 the resource is read again and compared again.
 *   PATCH answers 200 with a body and 204 without are both success. disable/enable set the status
 *   attribute (active=false/true).
 * - delete: DELETE, for the delete action only (a 404 counts as done). link: checks the account exists.
 * - Failures name the request, the HTTP status and the SCIM error's detail and scimType; a timeout,
 *   a network error or a non-JSON answer fails that change only. Credentials never appear in a result.
 */
import type { ScimApp } from '../../schemas/generated/config.ts';
import type { AccountChange } from '../../schemas/generated/plan.ts';
import type { ChangeResult } from '../csv/write.ts';
import { ProviderError } from '../errors.ts';
import { discover, typeOf, type Discovery } from './discovery.ts';
import { forEachWithWorkers } from '../retry.ts';
import { isTransient, openTransport, ScimRequestError, type ScimResponse, type ScimTransport } from './http.ts';
import {
  CORE_USER_SCHEMA, PATCH_OP_SCHEMA, ScimPathError, eqFilter, parsePath, patchOperations, readPath, setPath, toJsonValue,
  type JsonObject, type JsonValue, type ScimPath,
} from './paths.ts';
import { listResources } from './read.ts';

export interface ScimWriteOptions {
  app: string;
  config: ScimApp;
  key: string;
  status: { attribute: string; enabled: string; disabled: string };
}

type Resource = Record<string, unknown>;
type Lookup = { kind: 'found'; resource: Resource; version?: string } | { kind: 'none' } | { kind: 'refused'; message: string };

interface Context {
  app: string;
  transport: ScimTransport;
  discovery: Discovery;
  keyPath: ScimPath;
  statusPath: ScimPath;
  status: ScimWriteOptions['status'];
  /** Servers without filter support: every user, listed once on first need. */
  index?: Promise<Resource[]>;
}

export async function applyScimTarget(options: ScimWriteOptions, changes: AccountChange[]): Promise<ChangeResult[]> {
  const { app } = options;
  const transport = openTransport(app, options.config.connection);
  let ctx: Context;
  try {
    ctx = {
      app, transport, discovery: await discover(transport),
      keyPath: parsePath(options.key), statusPath: parsePath(options.status.attribute), status: options.status,
    };
  } catch (error) {
    throw new ProviderError(app, transport.redact((error as Error).message));
  }
  return forEachWithWorkers(changes, transport.concurrency * CHANGES_PER_SLOT, (change) => applyOne(ctx, change));
}

/** Changes worked on at once per request slot: the others go on while some wait out a backoff. */
const CHANGES_PER_SLOT = 16;

/** Thrown inside a change for a transient failure, so that the change is tried again from its lookup. */
class Transient extends Error {}

async function applyOne(ctx: Context, change: AccountChange): Promise<ChangeResult> {
  const { transport } = ctx;
  const tried: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOne(ctx, change, attempt, tried);
    if (!(outcome instanceof Transient)) return outcome;
    tried.push(outcome.message);
    const stopped = transport.breaker.reason;
    if (stopped !== null) return { app: ctx.app, key: change.key, action: change.action, outcome: 'failed', message: transport.redact(stopped) };
    if (!transport.policy.canRetry(attempt)) {
      const times = tried.length === 1 ? '' : ` (${tried.length} attempts, each started again from a lookup)`;
      return { app: ctx.app, key: change.key, action: change.action, outcome: 'failed', message: transport.redact(`${outcome.message}${times}`) };
    }
    await transport.sleep(transport.policy.delay(attempt + 1));
  }
}

async function attemptOne(ctx: Context, change: AccountChange, attempt: number, tried: readonly string[]): Promise<ChangeResult | Transient> {
  const result = (outcome: ChangeResult['outcome'], message?: string): ChangeResult =>
    ({ app: ctx.app, key: change.key, action: change.action, outcome, ...(message ? { message: ctx.transport.redact(message) } : {}) });
  try {
    switch (change.action) {
      case 'create': return await create(ctx, change, result, attempt > 0 ? tried[tried.length - 1]! : null);
      case 'link': {
        const found = await lookup(ctx, change.key);
        if (found.kind === 'found') return result('done');
        return result('failed', found.kind === 'refused' ? found.message : `the account is no longer in ${ctx.app}`);
      }
      case 'delete': return await remove(ctx, change, result);
      default: return await mutate(ctx, change, result);
    }
  } catch (error) {
    if (error instanceof Transient) return error;
    if (isTransient(error)) return new Transient((error as Error).message);
    if (error instanceof ScimRequestError || error instanceof ScimPathError) return result('failed', error.message);
    return result('failed', `unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** An error status answered to a write: a transient one is thrown (the change is tried again), any other is the change's failure. */
function refused(ctx: Context, method: string, url: URL, response: ScimResponse): string {
  const failure = ctx.transport.failure(method, url, response);
  if (isTransient(failure)) throw new Transient(failure.message);
  return failure.message;
}

type Result = (outcome: ChangeResult['outcome'], message?: string) => ChangeResult;

/** `retrying`: the transient failure of the previous attempt, or null on the first. */
async function create(ctx: Context, change: AccountChange, result: Result, retrying: string | null): Promise<ChangeResult> {
  const { transport } = ctx;
  const body: JsonObject = { schemas: [CORE_USER_SCHEMA] };
  setPath(body, ctx.keyPath, wire(ctx, ctx.keyPath, change.key));
  for (const [name, value] of Object.entries(change.attributes)) {
    if (value.to !== null && value.to !== '') {
      const path = parsePath(name);
      setPath(body, path, wire(ctx, path, value.to));
    }
  }
  if (readPath(body, ctx.statusPath) === '') setPath(body, ctx.statusPath, wire(ctx, ctx.statusPath, ctx.status.enabled));
  if (retrying !== null) {
    // The last attempt may have been carried out before its answer was lost: look before sending again.
    const found = await lookup(ctx, change.key);
    if (found.kind === 'found') return result('done', `created (confirmed by a lookup after: ${retrying})`);
    if (found.kind === 'refused') return result('failed', `${retrying}; then ${found.message}`);
  }
  const url = transport.endpoint(ctx.discovery.usersEndpoint);
  const response = await transport.request('POST', url, { body });
  if (response.status >= 200 && response.status < 300) return result('done');
  if (response.status !== 409) return result('failed', refused(ctx, 'POST', url, response));
  const failure = transport.failure('POST', url, response);
  const found = await lookup(ctx, change.key);
  if (found.kind === 'found') return result('done', 'already existed; linked');
  if (found.kind === 'refused') return result('failed', `${failure.message}; ${found.message}`);
  return result('failed', `${failure.message}; no account with ${ctx.keyPath.text} ${JSON.stringify(change.key)} could be found to link`);
}

async function mutate(ctx: Context, change: AccountChange, result: Result): Promise<ChangeResult> {
  const { transport, discovery } = ctx;
  let found = await lookup(ctx, change.key);
  if (found.kind === 'none') return result('failed', `the account is no longer in ${ctx.app}`);
  if (found.kind === 'refused') return result('failed', found.message);
  if (discovery.etag && !found.version) found = await reread(ctx, found.resource);
  const paths = Object.entries(change.attributes).map(([name, value]) => ({ path: parsePath(name), from: value.from ?? '', to: value.to ?? '' }));
  for (let round = 0; round < 3; round++) {
    if (found.kind !== 'found') return result('failed', found.kind === 'refused' ? found.message : `the account is no longer in ${ctx.app}`);
    const live = found.resource;
    const moved = paths.filter((p) => {
      const now = readPath(live, p.path);
      return now !== p.from && now !== p.to;
    });
    if (moved.length > 0) {
      return result('skipped', `changed in ${ctx.app} since the plan: ${moved.map((p) => p.path.text).join(', ')}; not overwritten (plan again)`);
    }
    const wanted: [ScimPath, JsonValue][] = paths.map((p) => [p.path, p.to === '' ? null : wire(ctx, p.path, p.to)]);
    if (change.action === 'enable' || change.action === 'disable') {
      wanted.push([ctx.statusPath, wire(ctx, ctx.statusPath, change.action === 'enable' ? ctx.status.enabled : ctx.status.disabled)]);
    }
    const operations = wanted.flatMap(([path, value]) => patchOperations(live, path, value));
    if (operations.length === 0) return result('done', 'already in place');
    const url = resourceUrl(ctx, live);
    const headers: Record<string, string> = discovery.etag && found.version ? { 'if-match': found.version } : {};
    let method: string;
    let response: ScimResponse;
    if (discovery.patch) {
      method = 'PATCH';
      response = await transport.request(method, url, { headers, body: { schemas: [PATCH_OP_SCHEMA], Operations: operations as unknown as JsonValue } });
    } else {
      method = 'PUT';
      const body = structuredClone(live) as JsonObject;
      delete body.meta;
      for (const [path, value] of wanted) setPath(body, path, value);
      response = await transport.request(method, url, { headers, body });
    }
    if (response.status >= 200 && response.status < 300) return result('done');
    if (response.status === 404) return result('failed', `the account is no longer in ${ctx.app} (${transport.failure(method, url, response).message})`);
    if (response.status !== 412) return result('failed', refused(ctx, method, url, response));
    // Someone changed the account since it was read: read it again and compare again.
    found = await reread(ctx, live);
  }
  return result('failed', `the account kept changing while it was written (HTTP 412 three times); nothing was overwritten`);
}

async function remove(ctx: Context, change: AccountChange, result: Result): Promise<ChangeResult> {
  const found = await lookup(ctx, change.key);
  if (found.kind === 'none') return result('done', 'already gone');
  if (found.kind === 'refused') return result('failed', found.message);
  const url = resourceUrl(ctx, found.resource);
  const response = await ctx.transport.request('DELETE', url);
  if ((response.status >= 200 && response.status < 300) || response.status === 404) return result('done');
  return result('failed', refused(ctx, 'DELETE', url, response));
}

/** A plan's string as the attribute's JSON type. */
function wire(ctx: Context, path: ScimPath, value: string): JsonValue {
  return toJsonValue(path, value, (p) => typeOf(ctx.discovery, p));
}

/** The resource's own URL: its meta.location when that is on the configured server, else Users/{id}. */
function resourceUrl(ctx: Context, resource: Resource): URL {
  const location = (resource.meta as { location?: unknown } | undefined)?.location;
  if (typeof location === 'string' && location !== '') {
    const url = ctx.transport.location(location);
    if (url && ctx.transport.sameOrigin(url) && url.pathname.startsWith(ctx.transport.baseUrl.pathname)) return url;
  }
  return ctx.transport.endpoint(`${ctx.discovery.usersEndpoint}/${encodeURIComponent(String(resource.id))}`);
}

/**
 * The resource's version for If-Match: meta.version, which is the resource's own (RFC 7644 §3.14), else
 * the ETag header (which a framework or proxy in front of the server may have computed over the body).
 */
function versionOf(resource: Resource, headers?: Headers): string | undefined {
  const version = (resource.meta as { version?: unknown } | undefined)?.version;
  if (typeof version === 'string' && version !== '') return version;
  return headers?.get('etag') ?? undefined;
}

function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The resource read again by its URL, with its current version. */
async function reread(ctx: Context, resource: Resource): Promise<Lookup> {
  const url = resourceUrl(ctx, resource);
  const response = await ctx.transport.request('GET', url);
  if (response.status === 404) return { kind: 'none' };
  if (response.status < 200 || response.status >= 300) throw ctx.transport.failure('GET', url, response);
  if (!isResource(response.body)) throw new ScimRequestError(`GET ${ctx.transport.describe(url)}: the answer is not a SCIM resource`, 'malformed', response.status);
  return { kind: 'found', resource: response.body, version: versionOf(response.body, response.headers) };
}

/** Finds the account whose key is exactly `key` (see the contract). */
async function lookup(ctx: Context, key: string): Promise<Lookup> {
  const { transport, discovery, keyPath } = ctx;
  let candidates: Resource[];
  if (keyPath.attribute === 'id' && !keyPath.schema && !keyPath.filter && !keyPath.sub) {
    return reread(ctx, { id: key });
  } else if (discovery.filter) {
    const url = transport.endpoint(discovery.usersEndpoint, { filter: eqFilter(keyPath, key) });
    const response = await transport.request('GET', url);
    if (response.status < 200 || response.status >= 300) throw transport.failure('GET', url, response);
    const resources = (response.body as { Resources?: unknown } | undefined)?.Resources ?? [];
    if (!isResource(response.body) || !Array.isArray(resources)) {
      throw new ScimRequestError(`GET ${transport.describe(url)}: the answer is not a SCIM ListResponse`, 'malformed', response.status);
    }
    candidates = resources.filter(isResource);
  } else {
    ctx.index ??= listResources(transport, discovery).then((l) => l.resources.map((r) => r.resource));
    candidates = await ctx.index;
  }
  const exact = candidates.filter((r) => readPath(r, keyPath) === key);
  if (exact.length === 1) return { kind: 'found', resource: exact[0]!, version: versionOf(exact[0]!) };
  if (exact.length > 1) {
    return { kind: 'refused', message: `${exact.length} accounts in ${ctx.app} have ${keyPath.text} ${JSON.stringify(key)} (ids ${exact.map((r) => String(r.id)).join(', ')}); idplane never guesses` };
  }
  const lower = key.toLowerCase();
  const folded = candidates.filter((r) => readPath(r, keyPath).toLowerCase() === lower);
  if (folded.length > 0) {
    const names = folded.map((r) => JSON.stringify(readPath(r, keyPath))).join(', ');
    return { kind: 'refused', message: `${ctx.app} holds ${names}, which differs from ${JSON.stringify(key)} only in case; not linked under another key (fix the account or the mapping)` };
  }
  return { kind: 'none' };
}
