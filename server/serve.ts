/**
 * The long-running process of `idplane serve`, for what cannot wait for CI: JIT requests (POST
 * /jit/APP), the apps' scheduled imports (apps.NAME.schedule), /healthz and Prometheus /metrics. The
 * config is read once, at start; restart the process to take a changed config. Every run is an engine
 * run (runJitBatch, scheduledImport) and takes the state lock, as apply does. When `stop` resolves
 * (the CLI: SIGTERM or SIGINT) it stops gracefully: no new connections or runs, the run going on
 * finishes (its changes are journaled as it goes, so even a kill after that converges), open requests
 * are answered, then the state store is closed and `serve` resolves. Everything it has to say is a
 * line for `log`: the start, each run, refused credentials, the stop.
 */
import { durationMs } from '../engine/duration.ts';
import { IdplaneError } from '../engine/errors.ts';
import { JitSession } from '../engine/runs/jit-session.ts';
import { configCommit } from '../engine/runs/run-log.ts';
import { scheduledImport } from '../engine/runs/scheduled-import.ts';
import { SILENT } from '../engine/observer.ts';
import { progressOf } from '../engine/progress.ts';
import { openWorkspace, type Workspace } from '../engine/workspace.ts';
import { startServer } from './endpoints.ts';
import { JitBatcher } from './jit-batcher.ts';
import { parseListen, readTls } from './listen.ts';
import { ServeMetrics } from './metrics.ts';
import { Runner } from './runner.ts';
import { startSchedules, type Schedule } from './schedules.ts';
import { redactSecrets } from '../engine/secrets.ts';

export interface ServeOptions {
  /** The folder of idplane.yaml. */
  dir: string;
  /** Where `${env:NAME}` in the config reads from; default process.env. */
  env?: Record<string, string | undefined>;
  /** host:port, overriding serve.listen. */
  listen?: string;
  /** Gets each line the server logs (without its newline). */
  log: (line: string) => void;
  /** Called once the server listens; resolves with the reason to stop (a signal's name). */
  stop: () => Promise<string>;
}

const DEFAULT_LISTEN = '127.0.0.1:8080';
const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

export async function serve(given: ServeOptions): Promise<void> {
  // Every line of the log, whoever reads it: no secret of the config (engine/secrets.ts).
  const log = (line: string) => given.log(redactSecrets(line));
  const options = { ...given, log };
  const metrics = new ServeMetrics();
  const runner = new Runner(metrics, log);
  const ws = await openWorkspace(options.dir, { ...(options.env ? { env: options.env } : {}), notice: (m) => runner.observer.notice(m) });
  try {
    for (const problem of ws.warnings) runner.observer.warning({ kind: 'config', problem });
    await run(ws, options, metrics, runner);
  } finally {
    await ws.store.close();
  }
}

async function run(ws: Workspace, options: ServeOptions, metrics: ServeMetrics, runner: Runner): Promise<void> {
  const { log } = options;
  const config = ws.config.serve ?? {};
  const { host, port } = parseListen(options.listen ?? config.listen ?? DEFAULT_LISTEN, options.listen ? '--listen' : 'serve.listen');
  // The schema admits only forms durationMs reads (30s, 2m, 500ms).
  const lockTimeoutMs = config.lockTimeout ? durationMs(config.lockTimeout)! : DEFAULT_LOCK_TIMEOUT_MS;
  const tls = config.tls ? await readTls(ws.dir, config.tls) : undefined;
  const importApps = Object.values(ws.project.apps).filter((a) => a.import).map((a) => a.name);
  const jit = config.jit ? { apps: new Set(config.jit.apps ?? importApps), mtls: Boolean(config.tls?.ca), ...(config.jit.secret !== undefined ? { secret: config.jit.secret } : {}) } : undefined;
  const scheduled = Object.entries(ws.config.apps).flatMap(([app, c]) => (c.schedule ? [{ app, pattern: c.schedule }] : []));
  for (const app of jit?.apps ?? []) metrics.declare(app, 'jit');
  for (const { app } of scheduled) metrics.declare(app, 'schedule');
  if (!jit && scheduled.length === 0) log('warning: serve.jit is not set and no app has a schedule, so this server only answers /healthz and /metrics');

  let schedules: Schedule[] = [];
  const session = new JitSession();
  const jitBatcher = new JitBatcher({ ws, runner, maxWaitMs: lockTimeoutMs, session });
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
  if (jit) prepareJit(ws, session, log);

  const signal = await options.stop();
  log(`idplane serve: ${signal} received, stopping${runner.current ? `; waiting for the ${runner.current.kind} run of ${runner.current.app} to finish` : ''}`);
  for (const s of schedules) s.stop();
  jitBatcher.stop();
  const runsOver = runner.stop();
  await Promise.all([runsOver, server.close(runsOver)]);
  log('idplane serve: stopped');
}

/**
 * Reads and indexes the directory for JIT while the server already listens, so the first sign-in does
 * not wait for a million users to be read (a sign-in that comes sooner waits for this same read). Only
 * reads: no lock is needed, and a run that wrote meanwhile makes the next sign-in read again.
 */
function prepareJit(ws: Workspace, session: JitSession, log: (line: string) => void): void {
  const started = performance.now();
  // The git commit every run records is asked now too, not by the first sign-in.
  void configCommit(ws.dir);
  session.current(ws, progressOf(SILENT)).then(
    (index) => log(`${new Date().toISOString()} idplane serve: directory ready for JIT (${index.state.users.length.toLocaleString('en')} users) in ${((performance.now() - started) / 1000).toFixed(2)} s`),
    (error: unknown) => log(`${new Date().toISOString()} idplane serve: could not read the directory for JIT yet (the first sign-in tries again): ${error instanceof Error ? error.message : String(error)}`),
  );
}
