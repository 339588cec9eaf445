/**
 * The Okta client's transport: the shared HTTP client (../http-client.ts) with the org's credentials and
 * how the Okta Management API words errors and rate limits. Retries, the adaptive limit, the circuit
 * breaker and redaction are the shared client's; this module only says how Okta speaks.
 * Contract:
 * - Credentials: connection.token is sent as `Authorization: SSWS <token>` (an API token),
 *   connection.accessToken as `Authorization: Bearer <token>` (OAuth 2.0); exactly one is needed.
 * - An error body `{errorCode, errorSummary, errorCauses: [{errorSummary}]}` becomes the failure's code
 *   (E0000001, shown as the label) and detail (the summary, then the causes in parentheses).
 * - Rate limits: X-Rate-Limit-Reset (UTC epoch seconds, measured against the answer's Date) is the wait
 *   a 429 asks for; a response with X-Rate-Limit-Remaining: 0 holds every request of the app until then.
 * - Paging follows the `Link: <…>; rel="next"` header (../link-header.ts; Okta sends one Link header
 *   per relation, which fetch joins with commas).
 */
import { ProviderError } from '../errors.ts';
import { connectionLimits, HttpClient, type HttpDialect } from '../http-client.ts';
import type { RetrySettings } from '../retry.ts';
import type { OktaConnection } from '../../schemas/generated/config.ts';

/** The API's root below the org URL. */
export const API = '/api/v1';

export interface OktaError {
  code?: string;
  label?: string;
  detail?: string;
}

/** Okta's error body as a code and a detail ("Api validation failed: login (login: An object with this field already exists …)"). */
export function oktaErrorOf(body: unknown): OktaError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const b = body as { errorCode?: unknown; errorSummary?: unknown; errorCauses?: unknown };
  const code = typeof b.errorCode === 'string' && b.errorCode !== '' ? b.errorCode : undefined;
  const causes = Array.isArray(b.errorCauses)
    ? b.errorCauses.map((c) => (c as { errorSummary?: unknown } | null)?.errorSummary).filter((s): s is string => typeof s === 'string' && s !== '')
    : [];
  const summary = typeof b.errorSummary === 'string' && b.errorSummary !== '' ? b.errorSummary : undefined;
  const detail = summary === undefined ? (causes.length > 0 ? causes.join('; ') : undefined) : causes.length > 0 ? `${summary} (${causes.join('; ')})` : summary;
  return { ...(code !== undefined ? { code, label: code } : {}), ...(detail !== undefined ? { detail } : {}) };
}

/**
 * X-Rate-Limit-Reset (epoch seconds) as milliseconds to wait; undefined when absent or unreadable. The
 * reset is Okta's clock, so it is measured from the answer's Date header (also Okta's clock, to the
 * second below, so the wait errs long) when there is one, and from `now` otherwise: a local clock ahead
 * of Okta's would otherwise see every reset as past and run straight into 429s again.
 */
export function rateLimitReset(headers: Headers, now: number): number | undefined {
  const text = headers.get('x-rate-limit-reset')?.trim();
  if (!text || !/^\d+$/.test(text)) return undefined;
  const date = Date.parse(headers.get('date') ?? '');
  return Math.max(Number(text) * 1000 - (Number.isNaN(date) ? now : date), 0);
}

export const OKTA: HttpDialect = {
  accept: 'application/json',
  contentType: 'application/json',
  errorOf: oktaErrorOf,
  resetAfter: rateLimitReset,
  exhausted: (headers) => headers.get('x-rate-limit-remaining')?.trim() === '0',
};


export interface OktaClientOptions {
  app: string;
  connection: OktaConnection;
  /** The retry policy's timings (tests shorten them); retries come from the connection. */
  retry?: Partial<RetrySettings>;
}

export class OktaClient extends HttpClient {
  readonly pageSize: number;

  constructor(options: OktaClientOptions) {
    const c = options.connection;
    const secrets = [c.token, c.accessToken].filter((s): s is string => typeof s === 'string');
    super({
      app: options.app, url: c.url, secrets, dialect: OKTA,
      ...(c.token ? { authorization: `SSWS ${c.token}` } : c.accessToken ? { authorization: `Bearer ${c.accessToken}` } : {}),
      ...connectionLimits(c),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    this.pageSize = Math.min(Math.max(Math.trunc(c.pageSize ?? 200), 1), 200);
  }

  /** The URL of an API path ("/users", "/users/{id}/lifecycle/activate") below /api/v1. */
  api(path: string, query: Record<string, string | number> = {}): URL {
    return this.endpoint(`${API}${path}`, query);
  }
}

/** A client for the app, or a ProviderError naming the app when its connection settings are unusable. */
export function openClient(app: string, connection: OktaConnection, retry?: Partial<RetrySettings>): OktaClient {
  if (!connection.token && !connection.accessToken) {
    throw new ProviderError(app, 'connection needs token (an API token, sent as SSWS) or accessToken (OAuth 2.0)');
  }
  if (connection.token && connection.accessToken) {
    throw new ProviderError(app, 'connection has both token and accessToken: give one');
  }
  try {
    return new OktaClient({ app, connection, ...(retry ? { retry } : {}) });
  } catch (error) {
    throw new ProviderError(app, (error as Error).message);
  }
}
