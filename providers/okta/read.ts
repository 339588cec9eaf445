/**
 * Okta import and live target snapshot: lists the org's users (./list.ts) and returns them as accounts.
 * Contract:
 * - Each account's attributes are flattenUser()'s (id, status, active, the timestamps, profile.NAME),
 *   the same names for every account: a profile property any user has, or that the config names, is ""
 *   where a user lacks it. Credentials are never read.
 * - The key is the value at the app's key (default profile.login). A user whose key is empty, or the
 *   same as an earlier user's, is a row error (line = position in the listing): never lost, never guessed.
 *   A key that is no Okta attribute at all is a ProviderError saying which are.
 * - The fingerprint is SHA-256 over the users' attributes in id order.
 * - Anything that stops the listing is a ProviderError naming the app and the request; never a token.
 * - Incremental (`incremental` given: import.mode incremental, import.watermark lastUpdated): with a
 *   stored watermark only the users with `lastUpdated ge "<watermark>"` are listed (added to the
 *   configured search or filter with `and`); users AT the watermark are read again, so a change in the
 *   same second as the last one applied is never lost. The first run, with none stored, lists everyone.
 *   Either way the snapshot is `partial`: a user absent from it is never taken as removed. A search or
 *   filter returns users of every status, so a user deactivated since is read as deactivated.
 */
import { createHash } from 'node:crypto';
import type { OktaApp } from '../../schemas/generated/config.ts';
import type { RowError, SourceAccount, SourceSnapshot } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import { importReads } from '../../reconciler/app-references.ts';
import type { RetrySettings } from '../retry.ts';
import { openClient } from './http.ts';
import { listUsers, type Listing } from './list.ts';
import { flattenUser, PROFILE, profileName, TOP_LEVEL } from './profile.ts';
import { ownValue, setOwn } from '../../reconciler/records.ts';

export interface OktaReadOptions {
  app: string;
  config: OktaApp;
  key: string;
  onProgress?: (done: number, total: number) => void;
  /** Incremental import: the watermark attribute (lastUpdated) and the stored watermark (null on the first run). */
  incremental?: { attribute: string; stored: string | null } | null;
  /** The retry policy's timings (tests shorten them). */
  retry?: Partial<RetrySettings>;
}

/** Attribute names that are not profile properties. */
const OTHER = new Set<string>([...TOP_LEVEL, 'active']);

export async function readOktaAccounts(options: OktaReadOptions): Promise<SourceSnapshot> {
  const { app, config, key } = options;
  if (!OTHER.has(key) && profileName(key) === null) {
    throw new ProviderError(app, `key ${JSON.stringify(key)} is not an Okta attribute: use profile.NAME (default profile.login) or id`);
  }
  const incremental = options.incremental ?? null;
  const selection = selectionOf(app, config, incremental);
  const client = openClient(app, config.connection, options.retry);
  let listing: Listing<{ id: string; attributes: Record<string, string> }>;
  try {
    listing = await listUsers(client, {
      ...selection,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }, (user) => ({ id: user.id, attributes: flattenUser(user) }));
  } catch (error) {
    throw new ProviderError(app, client.redact(error instanceof Error ? error.message : String(error)));
  }

  const flat = listing.users.map(({ position, user }) => ({ position, id: user.id, attributes: user.attributes }));
  const hash = createHash('sha256');
  for (const u of [...flat].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) hash.update(`${u.id}\u0000${JSON.stringify(u.attributes)}\n`);

  const profileNames = new Set<string>([...namesUsed(config, key)].filter((n) => n.startsWith(PROFILE)));
  for (const u of flat) for (const name of Object.keys(u.attributes)) if (name.startsWith(PROFILE)) profileNames.add(name);
  const columns = [...TOP_LEVEL, 'active', ...[...profileNames].sort()];

  const accounts: SourceAccount[] = [];
  const rowErrors: RowError[] = [...listing.rowErrors];
  const byKey = new Map<string, string>();
  for (const { position: line, id, attributes: raw } of flat) {
    const attributes: Record<string, string> = {};
    for (const name of columns) setOwn(attributes, name, ownValue(raw, name) ?? '');
    const value = ownValue(attributes, key) ?? '';
    if (value === '') {
      rowErrors.push({ line, message: `Okta user ${id} has no ${key}` });
      continue;
    }
    const first = byKey.get(value);
    if (first !== undefined) {
      rowErrors.push({ line, key: value, message: `Okta user ${id} has the same ${key} as user ${first}` });
      continue;
    }
    byKey.set(value, id);
    accounts.push({ key: value, attributes, line });
  }
  return {
    app, accounts, columns, rowErrors: rowErrors.sort((a, b) => a.line - b.line), fingerprint: `sha256:${hash.digest('hex')}`,
    ...(incremental ? { partial: true } : {}),
  };
}

/** An Okta timestamp as Okta writes them (2026-12-07T08:15:00.000Z): nothing that could break out of the quotes. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The search or filter of a read: the configured one, narrowed to the users changed since the watermark. */
export function selectionOf(app: string, config: OktaApp, incremental: { attribute: string; stored: string | null } | null): { search?: string; filter?: string } {
  const { search, filter } = config.connection;
  const configured = { ...(search !== undefined ? { search } : {}), ...(filter !== undefined ? { filter } : {}) };
  if (!incremental) return configured;
  if (incremental.attribute !== 'lastUpdated') {
    throw new ProviderError(app, `an incremental okta import reads the users changed since the watermark by lastUpdated: set import.watermark to lastUpdated (it is ${JSON.stringify(incremental.attribute)})`);
  }
  const stored = incremental.stored;
  if (stored === null) return configured;
  if (!TIMESTAMP.test(stored)) throw new ProviderError(app, `the stored watermark ${JSON.stringify(stored)} is not an Okta timestamp; run a full import (import.mode: full) once to reset it`);
  const since = `lastUpdated ge "${stored}"`;
  if (filter !== undefined) return { filter: `(${filter}) and ${since}` };
  return { search: search !== undefined ? `(${search}) and ${since}` : since };
}

/** The attribute names the config reads or writes in this app. */
export function namesUsed(config: OktaApp, key: string): Set<string> {
  const names = new Set<string>([key, ...importReads(config.import)]);
  const p = config.provision;
  if (p) {
    for (const name of Object.keys(p.mappings)) names.add(name);
    if (p.match) names.add(p.match.app);
  }
  return names;
}
