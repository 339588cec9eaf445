/**
 * The query of each request the http provider sends.
 * Contract:
 * - baseParams() is what every request of a listing built from connection.url carries: the fixed
 *   connection.query (numbers and booleans as their JSON text) and, for an incremental read with a
 *   stored watermark, since.param = the watermark as the server wrote it (a counter's zero-padding,
 *   which the reader adds so that counters sort as strings, taken off again).
 * - withParams() sets parameters on a URL: a parameter the URL's own query already has is replaced, the
 *   rest of that query is kept byte for byte, and values are percent-encoded with %20 for a space (not
 *   every server reads "+" as one).
 * - Watermarks: padWatermark() zero-pads a value of digits only to WATERMARK_WIDTH, so that "9" sorts
 *   before "10" in the core's string order; serverWatermark() undoes it.
 * Pure functions: no I/O.
 */
import type { HttpConnection } from '../../schemas/generated/config.ts';

export const WATERMARK_WIDTH = 20;

export function padWatermark(value: string): string {
  return /^\d+$/.test(value) ? value.padStart(WATERMARK_WIDTH, '0') : value;
}

export function serverWatermark(stored: string): string {
  return /^\d+$/.test(stored) ? stored.replace(/^0+(?=\d)/, '') : stored;
}

export function baseParams(connection: HttpConnection, stored: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(connection.query ?? {})) params[name] = String(value);
  if (connection.since && stored !== null) params[connection.since.param] = serverWatermark(stored);
  return params;
}

export function withParams(url: URL, params: Record<string, string>): URL {
  const out = new URL(url.href);
  const names = new Set(Object.keys(params));
  const kept = url.search.replace(/^\?/, '').split('&').filter((pair) => pair !== '' && !names.has(decodeName(pair)));
  const added = Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  const search = [...kept, ...added].join('&');
  out.search = search === '' ? '' : `?${search}`;
  return out;
}

function decodeName(pair: string): string {
  const name = pair.split('=', 1)[0]!.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
