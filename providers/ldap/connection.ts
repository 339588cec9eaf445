/**
 * Connections and filters for the ldap provider (ldapts).
 *
 * Contract
 *   openLdap({ app, connection, dir }) connects and binds, and returns the client; the caller unbinds it
 *     (closeLdap never throws). ldaps:// URLs connect over TLS; startTLS: true upgrades an ldap:// one
 *     before the bind. tls.ca is a PEM file relative to `dir` (the config's folder); rejectUnauthorized
 *     (default true) and servername pass through to Node's TLS. timeoutMs (default 10000) bounds the TCP
 *     connect and every operation. A bindDN gives a simple bind with the password; no bindDN is an
 *     anonymous session (no bind at all).
 *     Every failure is a ProviderError naming the app, the URL and (for a bind) the bind DN, with the
 *     server's reason and LDAP result code. The password never appears in a message.
 *   ldapFilter(text) parses an RFC 4515 filter string into an ldapts Filter whose values carry the bytes
 *     the string means: \XX escapes are bytes (so escaped UTF-8 and binary values like objectGUID work)
 *     and raw non-ASCII text is UTF-8. (ldapts's own parser turns \c3\a9 into "Ã©".) Throws a plain Error
 *     for a malformed filter.
 *   ldapError(error) is the one-line reason of an ldapts or socket error, without the password.
 *   isConnectionLoss(error): the connection failed (refused, reset, closed, timed out) or the server
 *     said busy/unavailable (LDAP 51/52), as opposed to an answer about the operation itself: worth
 *     reconnecting and trying again.
 *   connectLdap(endpoint, policy) is openLdap with the retry policy applied to connection losses (a
 *     refused bind is not retried).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import {
  AndFilter, ApproximateFilter, Client, EqualityFilter, ExtensibleFilter, FilterParser, GreaterThanEqualsFilter, LessThanEqualsFilter,
  NotFilter, OrFilter, ResultCodeError, SubstringFilter, type Filter,
} from 'ldapts';
import type { LdapConnection } from '../../schemas/generated/config.ts';
import { ProviderError } from '../errors.ts';
import { DEFAULT_RETRY, RetryPolicy } from '../retry.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;

/** ldapts's own messages for a connection that broke (it throws plain Errors for them). */
const LOST = /connection closed|socket connection not established|socket error|operation timed out|connection timeout|socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT/i;

export function isConnectionLoss(error: unknown): boolean {
  const cause = error instanceof ProviderError ? error.cause : error;
  if (cause instanceof ResultCodeError) return cause.code === 51 || cause.code === 52;
  return isSocketError(cause) || (cause instanceof Error && LOST.test(cause.message));
}

/** The shared retry policy with the connection's own number of retries. */
export function retryPolicyFor(connection: LdapConnection): RetryPolicy {
  return new RetryPolicy({ ...DEFAULT_RETRY, retries: connection.retries ?? DEFAULT_RETRY.retries });
}

/** openLdap, tried again after a connection loss as the policy says. */
export async function connectLdap(endpoint: LdapEndpoint, policy: RetryPolicy): Promise<Client> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openLdap(endpoint);
    } catch (error) {
      if (!isConnectionLoss(error) || !policy.canRetry(attempt)) throw error;
      await new Promise((resolve) => setTimeout(resolve, policy.delay(attempt + 1)));
    }
  }
}

export interface LdapEndpoint {
  app: string;
  connection: LdapConnection;
  /** The config's folder: tls.ca resolves against it. */
  dir: string;
}

