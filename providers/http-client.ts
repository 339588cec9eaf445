/**
 * The one HTTP transport of every REST provider (scim, http, okta): Node's global fetch with the app's
 * credentials, a per-request timeout (AbortSignal.timeout), a bound on requests in flight, and retries,
 * all through the shared policy of ./retry.ts. A provider only says how its server words errors and
 * rate limits (HttpDialect); everything else is here once.
 * Contract:
 * - request() answers every HTTP status with an HttpResponse (callers decide what 404, 409 or 412 mean);
 *   it throws HttpRequestError only when no usable answer came: a timeout, a network error, a 2xx whose
 *   body is not JSON ('malformed'), or an open circuit. failure() turns an error status into an
 *   HttpRequestError that carries the status and the server's error code and detail.
 * - 429 and 503 are retried for every method (the server did not act), waiting as Retry-After (or the
 *   dialect's rate-limit reset) says, else with backoff and jitter. 500, 502, 504, timeouts and lost
 *   connections are retried here for reads (GET, HEAD) only: a write may have been carried out, so the
 *   writer tries the change again from its lookup rather than re-sending it.
 * - A server that says its quota is spent (the dialect's `exhausted`) holds every request of the app
 *   until its reset, instead of being hit into 429s.
 * - Requests in flight are bounded by the app-wide adaptive limit (a 429 cuts it by a quarter); the
 *   circuit breaker stops the app for the run after `breakAfter` failures in a row.
 * - Credentials go only into the configured headers and only to the configured origin; a redirect is not
 *   followed. Every message this module builds goes through redact(), so a token or password echoed by a
 *   server or a network library never reaches an error, a log or a plan. Messages name a URL by its path
 *   below the base URL (describe()), never by its origin or credentials.
 */
import { AdaptiveLimit, CircuitBreaker, CircuitOpenError, DEFAULT_RETRY, RetryPolicy, retryAfter, type Outcome, type RetrySettings } from './retry.ts';
import { redactSecrets } from '../engine/secrets.ts';

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when empty (or, for an error status, not JSON). */
  body: unknown;
  /** For an error status whose body is not JSON: its start, tags stripped, for the message. */
  text?: string;
}

export type FailureKind = 'http' | 'timeout' | 'network' | 'malformed' | 'circuit';

export class HttpRequestError extends Error {
  readonly kind: FailureKind;
  readonly status?: number;
  /** The server's own error code (SCIM scimType, Okta errorCode). */
  readonly code?: string;
  readonly detail?: string;

