/**
 * http import: reads the people of a JSON API (an HR system such as Workday, BambooHR, SuccessFactors or
 * HiBob, or an internal service) page by page into a SourceSnapshot. Read only: an http app has no
 * provision section.
 *
 * Contract
 *   readHttpAccounts(options) GETs connection.url with the app's credentials (client.ts) and follows the
 *   configured pagination (pagination.ts, listing.ts) to the end; the records (connection.records, the
 *   body itself by default) become accounts as records.ts says: key = the value at the key path (default
 *   id), attributes = the record flattened to dotted names, a record without a key or with a repeated
 *   key is a row error; fingerprint = SHA-256 over the records in key order. With totalPath, a record
 *   served twice (same key, same JSON) does not count towards the total: a listing with fewer distinct
 *   records than the total is an error (overlapping pages), as is one with fewer records (listing.ts).
 *   - Incremental (`incremental` given: import.mode incremental with import.watermark): needs
 *     connection.since, else a ProviderError says to set it. With a stored watermark the requests carry
 *     since.param = the watermark (records AT the watermark are kept: a change in the same second as the
 *     last one applied must not be lost, and re-reading an unchanged one changes nothing); without one
 *     (the first run) the listing is full. Either way the snapshot is `partial`, as ldap's is, so people
 *     absent from it are never taken as removed. A watermark of digits only is zero-padded (query.ts).
 *   - Failures throw a ProviderError naming the app, the request's path and query (never the origin's
 *     credentials, never a secret) and the page: see listing.ts. A listing is never returned shorter
 *     than the server says it is, so a full import that could not read everyone deactivates nobody:
 *     read-sources.ts stops the plan (or leaves the app out with onUnreachable: skip).
 */
import type { HttpApp } from '../../schemas/generated/config.ts';
import type { SourceSnapshot } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import type { RetrySettings } from '../retry.ts';
import { openClient, type HrClient } from './client.ts';
import { listRecords, type Listing } from './listing.ts';
import { pagingOf } from './pagination.ts';
import { parseDottedPath } from './paths.ts';
import { baseParams } from './query.ts';
import { toSnapshot } from './records.ts';
import { importReads } from '../../reconciler/app-references.ts';

export interface HttpReadOptions {
  app: string;
  config: HttpApp;
  /** The app's key (default id), a dotted path into each record. */
  key: string;
  /** Incremental import: the watermark attribute and the stored watermark (null on the first run). */
  incremental: { attribute: string; stored: string | null } | null;
  onProgress?: (done: number, total: number) => void;
  /** The retry policy's timings (unit tests shorten them). */
  retry?: Partial<RetrySettings>;
}

export async function readHttpAccounts(options: HttpReadOptions): Promise<SourceSnapshot> {
  const { app, config, key, incremental } = options;
  const connection = config.connection;
  if (incremental && !connection.since) {
    throw new ProviderError(app, `import.mode is incremental, but connection.since is not set: set connection.since.param to the query parameter that asks the server for records changed since the watermark (e.g. since: { param: updated_since }), or use mode: full`);
  }
  const client = openClient(app, connection, options.retry);
  const keyPath = settingPath(app, 'key', key);
  const listing = await list(client, {
    app, config, stored: incremental?.stored ?? null,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const { snapshot, repeats } = toSnapshot({
    app, key, keyPath, records: listing.records, names: [...importReads(config.import)], partial: incremental !== null,
    ...(incremental ? { watermark: incremental.attribute } : {}),
  });
  // A record served twice does not count towards the total: a server that ignores the paging
  // parameters, or pages that overlap, must not pass for a whole listing.
  const distinct = listing.records.length - repeats;
  if (listing.total !== undefined && distinct < listing.total) {
    throw new ProviderError(app, client.redact(`pages 1-${listing.pages} of the listing (GET ${listing.firstRequest} and on): ${repeats} of its ${listing.records.length} records repeat records of other pages, which leaves ${distinct}, short of the ${listing.total} the server reports (${connection.pagination?.totalPath}); the pages overlap, so the listing is not used, since a full import would take the missing people as removed`));
  }
  return snapshot;
}

export interface ListAppOptions {
  app: string;
  config: HttpApp;
  /** The stored watermark to send as since.param, or null. */
  stored: string | null;
  firstPageOnly?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** The app's records (or its first page), every failure as a ProviderError naming the app. */
export async function list(client: HrClient, options: ListAppOptions): Promise<Listing> {
  const { app } = options;
  const connection = options.config.connection;
  try {
    let paging;
    try {
      paging = pagingOf(connection.pagination);
    } catch (error) {
      throw new ProviderError(app, (error as Error).message);
    }
    return await listRecords({
      client, url: new URL(connection.url), params: baseParams(connection, options.stored), paging,
      recordsPath: connection.records === undefined ? null : settingPath(app, 'connection.records', connection.records),
      totalPath: connection.pagination?.totalPath === undefined ? null : settingPath(app, 'pagination.totalPath', connection.pagination.totalPath),
      ...(options.firstPageOnly ? { firstPageOnly: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new ProviderError(app, client.redact(error instanceof Error ? error.message : String(error)));
  }
}

function settingPath(app: string, setting: string, text: string): string[] {
  try {
    return parseDottedPath(text);
  } catch (error) {
    throw new ProviderError(app, `${setting}: ${(error as Error).message}`);
  }
}
