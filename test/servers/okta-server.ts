/**
 * A local stand-in for an Okta org's Management API (Users and Schemas), for tests: node:http on
 * 127.0.0.1 at a free port, users in memory. It follows Okta's published behaviour (developer.okta.com
 * Users API, user query options, pagination, rate limits and error codes) for what idplane uses:
 * - Auth: `Authorization: SSWS <token>`, or `Bearer <accessToken>` when one is configured; else 401
 *   E0000011 "Invalid token provided".
 * - GET /api/v1/users: `limit` (default and maximum 200) and the `after` cursor (users in id order), a
 *   `Link` header per relation (rel="self", and rel="next" while more remain); `search` (eq, sw, co, gt,
 *   ge, lt, le, pr, and/or, parentheses; property names case-sensitive, string values not) and `filter`
 *   (its documented subset: status, lastUpdated, id, profile.login/email/firstName/lastName; eq only, but
 *   lastUpdated inequalities; case-sensitive); both at once is 400 E0000033. Without either, DEPROVISIONED
 *   users are left out, as Okta documents; a search or filter returns matching users of every status.
 * - GET /api/v1/users/{id|login|login shortname} (404 E0000007); POST /api/v1/users?activate= (default
 *   true: PROVISIONED without a password, ACTIVE with one; false: STAGED); POST /api/v1/users/{id} partial
 *   profile update (null clears); PUT full replace; validation per the user schema as 400 E0000001 "Api
 *   validation failed: <property>" with errorCauses, a taken login (case-insensitively, deactivated users
 *   included) being "login: An object with this field already exists in the current organization".
 * - Lifecycle: activate (STAGED or DEPROVISIONED, else 403 E0000016), reactivate (PROVISIONED or RECOVERY,
 *   else 403 E0000038), deactivate, suspend (ACTIVE, else 400 E0000001), unsuspend (SUSPENDED, else 400
 *   E0000001); DELETE deletes a DEPROVISIONED user and deactivates any other (204). Not documented, taken
 *   from a report against Okta (okta-sdk-java#721): updating or deactivating a DEPROVISIONED user is 404
 *   E0000007. The causes' wording other than the duplicate login is this server's.
 * - GET /api/v1/meta/schemas/user/default: Okta's base properties plus options.custom.
 * - Rate limits: X-Rate-Limit-Limit/-Remaining/-Reset (epoch seconds) on every answer it makes itself;
 *   past the configured budget per window, 429 E0000047. An injected 429 carries Remaining 0 and a
 *   Reset at the next whole second unless its rule gives headers; other injected faults carry none.
 * - Every request is recorded (method, decoded URL, body, whether it was authorised, the status answered;
 *   never the token). Faults: inject() a rule matching the next requests by method, URL and body text,
 *   `times` times: an error status (with an Okta error body and headers), an HTML page or broken JSON
 *   with 200, a slow answer (or none: pass false), a callback first, a lost answer after carrying the
 *   request out, or half an answer then a cut connection.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Status = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'RECOVERY' | 'LOCKED_OUT' | 'PASSWORD_EXPIRED' | 'SUSPENDED' | 'DEPROVISIONED';

export interface StoredUser {
  id: string;
  status: Status;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastUpdated: string;
  lastLogin: string | null;
  profile: Record<string, unknown>;
  /** Whether the user has a password (activation then makes them ACTIVE, not PROVISIONED). */
  password: boolean;
}

export interface CustomProperty {
  type: 'string' | 'boolean' | 'integer' | 'number' | 'array';
  items?: 'string' | 'integer' | 'number';
  unique?: boolean;
  required?: boolean;
  title?: string;
}

export interface OktaServerOptions {
  token: string;
  accessToken?: string;
  /** Requests allowed per window; past it, 429 E0000047 until the window resets. Default 10000 per 60 s. */
  rateLimit?: { limit: number; windowMs: number };
  custom?: Record<string, CustomProperty>;
  /** The origin next links name (default this server's own): a server that sends the client elsewhere. */
  linkOrigin?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, decoded. */
  url: string;
  body: unknown;
  authorized: boolean;
  /** The status answered (0 when no answer was sent). */
  status: number;
  at: number;
}

