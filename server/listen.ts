/**
 * Where and how `idplane serve` listens: host:port as the config or --listen gives it, and the TLS
 * files of serve.tls read into memory (a failure names the key and the file, in the config's order).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { IdplaneError, UsageError } from '../engine/errors.ts';

/** host:port, [v6]:port; port 0 takes a free port (printed in the start-up line). */
export function parseListen(value: string, where: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${where}: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? m[2]!, port };
}

export async function readTls(dir: string, tls: { cert: string; key: string; ca?: string }): Promise<{ cert: string; key: string; ca?: string }> {
  const read = async (name: 'cert' | 'key' | 'ca', path: string) => {
    try {
      return await readFile(resolve(dir, path), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new IdplaneError('SERVE_TLS', `serve.tls.${name}: cannot read ${path}: ${code === 'ENOENT' ? 'file not found' : code ?? (error as Error).message}`);
    }
  };
  // Read together; a failure is reported in the config's order (cert, key, ca), whichever came first.
  const settled = await Promise.allSettled([read('cert', tls.cert), read('key', tls.key), tls.ca ? read('ca', tls.ca) : Promise.resolve(undefined)]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [cert, key, ca] = settled.map((s) => (s as PromiseFulfilledResult<string | undefined>).value);
  return { cert: cert!, key: key!, ...(ca !== undefined ? { ca } : {}) };
}
