/**
 * LDAP import: reads an app's accounts from OpenLDAP or Active Directory into a SourceSnapshot.
 *
 * Contract
 *   readLdapAccounts(options) binds (see connection.ts), then runs one paged search (RFC 2696, pageSize
 *   default 500) under connection.baseDN with connection.scope (default sub) and connection.filter (default
 *   (objectClass=inetOrgPerson), or (&(objectCategory=person)(objectClass=user)) for flavor ad).
 *   - Attributes read: connection.attributes if set, else every app attribute the config uses (the key,
 *     the import's mappings, disabled expression, match rules and watermark, the provision mappings,
 *     status, match and dn.rdn); all user attributes (`*`) when an expression uses `app` as a whole. The
 *     key and the watermark are always read, and for flavor ad userAccountControl.
 *   - One SourceAccount per entry: key = the first value of the `key` attribute; attributes = a flat
 *     string map: each attribute's FIRST value (LDAP values are unordered: do not map multi-valued
 *     attributes you need all of), '' for an attribute asked for by name that the entry does not have
 *     (as a CSV's empty cell), under the name the config spells it; and `dn`, the entry's DN as the
 *     server gives it. Binary attributes (connection.binaryAttributes, default objectGUID, objectSid) are
 *     hex, objectGUID as a GUID string in AD's byte order (the first three groups little-endian).
 *   - An entry without a key value, or with the key of an entry read before, is a row error (line 0, the
 *     message names the DN; the duplicate keeps its key), never an account.
 *   - fingerprint: sha256 over the accounts in DN order.
 *   - Incremental (`incremental` given, from import.mode: incremental): the server is asked only for
 *     entries whose watermark attribute is >= the stored value (escaped into the filter), entries at the
 *     stored value itself are kept (a change in the same second as the last one applied must not be lost;
 *     an unchanged one changes nothing), and the snapshot is `partial`. A watermark
 *     whose values are all digits (AD's uSNChanged) is zero-padded to 20 digits in `attributes`, so that
 *     the core's string order is numeric order; generalized times (modifyTimestamp) sort as they are.
 *   Failures to connect, bind or search throw a ProviderError naming the app and the server.
 */
import { createHash } from 'node:crypto';
import type { Entry } from 'ldapts';
import type { LdapApp } from '../../schemas/generated/config.ts';
import type { RowError, SourceAccount, SourceSnapshot } from '../../reconciler/model.ts';
import { escapeFilterValue } from '../../reconciler/ldap-escape.ts';
import { ProviderError } from '../errors.ts';
import { closeLdap, connectLdap, isSocketError, ldapError, ldapFilter, retryPolicyFor } from './connection.ts';
import { ownValue } from '../../reconciler/records.ts';

export interface LdapReadOptions {
  app: string;
  config: LdapApp;
  key: string;
  /** The config's folder (tls.ca is relative to it). */
  dir: string;
  /** Incremental import: the watermark attribute and the stored watermark (null on the first run). */
  incremental?: { attribute: string; stored: string | null } | null;
  /** Called after every page with the entries read so far. */
  onProgress?: (entries: number) => void;
}

export const DEFAULT_FILTER = { openldap: '(objectClass=inetOrgPerson)', ad: '(&(objectCategory=person)(objectClass=user))' } as const;
export const DEFAULT_BINARY_ATTRIBUTES = ['objectGUID', 'objectSid'];
export const DEFAULT_PAGE_SIZE = 500;
const WATERMARK_WIDTH = 20;

export async function readLdapAccounts(options: LdapReadOptions): Promise<SourceSnapshot> {
  const { app, config, key } = options;
  const connection = config.connection;
  const flavor = connection.flavor ?? 'openldap';
  const incremental = options.incremental ?? null;
  const wanted = attributesToRead(config, key, incremental?.attribute);
  let filterText = withParens(connection.filter ?? DEFAULT_FILTER[flavor]);
  if (incremental?.stored) {
    filterText = `(&${filterText}(${incremental.attribute}>=${escapeFilterValue(serverWatermark(incremental.stored))}))`;
  }
  let filter;
  try {
    filter = ldapFilter(filterText);
  } catch (error) {
    throw new ProviderError(app, `connection.filter ${JSON.stringify(connection.filter)} is not a valid LDAP filter: ${(error as Error).message}`);
  }
  const binary = connection.binaryAttributes ?? DEFAULT_BINARY_ATTRIBUTES;

  // A server that refuses or drops the connection is tried again (the shared retry policy); a read that
  // loses its connection midway fails whole, and the plan leaves the app out or stops (onUnreachable).
  const client = await connectLdap({ app, connection, dir: options.dir }, retryPolicyFor(connection));
  const entries: Entry[] = [];
  try {
    const pages = client.searchPaginated(connection.baseDN, {
      scope: connection.scope ?? 'sub', filter, attributes: wanted ?? ['*', ...(incremental ? [incremental.attribute] : [])],
      explicitBufferAttributes: binary, paged: { pageSize: connection.pageSize ?? DEFAULT_PAGE_SIZE },
    });
    for await (const page of pages) {
      entries.push(...page.searchEntries);
      options.onProgress?.(entries.length);
    }
  } catch (error) {
    const what = isSocketError(error) ? `cannot connect to ${connection.url}` : `search under ${connection.baseDN} on ${connection.url} failed`;
    throw new ProviderError(app, `${what}: ${ldapError(error, connection.password)}`);
  } finally {
    await closeLdap(client);
  }

  entries.sort((a, b) => (a.dn < b.dn ? -1 : a.dn > b.dn ? 1 : 0));
  const hash = createHash('sha256');
  const accounts: SourceAccount[] = [];
  const rowErrors: RowError[] = [];
  const seen = new Map<string, string>();
  const keyLower = key.toLowerCase();
  for (const entry of entries) {
    const attributes = entryAttributes(entry, wanted, incremental?.attribute);
    hash.update(`${JSON.stringify([entry.dn, Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))])}\n`);
    const value = ownValue(attributes, key) ?? Object.entries(attributes).find(([name]) => name.toLowerCase() === keyLower)?.[1] ?? '';
    if (value === '') {
      rowErrors.push({ line: 0, message: `entry ${entry.dn} has no ${key} value` });
      continue;
    }
    const first = seen.get(value);
    if (first !== undefined) {
      rowErrors.push({ line: 0, key: value, message: `entry ${entry.dn} has ${key}=${value}, like ${first}; keys must be unique` });
      continue;
    }
    seen.set(value, entry.dn);
    if (incremental?.stored && !pastWatermark(attributes[incremental.attribute], incremental.stored)) continue;
    accounts.push({ key: value, attributes });
  }
  return {
    app, accounts, rowErrors, fingerprint: `sha256:${hash.digest('hex')}`,
    ...(incremental ? { partial: true } : {}),
  };
}

