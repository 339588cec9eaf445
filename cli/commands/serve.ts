/**
 * `idplane serve`: the long-running process for what cannot wait for CI: JIT requests (POST /jit/APP),
 * the apps' scheduled imports (apps.NAME.schedule), /healthz and Prometheus /metrics (cli/serve/).
 * The config is read once, at start; restart the process to take a changed config. Every run takes the
 * state lock, as apply does. SIGTERM or SIGINT stops it gracefully: no new connections or runs, the run
 * going on finishes (its changes are journaled as it goes, so even a kill after that converges), open
 * requests are answered, then the state store is closed and the process exits 0.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { durationMs } from '../../engine/duration.ts';
import { IdplaneError, UsageError } from '../../engine/errors.ts';
import { reportWarnings, type Output } from '../output.ts';
import { ServeMetrics } from '../serve/metrics.ts';
import { JitBatcher } from '../serve/jit-batcher.ts';
import { Runner } from '../serve/runner.ts';
import { scheduledImport } from '../../engine/runs/scheduled-import.ts';
import { startSchedules, type Schedule } from '../serve/schedules.ts';
import { startServer } from '../serve/server.ts';
import { openWorkspace, type Workspace } from '../../engine/workspace.ts';

export interface ServeOptions {
  /** host:port, overriding serve.listen. */
  listen?: string;
}

const DEFAULT_LISTEN = '127.0.0.1:8080';
const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

export async function serveCommand(dir: string, options: ServeOptions, out: Output): Promise<number> {
  const ws = await openWorkspace(dir, { notice: (m) => out.stderr(`${m}\n`) });
  try {
    reportWarnings(out, ws.warnings);
    return await serve(ws, options, out);
  } finally {
    await ws.store.close();
  }
}

async function serve(ws: Workspace, options: ServeOptions, out: Output): Promise<number> {
  const config = ws.config.serve ?? {};
  const { host, port } = parseListen(options.listen ?? config.listen ?? DEFAULT_LISTEN, options.listen ? '--listen' : 'serve.listen');
  const log = (line: string) => out.stderr(`${line}\n`);
  const metrics = new ServeMetrics();
  const runner = new Runner(metrics, log);
  // The schema admits only forms durationMs reads (30s, 2m, 500ms).
  const lockTimeoutMs = config.lockTimeout ? durationMs(config.lockTimeout)! : DEFAULT_LOCK_TIMEOUT_MS;
  const tls = config.tls ? await readTls(ws.dir, config.tls) : undefined;
  const importApps = Object.values(ws.project.apps).filter((a) => a.import).map((a) => a.name);
  const jit = config.jit ? { apps: new Set(config.jit.apps ?? importApps), mtls: Boolean(config.tls?.ca), ...(config.jit.secret !== undefined ? { secret: config.jit.secret } : {}) } : undefined;
  const scheduled = Object.entries(ws.config.apps).flatMap(([app, c]) => (c.schedule ? [{ app, pattern: c.schedule }] : []));
  for (const app of jit?.apps ?? []) metrics.declare(app, 'jit');
  for (const { app } of scheduled) metrics.declare(app, 'schedule');
  if (!jit && scheduled.length === 0) out.stderr('warning: serve.jit is not set and no app has a schedule, so this server only answers /healthz and /metrics\n');

  let schedules: Schedule[] = [];
  const jitBatcher = new JitBatcher({ ws, runner, maxWaitMs: lockTimeoutMs });
  const server = await startServer({ ws, runner, jitBatcher, metrics, schedules: () => schedules, host, port, ...(tls ? { tls } : {}), ...(jit ? { jit } : {}), lockTimeoutMs, log }).catch((error: NodeJS.ErrnoException) => {
    if (error instanceof IdplaneError) throw error;
    throw new IdplaneError('SERVE_LISTEN', `cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.message}`);
  });
  schedules = startSchedules(scheduled, {
    ...(config.timezone ? { timezone: config.timezone } : {}),
    tick: async (app) => {
      await runner.run(app, 'schedule', (observer) => scheduledImport(ws, app, { lockTimeoutMs, observer }), (r) => r).catch(() => {
        // The runner has counted and logged it; the next tick tries again.
      });
    },
    skipped: (app) => log(`${new Date().toISOString()} schedule ${app}: tick skipped, the previous run has not ended`),
  });
  const what = [
    jit ? `JIT for ${[...jit.apps].join(', ') || 'no app'} (${[jit.secret !== undefined ? 'shared secret' : null, jit.mtls ? 'client certificate' : null].filter(Boolean).join(' and ')})` : null,
    ...schedules.map((s) => `${s.app} on "${s.pattern}"${config.timezone ? ` (${config.timezone})` : ' (UTC)'}, next ${s.next() ?? 'never'}`),
  ].filter(Boolean);
  log(`idplane serve: listening on ${server.url}${what.length ? `; ${what.join('; ')}` : ''}`);

  const signal = await waitForSignal();
  log(`idplane serve: ${signal} received, stopping${runner.current ? `; waiting for the ${runner.current.kind} run of ${runner.current.app} to finish` : ''}`);
  for (const s of schedules) s.stop();
  jitBatcher.stop();
  const runsOver = runner.stop();
  await Promise.all([runsOver, server.close(runsOver)]);
  log('idplane serve: stopped');
  return 0;
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

/** host:port, [v6]:port; port 0 takes a free port (printed in the start-up line). */
export function parseListen(value: string, where: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${where}: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? m[2]!, port };
}


async function readTls(dir: string, tls: { cert: string; key: string; ca?: string }): Promise<{ cert: string; key: string; ca?: string }> {
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