export async function openLdap({ app, connection, dir }: LdapEndpoint): Promise<Client> {
  const url = connection.url;
  const timeout = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secure = /^ldaps:/i.test(url);
  if (secure && connection.startTLS) throw new ProviderError(app, `${url}: startTLS only applies to ldap:// URLs; an ldaps:// connection is TLS already`);
  const tlsOptions = tlsFor(app, connection, dir);
  let client: Client;
  try {
    client = new Client({ url, timeout, connectTimeout: timeout, ...(secure ? { tlsOptions } : {}) });
  } catch (error) {
    throw withCause(new ProviderError(app, `${url}: ${ldapError(error, connection.password)}`), error);
  }
  try {
    if (connection.startTLS) {
      try {
        await client.startTLS(tlsOptions);
      } catch (error) {
        throw withCause(new ProviderError(app, `cannot start TLS with ${url}: ${ldapError(error, connection.password)}`), error);
      }
    }
    if (connection.bindDN) {
      try {
        await client.bind(connection.bindDN, connection.password ?? '');
      } catch (error) {
        const what = isSocketError(error) ? `cannot connect to ${url}` : `cannot bind to ${url} as ${connection.bindDN}`;
        throw withCause(new ProviderError(app, `${what}: ${ldapError(error, connection.password)}`), error);
      }
    }
  } catch (error) {
    await closeLdap(client);
    throw error;
  }
  return client;
}

/** The ldapts or socket error a ProviderError came from, for isConnectionLoss (never printed: it may hold more than the message). */
function withCause(error: ProviderError, cause: unknown): ProviderError {
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
}

export async function closeLdap(client: Client): Promise<void> {
  try {
    await client.unbind();
  } catch {
    // The connection is gone already: nothing to close.
  }
}

function tlsFor(app: string, connection: LdapConnection, dir: string): ConnectionOptions {
  const tls = connection.tls ?? {};
  const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized ?? true, minVersion: 'TLSv1.2' };
  if (tls.servername) options.servername = tls.servername;
  if (tls.ca) {
    const path = isAbsolute(tls.ca) ? tls.ca : resolve(dir, tls.ca);
    try {
      options.ca = [readFileSync(path)];
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ProviderError(app, `cannot read tls.ca ${tls.ca}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
  }
  return options;
}

/** A network or TLS failure (as opposed to an LDAP result the server sent). */
export function isSocketError(error: unknown): boolean {
  return !(error instanceof ResultCodeError) && typeof (error as { code?: unknown } | null)?.code === 'string';
}

/** The reason of an ldapts or socket error in one line: the server's message and the LDAP result code. */
export function ldapError(error: unknown, password?: string): string {
  let text: string;
  if (error instanceof ResultCodeError) {
    // ldapts: "<server message> Code: 0x31", or its class name when the server sent no message.
    const reason = error.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();
    const named = error.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    text = `${reason && reason !== error.name ? reason : named} (LDAP result ${error.code})`;
  } else if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    text = code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  } else {
    text = String(error);
  }
  text = text.replace(/\s+/g, ' ').trim();
  // Belt and braces: no library message should carry the password, but never let one through.
  return password && password.length >= 4 ? text.split(password).join('***') : text;
}

/** Raw non-ASCII characters as \XX escapes of their UTF-8 bytes, so that every value byte is \XX or ASCII. */
function escapeNonAscii(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch.codePointAt(0)! < 0x80) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `\\${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function ldapFilter(text: string): Filter {
  const filter = FilterParser.parseString(escapeNonAscii(text.trim()));
  fixValues(filter);
  return filter;
}

/** ldapts's parser leaves one char per byte (latin1); turn them back into the bytes or UTF-8 text meant. */
function fixValues(filter: Filter): void {
  if (filter instanceof AndFilter || filter instanceof OrFilter) {
    filter.filters.forEach(fixValues);
  } else if (filter instanceof NotFilter) {
    fixValues(filter.filter);
  } else if (filter instanceof EqualityFilter) {
    if (typeof filter.value === 'string') filter.value = Buffer.from(filter.value, 'latin1');
  } else if (filter instanceof SubstringFilter) {
    filter.initial = utf8Text(filter.initial);
    filter.final = utf8Text(filter.final);
    filter.any = filter.any.map(utf8Text);
  } else if (filter instanceof GreaterThanEqualsFilter || filter instanceof LessThanEqualsFilter || filter instanceof ApproximateFilter || filter instanceof ExtensibleFilter) {
    filter.value = utf8Text(filter.value);
  }
}

function utf8Text(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new Error('binary (non-UTF-8) values are only supported in equality filters');
  return text;
}
