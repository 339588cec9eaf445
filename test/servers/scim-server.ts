/**
 * A real, independent SCIM 2.0 service provider for tests: scimmy (RFC 7643/7644 message handling) and
 * scimmy-routers (the HTTP endpoints) over express 5, with users in memory, on 127.0.0.1 at a free port.
 * Contract:
 * - startScimServer() listens and returns the base URL (…/scim/v2); close() stops it. scimmy keeps its
 *   declarations in a process-wide singleton, so one server runs at a time per test worker.
 * - Requests need `Authorization: Bearer <token>` (else 401). userName is unique and, as RFC 7643 says
 *   (caseExact false), compared case-insensitively, both for uniqueness (409 uniqueness) and in `eq`
 *   filters. `attr eq "json string"` filters are parsed here (scimmy's parser does not unescape `\"`);
 *   other filters go to scimmy. Resources carry meta.version (W/"n") and a relative meta.location.
 * - Options: etag (advertise ETags and honour If-Match with 412), patch: false (advertise no PATCH),
 *   filter: false or 'ignored' (filters ignored, advertised or not), ignoreCount (answer pages as if no count
 *   had been asked for), ignoreStartIndex (answer every page as the first), patchNoContent (answer PATCH 204 without a body).
 * - Every request is recorded (method, URL, body, If-Match, whether it was authorised; never the token).
 * - Faults: inject() a rule that matches the next requests by method, URL and body text, `times` times:
 *   answer an error status (with a SCIM error body and optional Retry-After), answer 200 with
 *   malformed JSON, hold the request for delayMs (then handle it, or drop it with pass: false), or run
 *   a callback first (a concurrent edit) and then handle it, or handle it and cut the connection halfway
 *   through the answer (reset). `chance` hits a matching request with that probability (seeded, so a
 *   run is repeatable) instead of every one.
 * Express 5 made req.query a getter that parses afresh on every read, so scimmy-routers' in-place
 * conversion of startIndex/count would be lost: a middleware pins req.query as a plain property.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { mulberry32 } from '../../bench/generate.ts';

export interface StoredUser {
  id: string;
  /** The resource's attributes without id and meta. */
  data: Record<string, unknown>;
  created: Date;
  lastModified: Date;
  version: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  body: unknown;
  ifMatch?: string;
  authorized: boolean;
  /** When it arrived (Date.now()). */
  at: number;
}

export type Fault =
  | { status: number; detail?: string; scimType?: string; retryAfter?: string }
  | { malformed: true }
  | { delayMs: number; pass?: boolean }
  /** Runs `run` (say, a concurrent edit of the store) and then handles the request normally. */
  | { run: () => void }
  /** Handles the request (a write is carried out) and cuts the connection halfway through the answer. */
  | { reset: true };

export interface FaultRule {
  method?: string;
  /** Matched against the decoded request URL (path and query). */
  url?: RegExp | string;
  /** Text the JSON body must contain. */
  body?: string;
  /** How many requests it hits (default 1). */
  times?: number;
  /**
   * Hit each matching request with this probability (0..1) instead of every one, drawn from a PRNG
   * seeded with `seed` (default 1), so a run is repeatable.
   */
  chance?: number;
  seed?: number;
  fault: Fault;
}

export interface ScimServerOptions {
  token: string;
  etag?: boolean;
  patch?: boolean;
  ignoreCount?: boolean;
  /** Answer every page as the first (a server that does not page). */
  ignoreStartIndex?: boolean;
  /** Filter support: true (default); false (not advertised, filters ignored); 'ignored' (advertised, yet ignored). */
  filter?: boolean | 'ignored';
  /** Answer a successful PATCH 204 without a body (RFC 7644 §3.5.2 allows both). */
  patchNoContent?: boolean;
}

