/**
 * The SCIM client's transport: Node's global fetch with the connection's credentials, a per-request
 * timeout (AbortSignal.timeout), a bound on requests in flight, and retries.
 * Contract:
 * - request() answers every HTTP status with a ScimResponse (callers decide what 404, 409 or 412 mean);
 *   it throws ScimRequestError only when no usable answer came: a timeout, a network error, or a 2xx
 *   whose body is not JSON ('malformed'). failure() turns an error status into a ScimRequestError that
 *   carries the HTTP status and the SCIM error's `detail` and `scimType` (RFC 7644 §3.12).
 * - Retries follow the shared policy (../retry.ts). 429 and 503 are retried for every method (the
 *   server did not act), waiting as Retry-After says or else with backoff and jitter. 500, 502, 504,
 *   timeouts and lost connections are retried here for reads (GET) only: a write may have been carried
 *   out, so the writer tries the change again from its lookup (write.ts) rather than re-sending it.
 * - Requests in flight are bounded by the app-wide adaptive limit (a 429 cuts it by a quarter); the circuit
 *   breaker stops the app for the run after connection.breakAfter failures in a row (CircuitOpenError).
 * - Credentials go only into the Authorization header and only to the configured origin. Every message
 *   this module builds is passed through redact(), so a token or password echoed by a server or a
 *   network library never reaches an error, a log or a plan.
 */
import { ProviderError } from '../errors.ts';
import { AdaptiveLimit, CircuitBreaker, CircuitOpenError, DEFAULT_RETRY, RetryPolicy, retryAfter, type Outcome, type RetrySettings } from '../retry.ts';
import type { ScimConnection } from '../../schemas/generated/config.ts';

export interface ScimResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when empty (or, for an error status, not JSON). */
  body: unknown;
  /** For an error status whose body is not JSON: its start, for the message. */
  text?: string;
}

export type FailureKind = 'http' | 'timeout' | 'network' | 'malformed' | 'circuit';

export class ScimRequestError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status?: number,
    readonly scimType?: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TransportOptions {
  app: string;
  connection: ScimConnection;
  /** The retry policy's timings (tests shorten them); retries come from the connection. */
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
  if (!(error instanceof ScimRequestError)) return false;
  if (error.kind === 'timeout' || error.kind === 'network') return true;
  return error.kind === 'http' && error.status !== undefined && (error.status === 429 || FAULT.has(error.status));
}

export class ScimTransport {
  readonly app: string;
  readonly baseUrl: URL;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly pageSize: number;
  readonly policy: RetryPolicy;
  readonly limit: AdaptiveLimit;
  readonly breaker: CircuitBreaker;
  private readonly authorization: string | undefined;
  private readonly secrets: string[];

  constructor(options: TransportOptions) {
    const c = options.connection;
    this.app = options.app;
    this.timeoutMs = c.timeoutMs ?? 10_000;
    this.concurrency = c.concurrency ?? 4;
    this.pageSize = c.pageSize ?? 100;
    this.policy = new RetryPolicy({ ...DEFAULT_RETRY, ...options.retry, retries: c.retries ?? DEFAULT_RETRY.retries });
    this.limit = new AdaptiveLimit(this.concurrency);
    this.breaker = new CircuitBreaker(options.app, c.breakAfter ?? 25);
    this.secrets = [c.token, c.password].filter((s): s is string => typeof s === 'string' && s.length >= 4);
    if (c.token) {
      this.authorization = `Bearer ${c.token}`;
    } else if (c.username !== undefined || c.password !== undefined) {
      const basic = Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64');
      this.authorization = `Basic ${basic}`;
      this.secrets.push(basic);
    }
    let url: URL;
    try {
      url = new URL(c.url.replace(/\/+$/, ''));
    } catch {
      throw new ScimRequestError(`connection.url is not a valid URL`, 'network');
    }
    if (url.username || url.password) {
      if (url.password) this.secrets.push(decodeURIComponent(url.password));
      throw new ScimRequestError('connection.url must not hold credentials: use token, or username and password', 'network');
    }
    this.baseUrl = url;
  }

  /** Replaces every secret of this connection in a text. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /** The URL of an endpoint below the base URL ("/Users", "/ServiceProviderConfig"), with a query. */
  endpoint(path: string, query: Record<string, string | number> = {}): URL {
    // %20 rather than URLSearchParams' "+" for spaces: not every server reads "+" in a query as a space.
    const search = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    return new URL(this.baseUrl.href.replace(/\/$/, '') + (path.startsWith('/') ? path : `/${path}`) + (search ? `?${search}` : ''));
  }

