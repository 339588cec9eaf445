/**
 * What every run takes (the config's folder, the environment `${env:NAME}` reads, the observer it
 * reports to) and what it makes of them once: the observer (silent by default), its phases behind the
 * memory guard, and the workspace's options (the state store's notices go to the observer).
 */
import type { ConfigProblem } from '../config/problems.ts';
import { SILENT, type Observer } from '../observer.ts';
import { progressOf, type Progress } from '../progress.ts';
import type { OpenOptions } from '../workspace.ts';

export interface RunOptions {
  /** The folder of idplane.yaml; a relative one is taken from the process's working directory. */
  dir: string;
  /** Where `${env:NAME}` in the config reads from; default process.env. */
  env?: Record<string, string | undefined>;
  /** Told about the run's phases, notices and warnings; default: nobody. */
  observer?: Observer;
}

export interface RunContext {
  observer: Observer;
  progress: Progress;
  open: OpenOptions;
}

export function runContext(options: Omit<RunOptions, 'dir'>): RunContext {
  const observer = options.observer ?? SILENT;
  return {
    observer,
    progress: progressOf(observer),
    open: { ...(options.env ? { env: options.env } : {}), notice: (m) => observer.notice(m) },
  };
}

/** The config's warnings, each once, for the runs that act on the config (plan, apply, serve). */
export function reportConfigWarnings(observer: Observer, warnings: readonly ConfigProblem[]): void {
  for (const problem of warnings) observer.warning({ kind: 'config', problem });
}