export type Fault =
  | { status: number; errorCode?: string; errorSummary?: string; causes?: string[]; headers?: Record<string, string> }
  | { html: true }
  | { malformed: true }
  | { delayMs: number; pass?: boolean }
  | { run: () => void }
  /** Carries the request out, then closes the connection without an answer. */
  | { lost: true }
  /** Carries the request out, then sends half the answer and cuts the connection. */
  | { reset: true };

export interface FaultRule {
  method?: string;
  url?: RegExp | string;
  body?: string;
  times?: number;
  fault: Fault;
}

export interface OktaTestServer {
  url: string;
  users: Map<string, StoredUser>;
  requests: RecordedRequest[];
  options: OktaServerOptions;
  seed(profile: Record<string, unknown>, options?: { status?: Status; password?: boolean }): StoredUser;
  byLogin(login: string): StoredUser | undefined;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string | string[]>;
}

const BASE: Record<string, CustomProperty & { format?: 'email' }> = {
  login: { type: 'string', required: true, unique: true, title: 'Username' },
  firstName: { type: 'string', required: true, title: 'First name' },
  lastName: { type: 'string', required: true, title: 'Last name' },
  email: { type: 'string', required: true, format: 'email', title: 'Primary email' },
  ...Object.fromEntries(['middleName', 'honorificPrefix', 'honorificSuffix', 'title', 'displayName', 'nickName', 'profileUrl', 'secondEmail',
    'mobilePhone', 'primaryPhone', 'streetAddress', 'city', 'state', 'zipCode', 'countryCode', 'postalAddress', 'preferredLanguage', 'locale',
    'timezone', 'userType', 'employeeNumber', 'costCenter', 'organization', 'division', 'department', 'managerId', 'manager']
    .map((n) => [n, { type: 'string' as const, title: n }])),
};
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const FILTERABLE = new Set(['status', 'lastUpdated', 'id', 'profile.login', 'profile.email', 'profile.firstName', 'profile.lastName']);

function error(status: number, code: string, summary: string, causes: string[] = [], headers: Record<string, string> = {}): Answer {
  return { status, headers, body: { errorCode: code, errorSummary: summary, errorLink: code, errorId: `oae${randomBytes(8).toString('hex')}`, errorCauses: causes.map((c) => ({ errorSummary: c })) } };
}
const notFound = (what: string) => error(404, 'E0000007', `Not found: Resource not found: ${what} (User)`);
const invalid = (property: string, causes: string[]) => error(400, 'E0000001', `Api validation failed: ${property}`, causes);

// ---- search and filter expressions -------------------------------------------------------------

type Expr = { op: 'and' | 'or'; left: Expr; right: Expr } | { op: string; attr: string; value?: string | number | boolean };
class BadExpression extends Error {}

function parseExpression(text: string): Expr {
  const tokens = [...text.matchAll(/\s*("(?:[^"\\]|\\.)*"|\(|\)|[^\s()"]+)/g)].map((m) => m[1]!);
  let i = 0;
  const peek = () => tokens[i]?.toLowerCase();
  const or = (): Expr => {
    let left = and();
    while (peek() === 'or') { i++; left = { op: 'or', left, right: and() }; }
    return left;
  };
  const and = (): Expr => {
    let left = factor();
    while (peek() === 'and') { i++; left = { op: 'and', left, right: factor() }; }
    return left;
  };
  const factor = (): Expr => {
    if (tokens[i] === '(') {
      i++;
      const inner = or();
      if (tokens[i++] !== ')') throw new BadExpression('missing )');
      return inner;
    }
    const attr = tokens[i++];
    const op = tokens[i++]?.toLowerCase();
    if (!attr || !op || !/^[A-Za-z][\w.]*$/.test(attr)) throw new BadExpression(`bad term at ${attr ?? 'end'}`);
    if (op === 'pr') return { op, attr };
    if (!['eq', 'sw', 'co', 'gt', 'ge', 'lt', 'le'].includes(op)) throw new BadExpression(`unknown operator ${op}`);
    const raw = tokens[i++];
    if (raw === undefined) throw new BadExpression('missing value');
    let value: string | number | boolean;
    if (raw.startsWith('"')) value = raw.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    else throw new BadExpression(`bad value ${raw}`);
    return { op, attr, value };
  };
  const expr = or();
  if (i !== tokens.length) throw new BadExpression(`unexpected ${tokens[i]}`);
  return expr;
}

