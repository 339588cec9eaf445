/**
 * The http provider's transport: the shared HTTP client (../http-client.ts) with the connection's
 * credentials and JSON as the media type. Retries, backoff honouring Retry-After, the adaptive limit on
 * requests in flight, the circuit breaker and redaction are the shared client's; this module only says
 * how a JSON API words its errors and which values are secret.
 * Contract:
 * - Authorization: `Bearer <token>` when connection.token is set, else Basic from username and
 *   password when either is set, else none. connection.headers go with every request; their values,
 *   the token and the password (and the Basic encoding) are secrets, replaced by *** in every message.
 *   An Authorization header in connection.headers together with token or username is refused, so that
 *   two credentials are never sent at once.
 * - describe(url) names a request by its whole path and query below the origin (/api/v1/employees?page=2),
 *   never the scheme, host or credentials, secrets redacted.
 * - errorOf reads the common JSON error bodies: { message }, { error, error_description },
 *   { errors: [{ message }] }, { detail, title } (RFC 9457).
 * - openClient() throws a ProviderError naming the app when the settings are unusable.
 */
import type { HttpConnection } from '../../schemas/generated/config.ts';
import { ProviderError } from '../errors.ts';
import { basicAuthorization, connectionLimits, HttpClient, type HttpDialect } from '../http-client.ts';
import type { RetrySettings } from '../retry.ts';
import { isObject } from './paths.ts';

const JSON_API: HttpDialect = {
  accept: 'application/json',
  contentType: 'application/json',
  errorOf: (body) => {
    if (!isObject(body)) return {};
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const first = Array.isArray(body.errors) && isObject(body.errors[0]) ? body.errors[0] : undefined;
    const code = text(body.code) ?? text(body.error) ?? text(first?.code);
    const detail = text(body.message) ?? text(body.error_description) ?? text(first?.message) ?? text(first?.detail) ?? text(body.detail) ?? text(body.title);
    return { ...(code !== undefined && code !== detail ? { code } : {}), ...(detail !== undefined ? { detail } : {}) };
  },
  // RateLimit-Reset (draft-ietf-httpapi-ratelimit-headers): seconds until the quota resets.
  resetAfter: (headers) => {
    const reset = headers.get('ratelimit-reset');
    return reset !== null && /^\d+$/.test(reset.trim()) ? Number(reset.trim()) * 1000 : undefined;
  },
};

export interface HrClientOptions {
  app: string;
  connection: HttpConnection;
  /** The retry policy's timings (tests shorten them); the number of retries comes from the connection. */
  retry?: Partial<RetrySettings>;
}

export class HrClient extends HttpClient {
  constructor(options: HrClientOptions) {
    const c = options.connection;
    const headers = c.headers ?? {};
    const ownAuthorization = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    const authorization = c.token !== undefined && c.token !== ''
      ? `Bearer ${c.token}`
      : c.username !== undefined || c.password !== undefined ? basicAuthorization(c.username ?? '', c.password ?? '') : undefined;
    if (ownAuthorization && authorization !== undefined) {
      throw new Error('connection.headers has an Authorization header as well as token or username/password: give one of them');
    }
    const secrets = [c.token, c.password, ...Object.values(headers)].filter((s): s is string => typeof s === 'string' && s !== '');
    super({
      app: options.app, url: c.url, secrets, dialect: JSON_API, headers,
      ...(authorization !== undefined ? { authorization } : {}),
      ...connectionLimits(c),
      ...(options.retry ? { retry: options.retry } : {}),
    });
  }

  override describe(url: URL): string {
    let text: string;
    try {
      text = decodeURIComponent(url.pathname + url.search);
    } catch {
      text = url.pathname + url.search;
    }
    return this.redact(text === '' ? '/' : text);
  }
}

export function openClient(app: string, connection: HttpConnection, retry?: Partial<RetrySettings>): HrClient {
  try {
    return new HrClient({ app, connection, ...(retry ? { retry } : {}) });
  } catch (error) {
    throw new ProviderError(app, (error as Error).message);
  }
}