  constructor(message: string, kind: FailureKind, status?: number, code?: string, detail?: string) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

/** How one kind of server words its errors and limits. */
export interface HttpDialect {
  /** Accept header of every request. */
  accept: string;
  /** Content-Type of a request body. */
  contentType: string;
  /** The error code and detail of an error body, and how the code is shown ("scimType invalidValue"). */
  errorOf?: (body: unknown) => { code?: string; label?: string; detail?: string };
  /** A wait the server asks for besides Retry-After (a rate-limit reset), in ms from now. */
  resetAfter?: (headers: Headers, now: number) => number | undefined;
  /** True when the response says no request may be sent until resetAfter. */
  exhausted?: (headers: Headers) => boolean;
}

export interface HttpClientOptions {
  app: string;
  /** The base URL; endpoint() paths are below it. */
  url: string;
  /** The Authorization header, or none. */
  authorization?: string;
  /** Further fixed headers (an API version, a tenant). */
  headers?: Record<string, string>;
  /** Values never to show: tokens, passwords, their encodings. */
  secrets: string[];
  timeoutMs: number;
  concurrency: number;
  retries: number;
  breakAfter: number;
  /** The largest answer body read (bytes); a larger one fails the request, naming the limit. */
  maxResponseBytes: number;
  dialect: HttpDialect;
  /** The retry policy's timings (tests shorten them). */
  retry?: Partial<RetrySettings>;
}

/** Methods that change nothing, so a failed one is simply sent again. */
const SAFE = new Set(['GET', 'HEAD']);
/** Statuses of a server that did not act (429 too many requests, 503 unavailable). */
const NOT_ACTED = new Set([429, 503]);
/** Statuses of a transient server fault: the request may or may not have been carried out. */
const FAULT = new Set([500, 502, 503, 504]);

/** Whether a failed request or change is worth trying again: a transient fault, not a refusal. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof HttpRequestError)) return false;
  if (error.kind === 'timeout' || error.kind === 'network') return true;
  return error.kind === 'http' && error.status !== undefined && (error.status === 429 || FAULT.has(error.status));
}

/** The limits a connection may set, as every REST provider's connection spells them. */
export interface ConnectionLimits {
  timeoutMs?: number;
  concurrency?: number;
  retries?: number;
  breakAfter?: number;
  maxResponseMiB?: number;
}

/** The default of maxResponseMiB: far above any page of records, far below what would exhaust the heap. */
export const DEFAULT_MAX_RESPONSE_MIB = 64;

/** A connection's limits with the defaults the config reference gives (10 s, 4 in flight, 4 retries, break after 25, 64 MiB answers). */
export function connectionLimits(c: ConnectionLimits): Pick<HttpClientOptions, 'timeoutMs' | 'concurrency' | 'retries' | 'breakAfter' | 'maxResponseBytes'> {
  return { timeoutMs: c.timeoutMs ?? 10_000, concurrency: c.concurrency ?? 4, retries: c.retries ?? 4, breakAfter: c.breakAfter ?? 25, maxResponseBytes: (c.maxResponseMiB ?? DEFAULT_MAX_RESPONSE_MIB) * 2 ** 20 };
}

/** The Basic authorization header of a user and password (RFC 7617). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export class HttpClient {
  readonly app: string;
  readonly baseUrl: URL;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly policy: RetryPolicy;
  readonly limit: AdaptiveLimit;
  readonly breaker: CircuitBreaker;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly dialect: HttpDialect;
  private readonly maxResponseBytes: number;

  /** Throws HttpRequestError when the URL is unusable or holds credentials. */
  constructor(options: HttpClientOptions) {
    this.app = options.app;
    this.timeoutMs = options.timeoutMs;
    this.concurrency = options.concurrency;
    this.dialect = options.dialect;
    this.maxResponseBytes = options.maxResponseBytes;
    this.policy = new RetryPolicy({ ...DEFAULT_RETRY, ...options.retry, retries: options.retries });
    this.limit = new AdaptiveLimit(options.concurrency);
    this.breaker = new CircuitBreaker(options.app, options.breakAfter);
    this.secrets = options.secrets.filter((s) => s.length >= 4);
    this.headers = { ...options.headers };
    if (options.authorization !== undefined) {
      this.headers.authorization = options.authorization;
      this.secrets.push(options.authorization.replace(/^\S+\s+/, ''));
    }
    let url: URL;
    try {
      url = new URL(options.url.replace(/\/+$/, ''));
    } catch {
      throw new HttpRequestError('connection.url is not a valid URL', 'network');
    }
    if (url.username || url.password) {
      if (url.password) this.secrets.push(decodeURIComponent(url.password));
      throw new HttpRequestError('connection.url must not hold credentials: give them in the connection\'s own keys', 'network');
    }
    this.baseUrl = url;
  }

  /** Replaces every secret of this connection in a text, the longest first (one may hold another). */
  redact(text: string): string {
    let out = text;
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
    return redactSecrets(out);
  }

  /** The URL of an endpoint below the base URL ("/Users", "/api/v1/users"), with a query. */
  endpoint(path: string, query: Record<string, string | number> = {}): URL {
    // %20 rather than URLSearchParams' "+" for spaces: not every server reads "+" in a query as a space.
    const search = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    return new URL(this.baseUrl.href.replace(/\/$/, '') + (path === '' || path.startsWith('/') ? path : `/${path}`) + (search ? `?${search}` : ''));
  }