function valueAt(user: StoredUser, attr: string): unknown {
  if (attr.startsWith('profile.')) return user.profile[attr.slice(8)];
  return (user as unknown as Record<string, unknown>)[attr];
}

function matches(expr: Expr, user: StoredUser, caseless: boolean, filter: boolean): boolean {
  if (expr.op === 'and' || expr.op === 'or') {
    const e = expr as { op: 'and' | 'or'; left: Expr; right: Expr };
    return e.op === 'and' ? matches(e.left, user, caseless, filter) && matches(e.right, user, caseless, filter) : matches(e.left, user, caseless, filter) || matches(e.right, user, caseless, filter);
  }
  const { op, attr, value } = expr as { op: string; attr: string; value?: string | number | boolean };
  if (filter && (!FILTERABLE.has(attr) || (op !== 'eq' && !(attr === 'lastUpdated' && ['gt', 'ge', 'lt', 'le'].includes(op))))) throw new BadExpression(`${attr} ${op} is not supported by filter`);
  const actual = valueAt(user, attr);
  if (op === 'pr') return actual !== null && actual !== undefined && actual !== '';
  const one = (a: unknown): boolean => {
    if (a === null || a === undefined) return false;
    let x: unknown = a;
    let y: unknown = value;
    if (typeof x === 'string' && typeof y === 'string' && caseless) [x, y] = [x.toLowerCase(), y.toLowerCase()];
    switch (op) {
      case 'eq': return x === y;
      case 'sw': return typeof x === 'string' && typeof y === 'string' && x.startsWith(y);
      case 'co': return typeof x === 'string' && typeof y === 'string' && x.includes(y);
      case 'gt': return (x as string) > (y as string);
      case 'ge': return (x as string) >= (y as string);
      case 'lt': return (x as string) < (y as string);
      default: return (x as string) <= (y as string);
    }
  };
  return Array.isArray(actual) ? actual.some(one) : one(actual);
}

// ---- the server --------------------------------------------------------------------------------

