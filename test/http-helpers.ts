/**
 * What the http provider's tests share: the HR API server of a test (test/servers/hr-server.ts, in this
 * process), its token, the connection of each paging style on it, and the check that no output of a
 * test ever holds the token. `useHrServer()` registers the hooks that close the servers and run that
 * check after each test.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { HttpConnection } from '../schemas/generated/config.ts';
import { startHrServer, type HrServerOptions, type HrTestServer } from './servers/hr-server.ts';

export const TOKEN = 'hr-secret-Zq81-do-not-leak';
/** Retry timings short enough for tests. */
export const FAST = { baseDelayMs: 5, maxDelayMs: 20 };

/** The current test's server (set by start()). */
export let server: HrTestServer;
/** Further servers a test started (another origin); closed after it. */
export const others: HrTestServer[] = [];
/** Everything a test printed or was told: none of it may hold the token. */
export const outputs: string[] = [];

export async function start(options: HrServerOptions = {}): Promise<HrTestServer> {
  server = await startHrServer({ token: TOKEN, ...options });
  return server;
}

export function useHrServer(): void {
  beforeEach(() => {
    outputs.length = 0;
  });
  afterEach(async () => {
    await server?.close();
    for (const o of others.splice(0)) await o.close();
    for (const text of outputs) expect(text).not.toContain(TOKEN);
  });
}

/** The connection of a paging style on the test server. */
export function connectionFor(style: 'none' | 'page' | 'offset' | 'cursor' | 'next-link' | 'link-header', extra: Partial<HttpConnection> = {}): HttpConnection {
  const path = { none: 'none', page: 'page', offset: 'offset', cursor: 'cursor', 'next-link': 'next', 'link-header': 'link' }[style];
  const paging: Record<typeof style, Pick<HttpConnection, 'records' | 'pagination'>> = {
    none: {},
    page: { records: 'data.employees', pagination: { type: 'page', pageSize: 100, totalPath: 'meta.total' } },
    offset: { records: 'items', pagination: { type: 'offset', pageSize: 100 } },
    cursor: { records: 'results', pagination: { type: 'cursor', pageSize: 100, cursorPath: 'meta.next_cursor' } },
    'next-link': { records: 'employees', pagination: { type: 'next-link', nextPath: 'links.next' } },
    'link-header': { pagination: { type: 'link-header' } },
  };
  return { url: `${server.url}/${path}/employees`, token: TOKEN, ...paging[style], ...extra };
}