  /** The URL of a location the server gave (a next link, meta.location): absolute, or relative to the base URL. */
  location(location: string): URL | undefined {
    try {
      return new URL(location, this.baseUrl.href.replace(/\/?$/, '/'));
    } catch {
      return undefined;
    }
  }

  /** True when a URL is on the configured origin (the only place credentials are sent). */
  sameOrigin(url: URL): boolean {
    return url.origin === this.baseUrl.origin;
  }

  /** How a URL is named in messages: its path below the base, with its query, without the origin. */
  describe(url: URL): string {
    const base = this.baseUrl.pathname.replace(/\/$/, '');
    const path = url.pathname === base ? '' : url.pathname.startsWith(base + '/') ? url.pathname.slice(base.length) : url.pathname;
    let text: string;
    try {
      text = decodeURIComponent(path + url.search);
    } catch {
      text = path + url.search;
    }
    return this.redact(text === '' ? '/' : text);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * Sends a request and answers with the server's response, retrying what the contract says. Throws
   * HttpRequestError for a timeout, a lost connection, a malformed 2xx or an open circuit.
   */
  async request(method: string, url: URL, options: RequestOptions = {}): Promise<HttpResponse> {
    if (!this.sameOrigin(url)) throw new HttpRequestError(`${method} ${url.origin}: refused, not the configured server`, 'network');
    for (let attempt = 0; ; attempt++) {
      this.checkCircuit();
      const pause = this.limit.pause();
      if (pause > 0) await this.sleep(pause);
      const release = await this.limit.acquire();
      let response: HttpResponse;
      try {
        this.checkCircuit(); // it may have opened while this request waited for its slot
        response = await this.once(method, url, options);
      } catch (error) {
        const e = error as HttpRequestError;
        const transient = e.kind === 'timeout' || e.kind === 'network';
        release(transient || e.kind === 'circuit' ? 'failed' : 'ok');
        if (transient) this.breaker.failure(e.message);
        if (transient && SAFE.has(method) && this.policy.canRetry(attempt)) {
          await this.sleep(this.policy.delay(attempt + 1));
          continue;
        }
        throw e;
      }
      const now = Date.now();
      const reset = this.dialect.resetAfter?.(response.headers, now);
      if (reset !== undefined && this.dialect.exhausted?.(response.headers)) this.limit.pauseFor(Math.min(reset, this.policy.settings.maxRetryAfterMs));
      // A server's wait is taken up to maxRetryAfterMs, for this request and for the app-wide pause alike.
      const asked = NOT_ACTED.has(response.status) ? retryAfter(response.headers.get('retry-after'), now) ?? reset : undefined;
      const wait = asked === undefined ? undefined : Math.min(asked, this.policy.settings.maxRetryAfterMs);
      const outcome: Outcome = response.status === 429 ? 'throttled' : FAULT.has(response.status) ? 'failed' : 'ok';
      release(outcome, wait);
      if (FAULT.has(response.status)) this.breaker.failure(this.failure(method, url, response).message);
      else if (response.status !== 429) this.breaker.success();
      const retry = NOT_ACTED.has(response.status) || (FAULT.has(response.status) && SAFE.has(method));
      if (retry && this.policy.canRetry(attempt)) {
        await this.sleep(this.policy.delay(attempt + 1, wait));
        continue;
      }
      return response;
    }
  }

  private checkCircuit(): void {
    try {
      this.breaker.check();
    } catch (error) {
      if (error instanceof CircuitOpenError) throw new HttpRequestError(this.redact(error.message), 'circuit');
      throw error;
    }
  }

  /** The error for a response with an error status, naming the request, the status and the server's error. */
  failure(method: string, url: URL, response: HttpResponse): HttpRequestError {
    const parsed = response.body === undefined ? {} : this.dialect.errorOf?.(response.body) ?? {};
    const code = parsed.code === undefined ? undefined : this.redact(parsed.code);
    const detail = parsed.detail === undefined ? undefined : this.redact(parsed.detail);
    const label = parsed.label ?? code;
    const more = detail ?? (response.text ? this.redact(response.text) : undefined);
    const message = `${method} ${this.describe(url)} failed: HTTP ${response.status}${label ? ` (${this.redact(label)})` : ''}${more ? `: ${more}` : ''}`;
    return new HttpRequestError(this.redact(message), 'http', response.status, code, detail);
  }

  /** The error for a 2xx answer that is not what the caller needs ("not a SCIM ListResponse"). */
  malformed(method: string, url: URL, status: number, what: string): HttpRequestError {
    return new HttpRequestError(this.redact(`${method} ${this.describe(url)}: ${what}`), 'malformed', status);
  }

  private async once(method: string, url: URL, options: RequestOptions): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: this.dialect.accept, ...this.headers, ...options.headers };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = this.dialect.contentType;
    }
    const where = `${method} ${this.describe(url)}`;
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      const response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'manual' });
      status = response.status;
      responseHeaders = response.headers;
      text = await this.bodyOf(response, where);
    } catch (error) {
      if (error instanceof HttpRequestError) throw error;
      const e = error as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new HttpRequestError(this.redact(`${where}: no answer within ${this.timeoutMs} ms (timeoutMs)`), 'timeout');
      }
      const cause = e.cause?.code ?? e.cause?.message ?? e.message;
      throw new HttpRequestError(this.redact(`${where}: cannot reach ${this.baseUrl.host} (${cause})`), 'network');
    }
    if (text.trim() === '') return { status, headers: responseHeaders, body: undefined };
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch (error) {
      if (status >= 200 && status < 300) {
        // An HTML page (a proxy's or a login page) is named by its text; anything else only by the
        // parser's message, since a broken JSON body may hold personal data.
        const html = /<html|<!doctype/i.test(text.slice(0, 512));
        const type = responseHeaders.get('content-type') ?? 'no content type';
        const what = html ? `an HTML page (${type}): ${snippet(text)}` : `${type}; ${(error as Error).message}`;
        throw new HttpRequestError(this.redact(`${where}: HTTP ${status} with a body that is not valid JSON (${what})`), 'malformed', status);
      }
      return { status, headers: responseHeaders, body: undefined, text: snippet(text) };
    }
    // Parsing is iterative, but what reads the answer later (values turned to text, fingerprints) is not:
    // an answer nested deeper than any identity record is refused here, with the request named.
    if (deeperThan(body, MAX_JSON_DEPTH)) {
      throw new HttpRequestError(this.redact(`${where}: HTTP ${status} with JSON nested more than ${MAX_JSON_DEPTH} levels deep, which no record is; the answer is refused`), 'malformed', status);
    }
    return { status, headers: responseHeaders, body };
  }

  /**
   * The answer's body as text, read up to maxResponseBytes: a larger one (by its Content-Length, or
   * once that many bytes came) is cut off and fails the request as malformed (never retried), naming
   * the limit and the setting that raises it, instead of being held in memory whole.
   */
  private async bodyOf(response: Response, where: string): Promise<string> {
    const limit = this.maxResponseBytes;
    const shown = limit % 2 ** 20 === 0 ? `${limit / 2 ** 20} MiB` : `${limit} bytes`;
    const tooLarge = (what: string) => new HttpRequestError(this.redact(`${where}: the answer is larger than ${shown} (${what}); raise connection.maxResponseMiB if the server's pages are that large`), 'malformed', response.status);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > limit) {
      await response.body?.cancel();
      throw tooLarge(`Content-Length ${declared}`);
    }
    if (!response.body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw tooLarge(`more than ${limit} bytes came`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }
}

/** The start of a body for a message, HTML tags stripped, white space folded. */
/** How deep an answer's JSON may nest: SCIM and HR records nest 3 or 4 levels; 10,000 is an attack. */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests more than `limit` objects or arrays deep; an explicit stack, not recursion. */
export function deeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    const push = (child: unknown) => {
      if (typeof child === 'object' && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    };
    if (Array.isArray(node)) for (const child of node) push(child);
    else for (const key in node) push((node as Record<string, unknown>)[key]);
  }
  return false;
}

export function snippet(text: string): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}
