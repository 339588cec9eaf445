/**
 * The HTTP(S) endpoints of `idplane serve`:
 * - GET /healthz: 200 {"status":"ok", version, running, schedules: [{app, schedule, next, last}]};
 *   503 {"status":"stopping"} once a shutdown began (a load balancer stops sending JIT requests).
 * - GET /metrics: Prometheus text format (metrics.ts).
 * - POST /jit/APP: one account's attributes as a JSON object (Content-Type application/json, at most
 *   64 KiB), run through the import pipeline of APP (engine/runs/jit.ts) behind any run going on,
 *   together with the other JIT requests for APP waiting by then (jit-batcher.ts). 200 with {app, key, action, login, status} (201 when the user was created); 400 input that is
 *   not an account, 401 a missing or wrong secret, 403 no valid client certificate (mTLS), 404 an app
 *   that takes no JIT, 409 an account for review or in conflict (nothing changed), 413 too large,
 *   415 not JSON, 503 the state lock stayed held or the runs before it took longer than
 *   serve.lockTimeout (Retry-After), or the server is stopping, 500 an
 *   error (http-errors.ts maps the engine's error codes). Every error body is {"error": {code, message}}.
 * Authentication of JIT: every mechanism the config sets must pass: the shared secret (Authorization:
 * Bearer, compared in constant time) and, with serve.tls.ca, a client certificate that the CA signed.
 * It comes first, before the app or the method is looked at, so a stranger learns nothing of the apps.
 * /healthz and /metrics need neither (probes and scrapers seldom hold client certificates).
 * No request body, secret or header value is ever logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { IdplaneError } from '../engine/errors.ts';
import { parseAccount, type JitResult } from '../engine/runs/jit.ts';
import { answerFor, HttpError } from './http-errors.ts';
import type { JitBatcher } from './jit-batcher.ts';
import type { Workspace } from '../engine/workspace.ts';
import { VERSION } from '../engine/version.ts';
import type { ServeMetrics } from './metrics.ts';
import type { Runner } from './runner.ts';
import type { Schedule } from './schedules.ts';
import { accountReads } from '../reconciler/app-references.ts';
import type { ImportConfig } from '../schemas/generated/config.ts';

/** How long open connections may take to finish once the runs are over, at shutdown. */
const CLOSE_GRACE_MS = 5_000;

/** The largest JIT body accepted: one account's attributes. */
export const MAX_BODY = 64 * 1024;

export interface ServerOptions {
  ws: Workspace;
  runner: Runner;
  /** Runs JIT requests, several at once when they come together. */
  jitBatcher: JitBatcher;
  metrics: ServeMetrics;
  schedules: () => Schedule[];
  host: string;
  port: number;
  /** PEM contents; with ca, client certificates are asked for (and required for JIT). */
  tls?: { cert: string; key: string; ca?: string };
  /** Absent: no JIT endpoint. */
  jit?: { apps: Set<string>; secret?: string; mtls: boolean };
  lockTimeoutMs: number;
  log: (line: string) => void;
}

