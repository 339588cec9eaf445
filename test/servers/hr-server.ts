/**
 * A real HR API for tests and the examples/http-hr demo: node:http on 127.0.0.1 at a free port, serving
 * generated employees as paged JSON in every paging style the http provider reads.
 * Contract:
 * - startHrServer() listens and returns its origin (http://127.0.0.1:PORT); close() stops it.
 * - Endpoints (GET only), each listing `employees` ordered by id, filtered by `updated_since` (records
 *   whose updatedAt is at or after it, as ISO 8601 texts compare):
 *     /none/employees                 the whole list as a bare JSON array
 *     /page/employees?page&per_page   { data: { employees }, meta: { total, page } }  (pages from 1)
 *     /offset/employees?offset&limit  { items, total }
 *     /cursor/employees?cursor&limit  { results, meta: { next_cursor } }  (null on the last page)
 *     /next/employees?page&per_page   { employees, links: { next } }  (a relative URL; absolute on
 *                                     options.nextOrigin when set; null on the last page)
 *     /link/employees?page&per_page   a bare array, with a Link: <…>; rel="next" header but on the last page
 *   per_page and limit default to 100 and are capped at options.maxPageSize (default 1000).
 * - Credentials: with `token`, `Authorization: Bearer <token>` is required; with `basic`, Basic
 *   user:password; with `apiKey`, that header and value. Anything else is answered 401 with a JSON
 *   error body. Every request is recorded (method, path and query, lower-cased headers, whether it was
 *   authorised), and the most requests in flight at once is kept.
 * - Faults: inject() a rule that matches the next requests by path-and-query (a string it contains, or a
 *   RegExp), `times` times (default 1): answer a status with a JSON error body (and Retry-After), an HTML
 *   page with 200, a body that is not JSON, a given JSON body, the normal answer changed by a function or
 *   with extra headers or with the id taken off some of its records (keyless), the normal answer after
 *   delayMs, or cut the connection without an answer (reset).
 * - touch() changes an employee and sets its updatedAt later than any before; the data is plain and
 *   mutable (`employees`), so a test may add or remove records as it likes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Employee = Record<string, unknown> & { id: number; updatedAt: string };

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  authorized: boolean;
}

export type Fault =
  | { status: number; retryAfter?: string; body?: unknown; headers?: Record<string, string> }
  | { html: true }
  | { notJson: true }
  | { body: unknown }
  | { mutate: (body: unknown, headers: Record<string, string>) => unknown }
  | { headers: Record<string, string> }
  /** The normal answer, with the id taken off its records at these 0-based indexes on the page. */
  | { keyless: number[] }
  /** The normal answer, with the first record's title an array nested this many levels deep. */
  | { nest: number }
  | { delayMs: number }
  | { reset: true };

export interface FaultRule {
  url?: string | RegExp;
  times?: number;
  fault: Fault;
}

export interface HrServerOptions {
  /** How many employees to generate (default 250). */
  count?: number;
  token?: string;
  basic?: { username: string; password: string };
  apiKey?: { header: string; value: string };
  /** The largest page the server gives, whatever is asked (default 1000). */
  maxPageSize?: number;
  /** next-link paging: write next links as absolute URLs on this origin (another server, say). */
  nextOrigin?: string;
}

export interface HrTestServer {
  url: string;
  employees: Employee[];
  requests: RecordedRequest[];
  /** The most requests the server was answering at once. */
  maxInFlight: number;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  touch(id: number, changes: Record<string, unknown>): Employee;
  close(): Promise<void>;
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Zoë', 'Olivia', 'Mei', 'Kwame', 'Ingrid', 'José', 'Priya'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Müller', 'Nguyen', 'Chen', 'Mensah', 'Berg', 'García', 'Patel'];
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'People', 'Support'];
const CITIES = [['Oslo', 'NO'], ['Berlin', 'DE'], ['Accra', 'GH'], ['Austin', 'US']];
const EPOCH = Date.parse('2024-01-01T00:00:00Z');

