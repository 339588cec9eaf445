/**
 * `idplane serve`: starts the server (server/serve.ts) on the config of `-C DIR`, logs its lines on
 * stderr, and stops it gracefully on SIGTERM or SIGINT: the run going on finishes, open requests are
 * answered, then the process exits 0.
 */
import { serve } from '../../server/serve.ts';
import { OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

export interface ServeOptions {
  /** host:port, overriding serve.listen. */
  listen?: string;
}

export async function serveCommand(dir: string, options: ServeOptions, out: Output): Promise<ExitCode> {
  await serve({ dir, ...options, log: (line) => out.stderr(`${line}\n`), stop: waitForSignal });
  return OK;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (name: string) => () => {
      process.off('SIGTERM', term);
      process.off('SIGINT', int);
      resolve(name);
    };
    const term = on('SIGTERM');
    const int = on('SIGINT');
    process.once('SIGTERM', term);
    process.once('SIGINT', int);
  });
}