export interface RunningServer {
  url: string;
  /**
   * Stops accepting connections at once and resolves when the open requests have been answered.
   * Connections still open CLOSE_GRACE_MS after `runsOver` resolves are cut.
   */
  close(runsOver: Promise<unknown>): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, options).catch((error: unknown) => {
      options.log(`${new Date().toISOString()} http: internal error answering ${req.method} ${routeOf(req.url)}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: 'internal error; see the server log' } });
      else res.destroy();
    });
  };
  let server: Server;
  try {
    server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: false } : {}) }, handler)
      : createHttpServer(handler);
  } catch (error) {
    throw new IdplaneError('SERVE_TLS', `serve.tls: the certificate, key or CA cannot be used: ${(error as Error).message}`);
  }
  server.keepAliveTimeout = 5_000;
  // A JIT body is at most 64 KiB: a client that takes longer than this to send one is not waited for.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (out of file descriptors) is logged, not thrown at the process.
  server.on('error', (error) => options.log(`${new Date().toISOString()} http: ${error.message}`));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    close: (runsOver) => new Promise<void>((resolve) => {
      let force: NodeJS.Timeout | undefined;
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
      // Connections busy now answer with Connection: close (see handle); once the runs are over, any
      // still open after the grace (a client that never reads its answer) are cut.
      void runsOver.finally(() => {
        server.closeIdleConnections();
        force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
      });
    }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: ServerOptions): Promise<void> {
  const path = routeOf(req.url);
  const jitApp = jitAppOf(path);
  res.on('finish', () => {
    const route = path === '/healthz' || path === '/metrics' ? path : jitApp !== null && options.jit?.apps.has(jitApp) ? `/jit/${jitApp}` : 'other';
    options.metrics.answered(route, res.statusCode);
  });
  // Stopping: every answer closes its connection, so that a client that keeps sending does not keep
  // the server from closing.
  if (options.runner.stopped) res.shouldKeepAlive = false;
  try {
    if (path === '/healthz') return health(req, res, options);
    if (path === '/metrics') {
      allow(req, ['GET', 'HEAD']);
      const { contentType, body } = await options.metrics.render();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (jitApp !== null) return await jitRequest(req, res, options, jitApp);
    throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${path} (there are /healthz, /metrics and POST /jit/APP)`);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    // Refused credentials are logged (who knocked, not what they sent); other refusals are the caller's to read.
    if (error.status === 401 || error.status === 403) options.log(`${new Date().toISOString()} http: ${error.status} ${req.method} ${path} from ${req.socket.remoteAddress ?? 'unknown'}: ${error.message}`);
    // A request whose body was not read (refused before it) must not leave it in the connection.
    send(res, error.status, { error: { code: error.code, message: error.message } }, { ...error.headers, ...(req.complete ? {} : { connection: 'close' }) });
  }
}

function health(req: IncomingMessage, res: ServerResponse, options: ServerOptions): void {
  allow(req, ['GET', 'HEAD']);
  const stopping = options.runner.stopped;
  const schedules = options.schedules().map((s) => {
    const last = options.runner.lastRun(s.app, 'schedule');
    return { app: s.app, schedule: s.pattern, next: s.next(), ...(last ? { last } : {}) };
  });
  send(res, stopping ? 503 : 200, { status: stopping ? 'stopping' : 'ok', version: VERSION, running: options.runner.current, schedules });
}

async function jitRequest(req: IncomingMessage, res: ServerResponse, options: ServerOptions, app: string): Promise<void> {
  const jit = options.jit;
  if (!jit) throw new HttpError(404, 'NO_JIT', 'JIT is not enabled: set serve.jit in idplane.yaml');
  // Authenticated first, so that only a caller with the credentials learns which apps take JIT.
  authenticate(req, jit);
  if (!jit.apps.has(app)) throw new HttpError(404, 'NO_JIT', `${app} takes no JIT requests (JIT apps: ${[...jit.apps].join(', ') || 'none'})`);
  allow(req, ['POST']);
  if (options.runner.stopped) throw new HttpError(503, 'STOPPING', 'idplane serve is shutting down; send the request to another instance or try again', { 'retry-after': '5' });
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'NOT_JSON', `the body must be a JSON object of the account's attributes, sent as Content-Type: application/json (got ${type || 'none'})`);
  const attributes = onlyRead(parseAttributes(await readBody(req), app, options.lockTimeoutMs), app, options);
  const key = attributes[options.ws.project.apps[app]!.key];
  if (!key) throw new HttpError(400, 'JIT_INPUT', `${app}: the account has no value for its key attribute ${JSON.stringify(options.ws.project.apps[app]!.key)}`);
  let result: JitResult;
  try {
    result = await options.jitBatcher.submit(app, attributes);
  } catch (error) {
    throw answerFor(error, options.lockTimeoutMs);
  }
  const status = (result.user as { status?: unknown } | null)?.status ?? null;
  send(res, result.action === 'create' ? 201 : 200, { app, key: result.key, action: result.action, login: result.login, status });
}

