import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deeperThan, HttpClient, MAX_JSON_DEPTH, type HttpDialect } from './http-client.ts';

const JSON_DIALECT: HttpDialect = { accept: 'application/json', contentType: 'application/json' };
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server answering each request with the next of `answers` (the last one repeats). */
async function serve(answers: { status: number; headers?: Record<string, string>; body?: string }[]): Promise<string> {
  let n = 0;
  server = createServer((req, res) => {
    const a = answers[Math.min(n++, answers.length - 1)]!;
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
    res.end(a.body ?? '{}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(url: string, secrets: string[] = [], maxResponseBytes = 64 * 2 ** 20): HttpClient {
  return new HttpClient({
    app: 'hr', url, secrets, dialect: JSON_DIALECT, timeoutMs: 2_000, concurrency: 2, retries: 5, breakAfter: 25, maxResponseBytes,
    retry: { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 50 },
  });
}

describe('HttpClient', () => {
  it('takes a server\'s Retry-After only up to maxRetryAfterMs, for the request and for the app-wide pause', async () => {
    const url = await serve([
      { status: 429, headers: { 'retry-after': '3600' } }, { status: 429, headers: { 'retry-after': '3600' } },
      { status: 429, headers: { 'retry-after': '3600' } }, { status: 200, body: '{"ok":true}' },
    ]);
    const c = client(url);
    const started = Date.now();
    const response = await c.request('GET', c.endpoint('/people'));
    expect(response).toMatchObject({ status: 200, body: { ok: true } });
    // Three 429s in a row pause the whole app, but never longer than maxRetryAfterMs.
    expect(c.limit.pause()).toBeLessThanOrEqual(50);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('redacts the longest secret first, so that one holding another is hidden whole', async () => {
    const url = await serve([{ status: 200 }]);
    const c = client(url, ['abcd', 'abcdefgh-token']);
    expect(c.redact('token abcdefgh-token and abcd')).toBe('token *** and ***');
  });

  it('refuses an answer larger than maxResponseBytes, by its Content-Length or as it comes, without retrying it', async () => {
    const big = JSON.stringify({ records: 'x'.repeat(5000) });
    let requests = 0;
    server = createServer((req, res) => {
      requests += 1;
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) });
        res.end(big);
      } else {
        // Chunked: no Content-Length, the size shows only as the bytes come.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(big.slice(0, 3000));
        res.end(big.slice(3000));
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const c = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, [], 4096);
    await expect(c.request('GET', c.endpoint('/declared'))).rejects.toThrow(/GET \/declared: the answer is larger than 4096 bytes \(Content-Length 5\d{3}\); raise connection\.maxResponseMiB/);
    await expect(c.request('GET', c.endpoint('/chunked'))).rejects.toThrow(/GET \/chunked: the answer is larger than .* \(more than 4096 bytes came\)/);
    expect(requests).toBe(2);
    // Under the limit, the same answer is read whole.
    const roomy = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, [], 8192);
    expect((await roomy.request('GET', roomy.endpoint('/chunked'))).body).toEqual(JSON.parse(big));
  });

  it('measures nesting without recursion: 64 levels pass, 65 and 100,000 do not', () => {
    const nest = (n: number) => JSON.parse('['.repeat(n - 1) + '{"a":1}' + ']'.repeat(n - 1)) as unknown;
    expect(deeperThan(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(deeperThan(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(deeperThan(nest(100_000), MAX_JSON_DEPTH)).toBe(true);
    expect(deeperThan({ Resources: [{ name: { givenName: 'Ada' }, emails: [{ value: 'a@x' }] }] }, 5)).toBe(false);
    expect(deeperThan('text', 0)).toBe(false);
  });
});
