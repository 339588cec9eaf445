/**
 * The SCIM client's transport: the shared HTTP client (../http-client.ts) with the connection's
 * credentials, SCIM's media type and the SCIM error schema (RFC 7644 §3.12: `detail` and `scimType`).
 * Retries, the adaptive limit, the circuit breaker and redaction are the shared client's; this module
 * only says how a SCIM server words things, and keeps the connection's paging size.
 */
import { ProviderError } from '../errors.ts';
import { basicAuthorization, connectionLimits, HttpClient, HttpRequestError, isTransient, type FailureKind, type HttpDialect, type HttpResponse, type RequestOptions } from '../http-client.ts';
import type { RetrySettings } from '../retry.ts';
import type { ScimConnection } from '../../schemas/generated/config.ts';

export { HttpRequestError as ScimRequestError, isTransient, type FailureKind, type HttpResponse as ScimResponse, type RequestOptions };

export interface TransportOptions {
  app: string;
  connection: ScimConnection;
  /** The retry policy's timings (tests shorten them); retries come from the connection. */
  retry?: Partial<RetrySettings>;
}

const SCIM: HttpDialect = {
  accept: 'application/scim+json, application/json',
  contentType: 'application/scim+json',
  errorOf: (body) => {
    const b = body as { detail?: unknown; scimType?: unknown } | null;
    const scimType = typeof b?.scimType === 'string' ? b.scimType : undefined;
    return {
      ...(scimType !== undefined ? { code: scimType, label: `scimType ${scimType}` } : {}),
      ...(typeof b?.detail === 'string' ? { detail: b.detail } : {}),
    };
  },
};

export class ScimTransport extends HttpClient {
  readonly pageSize: number;

  constructor(options: TransportOptions) {
    const c = options.connection;
    const secrets = [c.token, c.password].filter((s): s is string => typeof s === 'string');
    const authorization = c.token ? `Bearer ${c.token}` : c.username !== undefined || c.password !== undefined ? basicAuthorization(c.username ?? '', c.password ?? '') : undefined;
    super({
      app: options.app, url: c.url, secrets, dialect: SCIM,
      ...(authorization !== undefined ? { authorization } : {}),
      ...connectionLimits(c),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    this.pageSize = c.pageSize ?? 100;
  }
}

/** A transport for the app, or a ProviderError naming the app when its connection settings are unusable. */
export function openTransport(app: string, connection: ScimConnection): ScimTransport {
  try {
    return new ScimTransport({ app, connection });
  } catch (error) {
    throw new ProviderError(app, (error as Error).message);
  }
}