const readsOf = new WeakMap<object, Map<string, Set<string> | null>>();

/**
 * The attributes the app's import reads (its key, mappings, match rules, `disabled`), the others dropped
 * and counted: every name stored for an app becomes a column of its records, which correlation walks for
 * every account, so a caller sending thousands of made-up names would slow every later plan.
 */
function onlyRead(attributes: Record<string, string>, app: string, options: ServerOptions): Record<string, string> {
  let byApp = readsOf.get(options.ws.project);
  if (!byApp) readsOf.set(options.ws.project, (byApp = new Map()));
  const compiled = options.ws.project.apps[app]!;
  if (!byApp.has(app)) byApp.set(app, accountReads((compiled.config as { import?: ImportConfig }).import, compiled.key));
  const reads = byApp.get(app)!;
  if (reads === null) return attributes;
  const kept: Record<string, string> = {};
  let dropped = 0;
  for (const name of Object.keys(attributes)) {
    if (reads.has(name)) kept[name] = attributes[name]!;
    else dropped += 1;
  }
  if (dropped > 0) options.metrics.ignoredAttributes(app, dropped);
  return kept;
}

function authenticate(req: IncomingMessage, jit: NonNullable<ServerOptions['jit']>): void {
  if (jit.mtls) {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) {
      const why = socket.getPeerCertificate && Object.keys(socket.getPeerCertificate()).length > 0 ? `the client certificate was refused (${String(socket.authorizationError)})` : 'no client certificate was presented';
      throw new HttpError(403, 'FORBIDDEN', `JIT requests need a client certificate signed by serve.tls.ca: ${why}`);
    }
  }
  if (jit.secret !== undefined) {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match || !sameSecret(match[1]!, jit.secret)) {
      throw new HttpError(401, 'UNAUTHORIZED', match ? 'the bearer token is not the JIT secret' : 'JIT requests need Authorization: Bearer <serve.jit.secret>', { 'www-authenticate': 'Bearer realm="idplane-jit"' });
    }
  }
}

/** Constant time whatever the lengths: both sides are hashed first. */
function sameSecret(given: string, secret: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY) throw new HttpError(413, 'TOO_LARGE', `the body has ${declared} bytes; one account's attributes must fit in ${MAX_BODY}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'TOO_LARGE', `the body is larger than ${MAX_BODY} bytes; one account's attributes must fit`);
    chunks.push(chunk as Buffer);
  }
  try {
    return UTF8.decode(Buffer.concat(chunks));
  } catch {
    // Decoded leniently, the bad bytes would become U+FFFD and be stored as a changed name.
    throw new HttpError(400, 'JIT_INPUT', 'the body is not UTF-8 text (a latin-1 or Windows-1252 encoder, say): send the JSON encoded as UTF-8');
  }
}

/** Refuses bytes that are not UTF-8 instead of replacing them. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseAttributes(text: string, app: string, lockTimeoutMs: number): Record<string, string> {
  try {
    return parseAccount(text, app, 'the body');
  } catch (error) {
    throw answerFor(error, lockTimeoutMs);
  }
}

function allow(req: IncomingMessage, methods: string[]): void {
  if (!methods.includes(req.method ?? '')) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${methods.join(' or ')}`, { allow: methods.join(', ') });
}

/** The app of a /jit/APP path, decoded; null for any other path, and for one that does not decode. */
function jitAppOf(path: string): string | null {
  const m = /^\/jit\/([^/]+)$/.exec(path);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

/**
 * The path of a request URL, trailing slashes dropped (`/healthz/` is `/healthz`), in one pass from the
 * end: a regular expression such as /\/+$/ tries every slash of a long run as a start and takes
 * quadratic time on a path of thousands of slashes, which any client can send before authenticating.
 */
export function routeOf(url: string | undefined): string {
  const whole = url ?? '/';
  const query = whole.indexOf('?');
  const path = query === -1 ? whole : whole.slice(0, query);
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end -= 1;
  return path.slice(0, end);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