/** The generated employee number i (0-based): ids from 1001, updatedAt a minute apart. */
export function employee(i: number): Employee {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
  const [city, country] = CITIES[i % CITIES.length]!;
  const ascii = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return {
    id: 1001 + i,
    firstName: first,
    lastName: last,
    email: `${ascii(first)}.${ascii(last)}.${1001 + i}@example.com`,
    title: i % 10 === 0 ? 'Manager' : 'Engineer',
    department: DEPARTMENTS[i % DEPARTMENTS.length]!,
    status: 'Active',
    active: true,
    fte: i % 7 === 0 ? 0.5 : 1,
    address: { city, country },
    manager: i === 0 ? null : { id: 1001 },
    groups: [DEPARTMENTS[i % DEPARTMENTS.length]!, 'All Staff'],
    updatedAt: new Date(EPOCH + i * 60_000).toISOString(),
  };
}

export async function startHrServer(options: HrServerOptions = {}): Promise<HrTestServer> {
  const employees = Array.from({ length: options.count ?? 250 }, (_, i) => employee(i));
  const requests: RecordedRequest[] = [];
  let rules: (FaultRule & { left: number })[] = [];
  let clock = EPOCH + employees.length * 60_000;
  let inFlight = 0;
  const server: HrTestServer = {
    url: '', employees, requests, maxInFlight: 0,
    inject: (rule) => void rules.push({ ...rule, left: rule.times ?? 1 }),
    clearFaults: () => void (rules = []),
    touch: (id, changes) => {
      const e = employees.find((x) => x.id === id);
      if (!e) throw new Error(`no employee ${id}`);
      clock += 60_000;
      Object.assign(e, changes, { updatedAt: new Date(clock).toISOString() });
      return e;
    },
    close: () => new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };

  const http = createServer((req, res) => {
    inFlight++;
    server.maxInFlight = Math.max(server.maxInFlight, inFlight);
    let done = false;
    const finished = () => void (done || (done = true, inFlight--));
    res.on('finish', finished);
    res.on('close', finished);
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: 'server_error', message: String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
    const authorized = isAuthorized(headers);
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', path: url.pathname, query, headers, authorized });
    const rule = rules.find((r) => r.left > 0 && (r.url === undefined || (typeof r.url === 'string' ? decodeURIComponent(req.url ?? '').includes(r.url) : r.url.test(decodeURIComponent(req.url ?? '')))));
    if (rule) rule.left--;
    const fault = rule?.fault;
    if (fault && 'reset' in fault) {
      req.socket.destroy();
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault && 'status' in fault) {
      return send(res, fault.status, fault.body ?? { error: 'unavailable', message: `injected ${fault.status}` }, { ...fault.headers, ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
    }
    if (!authorized) {
      return send(res, 401, { error: 'invalid_token', message: `credentials ${headers.authorization ?? '(none)'} are not valid for this tenant` });
    }
    if (fault && 'html' in fault) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Your session has expired</h1><p>Please sign in again.</p></body></html>');
      return;
    }
    if (fault && 'notJson' in fault) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data": {"employees": [{"id": 1001, "firstName": "Ada"');
      return;
    }
    if (fault && 'body' in fault) return send(res, 200, fault.body);
    const answer = listing(url, query);
    if (!answer) return send(res, 404, { error: 'not_found', message: `no route ${url.pathname}` });
    let body = answer.body;
    const extra: Record<string, string> = { ...answer.headers };
    if (fault && 'mutate' in fault) body = fault.mutate(body, extra);
    if (fault && 'headers' in fault) Object.assign(extra, fault.headers);
    if (fault && 'keyless' in fault) {
      const page = recordsOf(body).map((e) => ({ ...e }));
      for (const i of fault.keyless) delete (page[i] as Partial<Employee> | undefined)?.id;
      body = withRecords(body, page);
    }
    if (fault && 'nest' in fault) {
      const page = recordsOf(body).map((e) => ({ ...e }));
      (page[0] as Record<string, unknown>).title = '\u0000nest';
      const text = JSON.stringify(withRecords(body, page)).replace('"\\u0000nest"', '['.repeat(fault.nest) + ']'.repeat(fault.nest));
      res.writeHead(200, { 'content-type': 'application/json', ...extra });
      res.end(text);
      return;
    }
    send(res, 200, body, extra);
  }

  function isAuthorized(headers: Record<string, string>): boolean {
    if (options.token !== undefined && headers.authorization !== `Bearer ${options.token}`) return false;
    if (options.basic && headers.authorization !== `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString('base64')}`) return false;
    if (options.apiKey && headers[options.apiKey.header.toLowerCase()] !== options.apiKey.value) return false;
    return true;
  }

  function listing(url: URL, query: Record<string, string>): { body: unknown; headers: Record<string, string> } | undefined {
    const since = query.updated_since;
    const all = employees.filter((e) => since === undefined || e.updatedAt >= since).sort((a, b) => a.id - b.id);
    const cap = options.maxPageSize ?? 1000;
    const size = (name: string) => Math.min(Math.max(Number(query[name] ?? 100) || 100, 1), cap);
    const pageNumber = Math.max(Number(query.page ?? 1) || 1, 1);
    const style = /^\/(none|page|offset|cursor|next|link)\/employees$/.exec(url.pathname)?.[1];
    const nextUrl = (page: number, perPage: number) => {
      const next = new URL(url.pathname, 'http://localhost');
      for (const [k, v] of Object.entries(query)) next.searchParams.set(k, v);
      next.searchParams.set('page', String(page));
      next.searchParams.set('per_page', String(perPage));
      return next.pathname + next.search;
    };
    switch (style) {
      case 'none': return { body: all, headers: {} };
      case 'page': {
        const perPage = size('per_page');
        return { body: { data: { employees: all.slice((pageNumber - 1) * perPage, pageNumber * perPage) }, meta: { total: all.length, page: pageNumber } }, headers: {} };
      }
      case 'offset': {
        const offset = Math.max(Number(query.offset ?? 0) || 0, 0);
        return { body: { items: all.slice(offset, offset + size('limit')), total: all.length }, headers: {} };
      }
      case 'cursor': {
        const from = query.cursor ? Number(Buffer.from(query.cursor, 'base64url').toString('utf8').replace(/^after:/, '')) : 0;
        const limit = size('limit');
        const end = from + limit;
        return { body: { results: all.slice(from, end), meta: { next_cursor: end < all.length ? Buffer.from(`after:${end}`).toString('base64url') : null } }, headers: {} };
      }
      case 'next': {
        const perPage = size('per_page');
        const more = pageNumber * perPage < all.length;
        const next = more ? `${options.nextOrigin ?? ''}${nextUrl(pageNumber + 1, perPage)}` : null;
        return { body: { employees: all.slice((pageNumber - 1) * perPage, pageNumber * perPage), links: { next } }, headers: {} };
      }
      case 'link': {
        const perPage = size('per_page');
        const more = pageNumber * perPage < all.length;
        const headers: Record<string, string> = more ? { link: `<${nextUrl(1, perPage)}>; rel="first", <${nextUrl(pageNumber + 1, perPage)}>; rel="next"` } : {};
        return { body: all.slice((pageNumber - 1) * perPage, pageNumber * perPage), headers };
      }
      default: return undefined;
    }
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return server;
}

/** The records array of an answer, whichever endpoint's shape it has. */
function recordsOf(body: unknown): Employee[] {
  if (Array.isArray(body)) return body as Employee[];
  const b = body as { data?: { employees?: Employee[] }; items?: Employee[]; results?: Employee[]; employees?: Employee[] };
  return b.data?.employees ?? b.items ?? b.results ?? b.employees ?? [];
}

function withRecords(body: unknown, records: Employee[]): unknown {
  if (Array.isArray(body)) return records;
  const b = body as Record<string, unknown>;
  if (b.data) return { ...b, data: { ...(b.data as object), employees: records } };
  for (const name of ['items', 'results', 'employees']) if (name in b) return { ...b, [name]: records };
  return body;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