export async function startOktaServer(options: OktaServerOptions): Promise<OktaTestServer> {
  const users = new Map<string, StoredUser>();
  const requests: RecordedRequest[] = [];
  const faults: (FaultRule & { left: number })[] = [];
  let counter = 0;
  let origin = '';
  const window = { start: 0, resetAt: 0, used: 0 };

  const now = () => new Date().toISOString();
  const newId = () => `00u${(++counter).toString(36).padStart(8, '0')}${randomBytes(6).toString('hex').slice(0, 9)}`;
  const sorted = () => [...users.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const find = (ref: string): StoredUser | undefined => {
    const byId = users.get(ref);
    if (byId) return byId;
    const lower = ref.toLowerCase();
    const byLogin = [...users.values()].find((u) => String(u.profile.login).toLowerCase() === lower);
    if (byLogin) return byLogin;
    const short = [...users.values()].filter((u) => String(u.profile.login).toLowerCase().split('@')[0] === lower);
    return short.length === 1 ? short[0] : undefined;
  };
  const resource = (u: StoredUser) => ({
    id: u.id, status: u.status, created: u.created, activated: u.activated, statusChanged: u.statusChanged, lastLogin: u.lastLogin,
    lastUpdated: u.lastUpdated, passwordChanged: u.password ? u.created : null, type: { id: 'oty0000000000000000' },
    profile: { ...u.profile }, credentials: { ...(u.password ? { password: {} } : {}), provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: `${origin}/api/v1/users/${u.id}` } },
  });
  const schemaOf = (): Record<string, CustomProperty & { format?: 'email' }> => ({ ...BASE, ...options.custom });
  const setStatus = (u: StoredUser, status: Status) => {
    u.status = status;
    u.statusChanged = u.lastUpdated = now();
    if (status === 'ACTIVE' || status === 'PROVISIONED') u.activated ??= u.statusChanged;
  };

  /** The causes a profile breaks (`full`: it is the whole profile, so required properties must be there). */
  function validate(profile: Record<string, unknown>, self: StoredUser | null, full: boolean): Answer | null {
    const schema = schemaOf();
    const causes: string[] = [];
    let first = '';
    const cause = (name: string, text: string) => { first ||= name; causes.push(`${name}: ${text}`); };
    for (const [name, value] of Object.entries(profile)) {
      const p = schema[name];
      if (!p) { cause(name, 'Property is not defined in the user profile schema'); continue; }
      if (value === null || value === '') { if (p.required) cause(name, 'The field cannot be left blank'); continue; }
      const okScalar = (v: unknown, t: string) => (t === 'string' ? typeof v === 'string' : t === 'boolean' ? typeof v === 'boolean' : t === 'integer' ? Number.isInteger(v) : typeof v === 'number');
      const ok = p.type === 'array' ? Array.isArray(value) && value.every((v) => okScalar(v, p.items ?? 'string')) : okScalar(value, p.type);
      if (!ok) { cause(name, `Property value type mismatch: expected ${p.type}`); continue; }
      if ((name === 'login' || p.format === 'email') && !EMAIL.test(String(value))) cause(name, name === 'login' ? 'Username must be in the form of an email address' : 'Does not match required pattern');
      if (p.unique && [...users.values()].some((u) => u !== self && String(u.profile[name] ?? '').toLowerCase() === String(value).toLowerCase())) {
        cause(name, 'An object with this field already exists in the current organization');
      }
    }
    if (full) for (const [name, p] of Object.entries(schema)) if (p.required && (profile[name] === undefined || profile[name] === null || profile[name] === '') && !(name in profile)) cause(name, 'The field cannot be left blank');
    return causes.length > 0 ? invalid(first, causes) : null;
  }

  function list(url: URL): Answer {
    const q = url.searchParams;
    const search = q.get('search');
    const filter = q.get('filter');
    if (search !== null && filter !== null) return error(400, 'E0000033', "Bad request. Can't specify a search query and filter in the same request.");
    const limitText = q.get('limit');
    if (limitText !== null && !/^\d+$/.test(limitText)) return error(400, 'E0000029', 'Invalid paging request.');
    const limit = Math.min(Math.max(Number(limitText ?? 200), 1), 200);
    let selected = sorted();
    try {
      if (search !== null) { const e = parseExpression(search); selected = selected.filter((u) => matches(e, u, true, false)); }
      else if (filter !== null) { const e = parseExpression(filter); selected = selected.filter((u) => matches(e, u, false, true)); }
      else selected = selected.filter((u) => u.status !== 'DEPROVISIONED');
    } catch (e) {
      if (e instanceof BadExpression) return error(400, 'E0000031', 'Bad request. Invalid filter parameter.', [e.message]);
      throw e;
    }
    const after = q.get('after');
    if (after !== null) selected = selected.filter((u) => u.id > after);
    const page = selected.slice(0, limit);
    const link = (extra: Record<string, string>) => {
      const p = new URLSearchParams();
      for (const [k, v] of q) if (k !== 'after') p.set(k, v);
      for (const [k, v] of Object.entries(extra)) p.set(k, v);
      return `${options.linkOrigin ?? origin}/api/v1/users?${p.toString()}`;
    };
    const links = [`<${origin}${url.pathname}${url.search}>; rel="self"`];
    if (selected.length > limit) links.push(`<${link({ after: page.at(-1)!.id, limit: String(limit) })}>; rel="next"`);
    return { status: 200, body: page.map(resource), headers: { link: links } };
  }

  function create(url: URL, body: { profile?: unknown; credentials?: { password?: { value?: unknown } } }): Answer {
    if (typeof body?.profile !== 'object' || body.profile === null) return invalid('profile', ['profile: The field cannot be left blank']);
    const profile = body.profile as Record<string, unknown>;
    const broken = validate(profile, null, true);
    if (broken) return broken;
    const at = now();
    const password = typeof body.credentials?.password?.value === 'string';
    const user: StoredUser = { id: newId(), status: 'STAGED', created: at, activated: null, statusChanged: null, lastUpdated: at, lastLogin: null, profile: { ...profile }, password };
    users.set(user.id, user);
    if (url.searchParams.get('activate') !== 'false') setStatus(user, password ? 'ACTIVE' : 'PROVISIONED');
    return { status: 200, body: resource(user) };
  }

  function update(user: StoredUser, body: { profile?: unknown }, partial: boolean): Answer {
    if (user.status === 'DEPROVISIONED') return notFound(user.id);
    if (typeof body?.profile !== 'object' || body.profile === null) return { status: 200, body: resource(user) };
    const incoming = body.profile as Record<string, unknown>;
    const merged = partial ? { ...user.profile, ...incoming } : { ...incoming };
    const broken = validate(partial ? incoming : merged, user, !partial);
    if (broken) return broken;
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    user.profile = merged;
    user.lastUpdated = now();
    return { status: 200, body: resource(user) };
  }

  function lifecycle(user: StoredUser, operation: string, url: URL): Answer {
    const link = () => (url.searchParams.get('sendEmail') === 'false' ? { activationUrl: `${origin}/welcome/XE6wE17z`, activationToken: 'XE6wE17z' } : {});
    switch (operation) {
      case 'activate':
        if (user.status !== 'STAGED' && user.status !== 'DEPROVISIONED') return error(403, 'E0000016', 'Activation failed because the user is already active');
        setStatus(user, user.password ? 'ACTIVE' : 'PROVISIONED');
        return { status: 200, body: link() };
      case 'reactivate':
        if (user.status !== 'PROVISIONED' && user.status !== 'RECOVERY') return error(403, 'E0000038', "This operation is not allowed in the user's current status.");
        setStatus(user, 'PROVISIONED');
        return { status: 200, body: link() };
      case 'deactivate':
        if (user.status === 'DEPROVISIONED') return notFound(user.id);
        setStatus(user, 'DEPROVISIONED');
        return { status: 200 };
      case 'suspend':
        if (user.status !== 'ACTIVE') return invalid('status', ['Cannot suspend a user that is not active']);
        setStatus(user, 'SUSPENDED');
        return { status: 200 };
      case 'unsuspend':
        if (user.status !== 'SUSPENDED') return invalid('status', ['Cannot unsuspend a user that is not suspended']);
        setStatus(user, 'ACTIVE');
        return { status: 200 };
      default:
        return error(404, 'E0000022', 'The endpoint does not support the provided HTTP method');
    }
  }

  function route(method: string, url: URL, body: unknown): Answer {
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/api/v1/meta/schemas/user/default' && method === 'GET') {
      const schema = schemaOf();
      const part = (names: string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => {
        const { format: _f, unique, items, ...rest } = schema[n]!;
        return [n, { ...rest, ...(items ? { items: { type: items } } : {}), ...(unique ? { unique: 'UNIQUE_VALIDATED' } : {}), permissions: [{ principal: 'SELF', action: 'READ_WRITE' }] }];
      })), required: names.filter((n) => schema[n]!.required) });
      return { status: 200, body: {
        id: `${origin}/meta/schemas/user/default`, $schema: 'http://json-schema.org/draft-04/schema#', name: 'user', title: 'Default Okta User', type: 'object',
        definitions: { base: { id: '#base', ...part(Object.keys(BASE)) }, custom: { id: '#custom', ...part(Object.keys(options.custom ?? {})) } },
        properties: { profile: { allOf: [{ $ref: '#/definitions/base' }, { $ref: '#/definitions/custom' }] } },
      } };
    }
    if (path === '/api/v1/users') {
      if (method === 'GET') return list(url);
      if (method === 'POST') return create(url, body as never);
    }
    const m = /^\/api\/v1\/users\/([^/]+)(?:\/lifecycle\/([a-z_]+))?$/.exec(path);
    if (!m) return error(404, 'E0000022', 'The endpoint does not support the provided HTTP method');
    const ref = decodeURIComponent(m[1]!);
    const user = find(ref);
    if (!user) return notFound(ref);
    if (m[2] !== undefined) return method === 'POST' ? lifecycle(user, m[2], url) : error(405, 'E0000022', 'The endpoint does not support the provided HTTP method');
    switch (method) {
      case 'GET': return { status: 200, body: resource(user) };
      case 'POST': return update(user, body as never, true);
      case 'PUT': return update(user, body as never, false);
      case 'DELETE':
        if (user.status === 'DEPROVISIONED') users.delete(user.id);
        else setStatus(user, 'DEPROVISIONED');
        return { status: 204 };
      default: return error(405, 'E0000022', 'The endpoint does not support the provided HTTP method');
    }
  }

  function rateHeaders(): { limited: boolean; headers: Record<string, string> } {
    const { limit, windowMs } = options.rateLimit ?? { limit: 10_000, windowMs: 60_000 };
    const t = Date.now();
    if (t >= window.resetAt) Object.assign(window, { start: t, resetAt: Math.ceil((t + windowMs) / 1000) * 1000, used: 0 });
    window.used++;
    const limited = window.used > limit;
    return { limited, headers: { 'x-rate-limit-limit': String(limit), 'x-rate-limit-remaining': String(Math.max(limit - window.used, 0)), 'x-rate-limit-reset': String(window.resetAt / 1000) } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', origin);
    const authorization = req.headers.authorization ?? '';
    const authorized = authorization === `SSWS ${options.token}` || (options.accessToken !== undefined && authorization === `Bearer ${options.accessToken}`);
    let body: unknown;
    let badBody = false;
    try { body = text === '' ? undefined : JSON.parse(text); } catch { badBody = true; }
    const record: RecordedRequest = { method, url: decodeURIComponent(url.pathname + url.search), body: badBody ? text : body, authorized, status: 0, at: Date.now() };
    requests.push(record);
    const send = (answer: Answer, cut?: 'lost' | 'reset') => {
      record.status = cut === 'lost' ? 0 : answer.status;
      if (cut === 'lost') return void req.socket.destroy();
      const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      if (cut === 'reset') {
        res.write(payload.slice(0, Math.floor(payload.length / 2)));
        return void setImmediate(() => req.socket.destroy());
      }
      res.end(payload);
    };

    const rule = faults.find((f) => f.left > 0 && (!f.method || f.method === method)
      && (!f.url || (typeof f.url === 'string' ? record.url.includes(f.url) : f.url.test(record.url))) && (!f.body || text.includes(f.body)));
    let cut: 'lost' | 'reset' | undefined;
    if (rule) {
      rule.left--;
      const fault = rule.fault;
      if ('delayMs' in fault) {
        await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault.pass === false) return void req.socket.destroy();
      } else if ('run' in fault) fault.run();
      else if ('lost' in fault) cut = 'lost';
      else if ('reset' in fault) cut = 'reset';
      else if ('html' in fault) return send({ status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>Sign In</title></head><body><h1>Okta sign-in</h1></body></html>' });
      else if ('malformed' in fault) return send({ status: 200, body: '[{"id":"00u1","status":' });
      else {
        // An injected 429 says when to come back as Okta does (the next whole second), unless the rule says otherwise.
        const throttled = fault.status === 429;
        const headers = throttled ? { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 1), ...fault.headers } : fault.headers ?? {};
        return send(error(fault.status, fault.errorCode ?? (throttled ? 'E0000047' : 'E0000009'), fault.errorSummary ?? (throttled ? 'API call exceeded rate limit due to too many requests.' : 'Internal Server Error'), fault.causes ?? [], headers));
      }
    }
    const rate = rateHeaders();
    const answer: Answer = !authorized ? error(401, 'E0000011', 'Invalid token provided')
      : rate.limited ? error(429, 'E0000047', 'API call exceeded rate limit due to too many requests.')
        : badBody ? error(400, 'E0000003', 'The request body was not well-formed.')
          : route(method, url, body);
    answer.headers = { ...rate.headers, ...answer.headers };
    send(answer, cut);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errorCode: 'E0000009', errorSummary: `Internal Server Error: ${String(e)}`, errorCauses: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin, users, requests, options,
    seed(profile, seedOptions = {}) {
      const at = now();
      const user: StoredUser = { id: newId(), status: 'STAGED', created: at, activated: null, statusChanged: null, lastUpdated: at, lastLogin: null, profile: { ...profile }, password: seedOptions.password ?? true };
      users.set(user.id, user);
      setStatus(user, seedOptions.status ?? 'ACTIVE');
      return user;
    },
    byLogin: (login) => [...users.values()].find((u) => u.profile.login === login),
    inject(rule) {
      faults.push({ ...rule, left: rule.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    }),
  };
}