  /** The URL of a location the server gave (meta.location): absolute, or relative to the base URL. */
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

  /** How a URL is named in messages: its path below the base, without the origin. */
  describe(url: URL): string {
    const base = this.baseUrl.pathname.replace(/\/$/, '');
    const path = url.pathname.startsWith(base + '/') ? url.pathname.slice(base.length) : url.pathname;
    try {
      return decodeURIComponent(path + url.search);
    } catch {
      return path + url.search;
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * Sends a request and answers with the server's response, retrying what the contract says. Throws
   * ScimRequestError for a timeout, a lost connection, a malformed 2xx or an open circuit.
   */
  async request(method: string, url: URL, options: RequestOptions = {}): Promise<ScimResponse> {
    if (!this.sameOrigin(url)) throw new ScimRequestError(`${method} ${url.origin}: refused, not the configured server`, 'network');
    for (let attempt = 0; ; attempt++) {
      this.checkCircuit();
      const pause = this.limit.pause();
      if (pause > 0) await this.sleep(pause);
      const release = await this.limit.acquire();
      let response: ScimResponse;
      try {
        this.checkCircuit(); // it may have opened while this request waited for its slot
        response = await this.once(method, url, options);
      } catch (error) {
        const e = error as ScimRequestError;
        const transient = e.kind === 'timeout' || e.kind === 'network';
        release(transient || e.kind === 'circuit' ? 'failed' : 'ok');
        if (transient) this.breaker.failure(e.message);
        if (transient && SAFE.has(method) && this.policy.canRetry(attempt)) {
          await this.sleep(this.policy.delay(attempt + 1));
          continue;
        }
        throw e;
      }
      const wait = NOT_ACTED.has(response.status) ? retryAfter(response.headers.get('retry-after')) : undefined;
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
      if (error instanceof CircuitOpenError) throw new ScimRequestError(this.redact(error.message), 'circuit');
      throw error;
    }
  }

  /** The error for a response with an error status, naming the request, the status and the SCIM error. */
  failure(method: string, url: URL, response: ScimResponse): ScimRequestError {
    const body = response.body as { detail?: unknown; scimType?: unknown } | undefined;
    const detail = typeof body?.detail === 'string' ? this.redact(body.detail) : undefined;
    const scimType = typeof body?.scimType === 'string' ? this.redact(body.scimType) : undefined;
    const more = detail ?? (response.text ? this.redact(response.text) : undefined);
    const message = `${method} ${this.describe(url)} failed: HTTP ${response.status}${scimType ? ` (scimType ${scimType})` : ''}${more ? `: ${more}` : ''}`;
    return new ScimRequestError(this.redact(message), 'http', response.status, scimType, detail);
  }

  private async once(method: string, url: URL, options: RequestOptions): Promise<ScimResponse> {
    const headers: Record<string, string> = { accept: 'application/scim+json, application/json', ...options.headers };
    if (this.authorization) headers.authorization = this.authorization;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/scim+json';
    }
    const where = `${method} ${this.describe(url)}`;
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      const response = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'manual' });
      status = response.status;
      responseHeaders = response.headers;
      text = await response.text();
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new ScimRequestError(this.redact(`${where}: no answer within ${this.timeoutMs} ms (timeoutMs)`), 'timeout');
      }
      const cause = e.cause?.code ?? e.cause?.message ?? e.message;
      throw new ScimRequestError(this.redact(`${where}: cannot reach ${this.baseUrl.host} (${cause})`), 'network');
    }
    if (text.trim() === '') return { status, headers: responseHeaders, body: undefined };
    try {
      return { status, headers: responseHeaders, body: JSON.parse(text) as unknown };
    } catch (error) {
      if (status >= 200 && status < 300) {
        throw new ScimRequestError(this.redact(`${where}: HTTP ${status} with a body that is not valid JSON (${(error as Error).message})`), 'malformed', status);
      }
      return { status, headers: responseHeaders, body: undefined, text: snippet(text) };
    }
  }
}

function snippet(text: string): string {
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}

/** A transport for the app, or a ProviderError naming the app when its connection settings are unusable. */
export function openTransport(app: string, connection: ScimConnection): ScimTransport {
  try {
    return new ScimTransport({ app, connection });
  } catch (error) {
    throw new ProviderError(app, (error as Error).message);
  }
}
