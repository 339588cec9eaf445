/**
 * Runs `idplane serve`'s work one at a time. JIT requests and scheduled imports queue behind each other
 * in this process (each also takes the state lock, so they never overlap an apply elsewhere); each run
 * is timed, counted in the metrics and logged in one line that names the app, the kind and the outcome,
 * never a login, a key or a value.
 * Shutdown: stop() refuses new runs (they end `ShuttingDown` before starting) and resolves once the run
 * going on has finished, so a SIGTERM never cuts a run short; one killed anyway is journaled and the
 * next run converges (engine/runs/carry-out.ts).
 */
import { toIdplaneError } from '../engine/boundary.ts';
import { IdplaneError } from '../engine/errors.ts';
import { formatProblem } from '../engine/config/problems.ts';
import type { Observer, RunWarning } from '../engine/observer.ts';
import type { RunKind, RunOutcome, ServeMetrics } from './metrics.ts';

/** A run asked for (or queued) after the server began to stop: SHUTTING_DOWN. */
export class ShuttingDown extends IdplaneError {
  constructor() {
    super('SHUTTING_DOWN', 'idplane serve is shutting down; the request was not run');
  }
}

/** What a run reports, for the metrics and the log. */
export interface RunReport {
  outcome: RunOutcome;
  userChanges?: number;
  accountChanges?: number;
  failures?: number;
  /** Said in the log line: blockers, failures, apps not read. No personal data. */
  notes?: string[];
  /** A run that had nothing to do at all (every request it was for had left): neither counted nor logged. */
  silent?: boolean;
}

export interface LastRun {
  outcome: RunOutcome;
  at: string;
  seconds: number;
}

export class Runner {
  private tail: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private running: { app: string; kind: RunKind; since: string } | null = null;
  private readonly last = new Map<string, LastRun>();

  private readonly metrics: ServeMetrics;
  private readonly log: (line: string) => void;
  /** What runs report to: their phases are summed up in the run's log line; notices and warnings are logged. */
  readonly observer: Observer;

  constructor(metrics: ServeMetrics, log: (line: string) => void) {
    this.metrics = metrics;
    this.log = log;
    this.observer = { phase: () => NO_PHASE, notice: (m) => log(m), warning: (w) => log(warningLine(w)) };
  }

  /** The run going on, if any. */
  get current(): { app: string; kind: RunKind; since: string } | null {
    return this.running;
  }

  /** How the last run of an app and kind ended. */
  lastRun(app: string, kind: RunKind): LastRun | undefined {
    return this.last.get(`${kind}\u0000${app}`);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /**
   * Queues `work` behind every run queued before it. `report` turns its value (or error) into the
   * run's outcome; the value or error is passed on to the caller as it is.
   */
  run<T>(app: string, kind: RunKind, work: (observer: Observer) => Promise<T>, report: (value: T) => RunReport): Promise<T> {
    if (this.stopping) return Promise.reject(new ShuttingDown());
    const queued = Date.now();
    const next = this.tail.then(async () => {
      if (this.stopping) throw new ShuttingDown();
      this.running = { app, kind, since: new Date().toISOString() };
      this.metrics.inProgress.set(1);
      let summary: RunReport;
      try {
        const value = await work(this.observer);
        summary = report(value);
        return value;
      } catch (error) {
        summary = reportError(error);
        throw error;
      } finally {
        this.running = null;
        this.metrics.inProgress.set(0);
        this.finish(app, kind, summary!, (Date.now() - queued) / 1000);
      }
    });
    this.tail = next.catch(() => {});
    return next;
  }

  /** Counts, remembers and logs how a run ended. */
  private finish(app: string, kind: RunKind, summary: RunReport, seconds: number): void {
    if (summary.silent) return;
    this.metrics.record({ app, kind, outcome: summary.outcome, seconds, userChanges: summary.userChanges ?? 0, accountChanges: summary.accountChanges ?? 0, failures: summary.failures ?? 0 });
    this.last.set(`${kind}\u0000${app}`, { outcome: summary.outcome, at: new Date().toISOString(), seconds });
    this.log(logLine(app, kind, summary, seconds));
  }

  /** Refuses new runs and resolves when the queue is empty (runs queued but not started end ShuttingDown). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.tail;
  }
}

/** A run that threw: the lock held elsewhere, or an error (its message names the app and place, not a person). */
function reportError(thrown: unknown): RunReport {
  const error = toIdplaneError(thrown);
  if (error.code === 'LOCK_HELD' && error.holder) return { outcome: 'locked', notes: [`the state lock is held by ${error.holder.operation} (lock id ${error.holder.id})`] };
  return { outcome: 'failed', notes: [error.message] };
}

function logLine(app: string, kind: RunKind, report: RunReport, seconds: number): string {
  const counts = report.outcome === 'applied' ? ` (${report.userChanges ?? 0} user change(s), ${report.accountChanges ?? 0} account change(s)${report.failures ? `, ${report.failures} failed` : ''})` : '';
  const notes = report.notes?.length ? `: ${report.notes.join('; ')}` : '';
  return `${new Date().toISOString()} ${kind} ${app}: ${report.outcome}${counts} in ${seconds.toFixed(2)} s${notes}`;
}

const NO_PHASE = { update: () => {}, finish: () => {} };

function warningLine(warning: RunWarning): string {
  switch (warning.kind) {
    case 'config': return formatProblem(warning.problem);
    case 'source-not-read': return `warning: ${warning.app} could not be read (${warning.reason})`;
    default: {
      const never: never = warning;
      throw new Error(`unknown warning ${JSON.stringify(never)}`);
    }
  }
}
