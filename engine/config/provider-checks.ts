/**
 * Checks of the http and okta apps' settings that the JSON Schema cannot express, so that `idplane
 * validate` finds them (with file:line:col) instead of the first read.
 * okta: exactly one credential (token or accessToken); an incremental import reads changes by
 * lastUpdated, so import.watermark must be lastUpdated; search and filter are never sent together.
 * http: an incremental import needs
 * connection.since (the query parameter that carries the watermark); a cursor listing needs
 * pagination.cursorPath and a next-link listing pagination.nextPath; a paging parameter given for
 * another pagination type does nothing, which is said as a warning. Pure.
 */
import type { HttpPagination, IdplaneConfig } from '../../schemas/generated/config.ts';
import { toPointer, type At } from './problems.ts';

/** The pagination keys each type reads (totalPath and pageSize are shared). */
const READS: Record<HttpPagination['type'], (keyof HttpPagination)[]> = {
  none: [],
  page: ['pageSize', 'pageParam', 'firstPage', 'sizeParam', 'totalPath'],
  offset: ['pageSize', 'offsetParam', 'limitParam', 'totalPath'],
  cursor: ['pageSize', 'sizeParam', 'cursorParam', 'cursorPath', 'totalPath'],
  'next-link': ['nextPath', 'totalPath'],
  'link-header': ['totalPath'],
};

export function checkProviderApps(config: IdplaneConfig, at: At, warn: (pointer: string, message: string) => void): void {
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.provider === 'okta') {
      const connection = ['apps', name, 'connection'];
      const { token, accessToken, search, filter } = app.connection;
      if (token === undefined && accessToken === undefined) at(toPointer(connection), `${name} needs a credential: connection.token (an API token, sent as SSWS) or connection.accessToken (OAuth 2.0)`);
      if (token !== undefined && accessToken !== undefined) at(toPointer([...connection, 'accessToken']), 'give connection.token or connection.accessToken, not both', true);
      if (search !== undefined && filter !== undefined) at(toPointer([...connection, 'filter']), 'Okta takes search or filter, not both in one request: give one (search is the more capable)', true);
      if (app.import?.mode === 'incremental' && app.import.watermark !== undefined && app.import.watermark !== 'lastUpdated') {
        at(toPointer(['apps', name, 'import', 'watermark']), `an incremental okta import reads the users changed since the watermark by lastUpdated: set watermark: lastUpdated`);
      }
      continue;
    }
    if (app.provider !== 'http') continue;
    const connection = ['apps', name, 'connection'];
    if (app.import?.mode === 'incremental' && !app.connection.since) {
      at(toPointer(['apps', name, 'import', 'mode']), `an incremental http import needs connection.since: the query parameter that asks ${name} for the records changed since the stored watermark (e.g. since: { param: updated_since })`);
    }
    const p = app.connection.pagination;
    if (!p) continue;
    const base = [...connection, 'pagination'];
    if (p.type === 'cursor' && !p.cursorPath) at(toPointer([...base, 'type']), 'a cursor listing needs pagination.cursorPath: where each page\'s JSON gives the next cursor (e.g. meta.next_cursor)');
    if (p.type === 'next-link' && !p.nextPath) at(toPointer([...base, 'type']), 'a next-link listing needs pagination.nextPath: where each page\'s JSON gives the next page\'s URL (e.g. links.next)');
    const read = new Set<string>(['type', ...READS[p.type]]);
    for (const key of Object.keys(p)) {
      if (!read.has(key)) warn(toPointer([...base, key]), `pagination.${key} does nothing with type: ${p.type}`);
    }
  }
}