export interface ScimTestServer {
  url: string;
  users: Map<string, StoredUser>;
  requests: RecordedRequest[];
  options: ScimServerOptions;
  seed(data: Record<string, unknown>): StoredUser;
  byUserName(userName: string): StoredUser | undefined;
  /** The resource as the server would answer it (id and meta included). */
  resource(user: StoredUser): Record<string, unknown>;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface State {
  users: Map<string, StoredUser>;
}

type Eq = { attribute: string; value: unknown };

let current: State | null = null;
let declared = false;

const eqFilters = new WeakMap<Request, Eq>();

function state(): State {
  if (!current) throw new SCIMMY.Types.Error(503, '', 'server stopped');
  return current;
}

function toResource(u: StoredUser): Record<string, unknown> {
  return { ...u.data, id: u.id, meta: { resourceType: 'User', created: u.created, lastModified: u.lastModified, version: `W/"${u.version}"` } };
}

function valueAt(resource: Record<string, unknown>, path: string): unknown {
  let value: unknown = resource;
  const segments = /^urn:/i.test(path) ? [path.slice(0, path.lastIndexOf(':')), ...path.slice(path.lastIndexOf(':') + 1).split('.')] : path.split('.');
  for (const segment of segments) {
    if (Array.isArray(value)) value = value.map((v) => (v as Record<string, unknown>)?.[segment]);
    else if (value && typeof value === 'object') {
      const key = Object.keys(value).find((k) => k.toLowerCase() === segment.toLowerCase());
      value = key === undefined ? undefined : (value as Record<string, unknown>)[key];
    } else return undefined;
  }
  return value;
}

function equals(actual: unknown, expected: unknown, caseExact: boolean): boolean {
  if (Array.isArray(actual)) return actual.some((a) => equals(a, expected, caseExact));
  if (typeof actual === 'string' && typeof expected === 'string') return caseExact ? actual === expected : actual.toLowerCase() === expected.toLowerCase();
  return actual === expected;
}

function sameUserName(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

function declare(): void {
  if (declared) return;
  declared = true;
  SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
  const User = SCIMMY.Resources.declare(SCIMMY.Resources.User) as typeof SCIMMY.Resources.User;
  User.egress(((resource: { id?: string; filter?: { match(values: unknown[]): unknown[] } }, ctx?: { eq?: Eq }) => {
    const { users } = state();
    if (resource.id) {
      const found = users.get(resource.id);
      if (!found) throw new SCIMMY.Types.Error(404, '', `Resource ${resource.id} not found`);
      return toResource(found);
    }
    let list = [...users.values()].map(toResource);
    const eq = ctx?.eq;
    if (eq) {
      const caseExact = ['id', 'externalid'].includes(eq.attribute.toLowerCase());
      list = list.filter((r) => equals(valueAt(r, eq.attribute), eq.value, caseExact));
    } else if (resource.filter) {
      list = resource.filter.match(list) as typeof list;
    }
    return list;
  }) as never);
  User.ingress(((resource: { id?: string }, instance: unknown) => {
    const { users } = state();
    const data = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
    delete data.id;
    delete data.meta;
    for (const other of users.values()) {
      if (other.id !== resource.id && sameUserName(other.data.userName, data.userName)) {
        throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${String(data.userName)} is already taken`);
      }
    }
    const now = new Date();
    if (resource.id) {
      const existing = users.get(resource.id);
      if (!existing) throw new SCIMMY.Types.Error(404, '', `Resource ${resource.id} not found`);
      existing.data = data;
      existing.lastModified = now;
      existing.version++;
      return toResource(existing);
    }
    const created: StoredUser = { id: randomUUID(), data, created: now, lastModified: now, version: 1 };
    users.set(created.id, created);
    return toResource(created);
  }) as never);
  User.degress(((resource: { id?: string }) => {
    if (!resource.id || !state().users.delete(resource.id)) throw new SCIMMY.Types.Error(404, '', `Resource ${String(resource.id)} not found`);
  }) as never);
}

const EQ = /^\s*([A-Za-z][\w:.-]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)\s*$/i;

export async function startScimServer(options: ScimServerOptions): Promise<ScimTestServer> {
  if (current) throw new Error('a SCIM test server is already running in this worker');
  declare();
  const users = new Map<string, StoredUser>();
  current = { users };
  const requests: RecordedRequest[] = [];
  const faults: (FaultRule & { left: number; draw?: () => number })[] = [];

  const routers = new SCIMMYRouters({
    type: 'bearer',
    handler: (req) => {
      if (req.header('authorization') !== `Bearer ${options.token}`) throw new Error('Invalid or missing bearer token');
      return 'test-client';
    },
    context: (req) => ({ eq: eqFilters.get(req) }),
  });
  SCIMMY.Config.set({ etag: options.etag ?? false, patch: options.patch ?? true, filter: options.filter !== false });

  const app = express();
  app.set('etag', false); // ETags here are the resources' versions, not express's hash of the body
  app.use(express.json({ type: ['application/scim+json', 'application/json'] }));
  app.use('/scim/v2', (req: Request, res: Response, next: NextFunction) => {
    // Pin the query (see the header), with this server's own handling of `eq` filters and count.
    const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
    Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true, enumerable: true });
    const m = typeof query.filter === 'string' ? EQ.exec(query.filter) : null;
    const filtering = options.filter === undefined || options.filter === true;
    if (m && filtering) eqFilters.set(req, { attribute: m[1]!, value: JSON.parse(m[2]!) as unknown });
    if (m || !filtering) delete query.filter;
    if (options.ignoreCount) delete query.count;
    if (options.ignoreStartIndex) delete query.startIndex;
    const ifMatch = req.header('if-match');
    requests.push({
      method: req.method, url: decodeURIComponent(req.originalUrl), body: req.body as unknown,
      ...(ifMatch ? { ifMatch } : {}), authorized: req.header('authorization') === `Bearer ${options.token}`, at: Date.now(),
    });
    next();
  });
  app.use('/scim/v2', (req: Request, res: Response, next: NextFunction) => {
    const url = decodeURIComponent(req.originalUrl);
    const body = req.body === undefined ? '' : JSON.stringify(req.body);
    const rule = faults.find((f) => f.left > 0 && (!f.method || f.method === req.method)
      && (!f.url || (typeof f.url === 'string' ? url.includes(f.url) : f.url.test(url))) && (!f.body || body.includes(f.body))
      && (f.draw === undefined || f.draw() < f.chance!));
    if (!rule) return next();
    rule.left--;
    const fault = rule.fault;
    if ('run' in fault) {
      fault.run();
      return next();
    }
    if ('delayMs' in fault) {
      setTimeout(() => (fault.pass === false ? res.destroy() : next()), fault.delayMs);
      return;
    }
    if ('reset' in fault) {
      // Express's send() sets Content-Length and ends with the whole body: send half, then cut.
      res.end = ((chunk?: unknown) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.alloc(0);
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
        setImmediate(() => res.socket?.destroy());
        return res;
      }) as typeof res.end;
      return next();
    }
    if ('malformed' in fault) {
      res.status(200).type('application/scim+json').send('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":');
      return;
    }
    if (fault.retryAfter !== undefined) res.setHeader('Retry-After', fault.retryAfter);
    res.status(fault.status).type('application/scim+json').send(JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(fault.status),
      ...(fault.scimType ? { scimType: fault.scimType } : {}), detail: fault.detail ?? `injected HTTP ${fault.status}`,
    }));
  });
  app.use('/scim/v2/Users/:id', (req: Request, res: Response, next: NextFunction) => {
    // If-Match (RFC 7644 §3.14) on writes, when ETags are on.
    const ifMatch = req.header('if-match');
    if (!options.etag || !ifMatch || !['PUT', 'PATCH', 'DELETE'].includes(req.method) || req.path !== '/') return next();
    const user = users.get(String(req.params.id));
    if (user && ifMatch !== '*' && ifMatch !== `W/"${user.version}"`) {
      res.status(412).type('application/scim+json').send(JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '412', detail: `version is W/"${user.version}", not ${ifMatch}`,
      }));
      return;
    }
    next();
  });
  if (options.patchNoContent) {
    app.use('/scim/v2/Users/:id', (req: Request, res: Response, next: NextFunction) => {
      if (req.method !== 'PATCH') return next();
      const send = res.send.bind(res);
      res.send = (body?: unknown) => (res.statusCode === 200 ? (res.status(204), send()) : send(body));
      next();
    });
  }
  app.use('/scim/v2', routers as unknown as express.Router);

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    users,
    requests,
    options,
    seed(data) {
      const now = new Date();
      const user: StoredUser = { id: randomUUID(), data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...data }, created: now, lastModified: now, version: 1 };
      users.set(user.id, user);
      return user;
    },
    byUserName: (userName) => [...users.values()].find((u) => u.data.userName === userName),
    resource: toResource,
    inject(rule) {
      faults.push({ ...rule, left: rule.times ?? 1, ...(rule.chance === undefined ? {} : { draw: mulberry32(rule.seed ?? 1) }) });
    },
    clearFaults() {
      faults.length = 0;
    },
    close: () => new Promise<void>((resolve, reject) => {
      current = null;
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
