/**
 * The SCIM client's transport: Node's global fetch with the connection's credentials, a per-request
 * timeout (AbortSignal.timeout), a bound on requests in flight, and retries.
 * Contract:
 * - request() answers every HTTP status with a ScimResponse (callers decide what 404, 409 or 412 mean);
 *   it throws ScimRequestError only when no usable answer came: a timeout, a network error, or a 2xx
 *   whose body is not JSON ('malformed'). failure() turns an error status into a ScimRequestError that
 *   carries the HTTP status and the SCIM error's `detail` and `scimType` (RFC 7644 §3.12).
 * - 429 and 503 are retried for every method (the server did not act), waiting as Retry-After says
 *   (seconds or an HTTP date, capped at maxRetryAfterMs) or else with exponential backoff and jitter;
 *   a 429 pauses every request of this transport. Timeouts and network errors are retried for GET,
 *   PUT, PATCH and DELETE only: a POST may have been carried out, so the caller checks before retrying.
 * - Credentials go only into the Authorization header and only to the configured origin. Every message
 *   this module builds is passed through redact(), so a token or password echoed by a server or a
 *   network library never reaches an error, a log or a plan.
 */
import { ProviderError } from '../errors.ts';
import type { ScimConnection } from '../../schemas/generated/config.ts';

export interface ScimResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when empty (or, for an error status, not JSON). */
  body: unknown;
  /** For an error status whose body is not JSON: its start, for the message. */
  text?: string;
}

export type FailureKind = 'http' | 'timeout' | 'network' | 'malformed';

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
  /** Longest wait a Retry-After may impose. Default 30 s. */
  maxRetryAfterMs?: number;
  /** First backoff step. Default 250 ms. */
  backoffMs?: number;
}

const IDEMPOTENT = new Set(['GET', 'PUT', 'PATCH', 'DELETE', 'HEAD']);

export class ScimTransport {
  readonly app: string;
  readonly baseUrl: URL;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly concurrency: number;
  readonly pageSize: number;
  private readonly authorization: string | undefined;
  private readonly secrets: string[];
  private readonly maxRetryAfterMs: number;
  private readonly backoffMs: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private pausedUntil = 0;

  constructor(options: TransportOptions) {
    const c = options.connection;
    this.app = options.app;
    this.timeoutMs = c.timeoutMs ?? 10_000;
    this.retries = c.retries ?? 3;
    this.concurrency = c.concurrency ?? 4;
    this.pageSize = c.pageSize ?? 100;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.backoffMs = options.backoffMs ?? 250;
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

  backoff(attempt: number): number {
    return Math.min(this.backoffMs * 2 ** Math.max(attempt - 1, 0), 10_000) + Math.floor(Math.random() * this.backoffMs * 0.5);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async request(method: string, url: URL, options: RequestOptions = {}): Promise<ScimResponse> {
    if (!this.sameOrigin(url)) throw new ScimRequestError(`${method} ${url.origin}: refused, not the configured server`, 'network');
    for (let attempt = 0; ; attempt++) {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) await this.sleep(wait);
      let response: ScimResponse;
      try {
        response = await this.limited(() => this.once(method, url, options));
      } catch (error) {
        const e = error as ScimRequestError;
        if ((e.kind === 'timeout' || e.kind === 'network') && IDEMPOTENT.has(method) && attempt < this.retries) {
          await this.sleep(this.backoff(attempt + 1));
          continue;
        }
        throw e;
      }
      if ((response.status === 429 || response.status === 503) && attempt < this.retries) {
        const delay = Math.min(retryAfter(response.headers.get('retry-after')) ?? this.backoff(attempt + 1), this.maxRetryAfterMs);
        if (response.status === 429) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
        await this.sleep(delay);
        continue;
      }
      return response;
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

  private async limited<T>(run: () => Promise<T>): Promise<T> {
    // A finished request hands its slot straight to the next waiter, so the bound holds exactly.
    if (this.inFlight >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight++;
    try {
      return await run();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
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

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined if absent or unreadable. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(date - now, 0);
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