function withParens(filter: string): string {
  const trimmed = filter.trim();
  return trimmed.startsWith('(') ? trimmed : `(${trimmed})`;
}

/** A stored watermark as the server compares it: zero-padding taken off a counter. */
function serverWatermark(stored: string): string {
  return /^\d+$/.test(stored) ? stored.replace(/^0+(?=\d)/, '') : stored;
}

function normalWatermark(value: string): string {
  return /^\d+$/.test(value) ? value.padStart(WATERMARK_WIDTH, '0') : value;
}

/** Entries with no watermark value are kept (the core applies them and warns). */
function pastWatermark(mark: string | undefined, stored: string): boolean {
  return mark === undefined || mark === '' || mark >= normalWatermark(stored);
}

// `app.x`, `app["x"]` and the optional forms `app.?x`, `app[?"x"]` (as engine/config/provision.ts reads them).
const APP_REF = /\bapp\.\??([A-Za-z_][A-Za-z0-9_]*)|\bapp\[\??\s*["']([^"']+)["']\s*\]/g;
const BARE_APP = /\bapp\b(?!\s*[.[])/;

/**
 * The attributes to ask the server for, or null for every user attribute (an expression uses `app` as a
 * whole, e.g. `"mail" in app`). Names keep the config's spelling; duplicates differing in case are dropped.
 */
export function attributesToRead(config: LdapApp, key: string, watermark?: string): string[] | null {
  const names: string[] = [key];
  if (watermark) names.push(watermark);
  if (config.connection.flavor === 'ad') names.push('userAccountControl');
  const p = config.provision;
  if (p) {
    names.push(...Object.keys(p.mappings));
    if (p.status) names.push(p.status.attribute);
    if (p.match) names.push(p.match.app);
    if (p.dn) names.push(p.dn.rdn);
  }
  if (config.connection.attributes) {
    names.push(...config.connection.attributes);
  } else {
    const imp = config.import;
    const texts: string[] = [];
    if (imp) {
      texts.push(...Object.values(imp.mappings));
      if (imp.disabled) texts.push(imp.disabled);
      for (const rule of imp.match ?? []) {
        if (rule.app) names.push(rule.app);
        for (const pair of rule.all ?? []) names.push(pair.app);
        if (rule.expression) texts.push(rule.expression.app);
      }
    }
    for (const text of texts) {
      if (BARE_APP.test(text.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""'))) return null;
      for (const m of text.matchAll(APP_REF)) names.push(m[1] ?? m[2]!);
    }
  }
  const seen = new Set<string>();
  return names.filter((n) => n !== 'dn' && !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
}

/**
 * One entry as a flat string map (see the contract): first values, binary values as hex or GUID, '' for
 * requested attributes the entry lacks, names as requested, `dn` added, a digit-only watermark padded.
 */
export function entryAttributes(entry: Entry, requested: string[] | null, watermark?: string): Record<string, string> {
  const spelling = new Map((requested ?? []).map((n) => [n.toLowerCase(), n]));
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of requested ?? []) out[name] = '';
  for (const [returned, raw] of Object.entries(entry)) {
    if (returned === 'dn') continue;
    const lower = returned.toLowerCase();
    const name = spelling.get(lower) ?? returned;
    const first: unknown = Array.isArray(raw) ? raw[0] : raw;
    if (first === undefined) continue;
    // Binary attributes, and any value ldapts could not read as text: hex rather than mangled UTF-8.
    out[name] = Buffer.isBuffer(first) ? (lower === 'objectguid' && first.length === 16 ? guidString(first) : first.toString('hex')) : String(first);
  }
  if (watermark) {
    const name = spelling.get(watermark.toLowerCase()) ?? watermark;
    if (out[name]) out[name] = normalWatermark(out[name]);
  }
  out.dn = entry.dn;
  return { ...out };
}

/** An objectGUID as AD prints it: the first three fields little-endian, the rest in byte order. */
export function guidString(bytes: Buffer): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}
