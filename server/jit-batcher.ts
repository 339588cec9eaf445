/**
 * JIT requests of `idplane serve`, gathered into runs. A request joins its app's waiting batch; the
 * batch is queued on the runner once, and when its turn comes it takes every request waiting for that
 * app by then (up to MAX_BATCH) and runs them as one (runJitBatch: one plan, one write, against the
 * directory the session holds between runs),
 * so a burst of sign-ins costs about one run, not one run each. Requests that arrive while it runs
 * form the next batch.
 * - Each request is answered with its own result: its JitResult, or its own IdplaneError (review,
 *   conflict, no key); an error that stops the whole run (the state lock held, a state error, the
 *   server stopping) goes to every request of the batch.
 * - A request waits at most `maxWaitMs` for its batch to start (serve.lockTimeout); then it fails
 *   with QueueTimeout and leaves the batch. A batch whose requests all left does nothing.
 * - stop() (shutdown) answers the requests still waiting with ShuttingDown at once; a batch already
 *   running finishes and answers its own.
 */
import { IdplaneError, type ErrorCode } from '../engine/errors.ts';
import { runJitBatch, type JitResult } from '../engine/runs/jit.ts';
import type { JitSession } from '../engine/runs/jit-session.ts';
import type { Workspace } from '../engine/workspace.ts';
import { ShuttingDown, type RunReport, type Runner } from './runner.ts';

/** A request whose batch did not start within its wait (the runs before it took too long): QUEUE_TIMEOUT. */
export class QueueTimeout extends IdplaneError {
  readonly waitedMs: number;

  constructor(waitedMs: number) {
    super('QUEUE_TIMEOUT', `the runs queued before it did not end within ${Math.round(waitedMs / 1000)} s (serve.lockTimeout), so it was not run`);
    this.waitedMs = waitedMs;
  }
}

/** The most accounts one run takes; more wait for the next. */
export const MAX_BATCH = 500;

interface Waiting {
  attributes: Record<string, string>;
  resolve: (result: JitResult) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface JitBatcherOptions {
  ws: Workspace;
  runner: Runner;
  /** How long a request waits for its batch to start, and a run for the state lock. */
  maxWaitMs: number;
  /** Recorded in the run history. */
  command?: string;
  /** The directory the runs plan against, held between them. */
  session: JitSession;
}

export class JitBatcher {
  private readonly waiting = new Map<string, Waiting[]>();
  /** Apps with a batch queued on the runner that has not started yet. */
  private readonly queued = new Set<string>();

  private readonly options: JitBatcherOptions;

  constructor(options: JitBatcherOptions) {
    this.options = options;
  }

  /** Runs one account through APP's import with the others waiting now; resolves with its own result. */
  submit(app: string, attributes: Record<string, string>): Promise<JitResult> {
    return new Promise<JitResult>((resolve, reject) => {
      const entry: Waiting = {
        attributes, resolve, reject,
        timer: setTimeout(() => {
          const list = this.waiting.get(app) ?? [];
          const at = list.indexOf(entry);
          if (at < 0) return; // taken by a run meanwhile
          list.splice(at, 1);
          reject(new QueueTimeout(this.options.maxWaitMs));
        }, this.options.maxWaitMs),
      };
      let list = this.waiting.get(app);
      if (!list) this.waiting.set(app, (list = []));
      list.push(entry);
      if (!this.queued.has(app)) this.queue(app);
    });
  }

  /** Answers every request still waiting for its batch with ShuttingDown; the run going on finishes. */
  stop(): void {
    for (const list of this.waiting.values()) {
      for (const w of list.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new ShuttingDown());
      }
    }
  }

  private queue(app: string): void {
    this.queued.add(app);
    let batch: Waiting[] = [];
    const run = this.options.runner.run(app, 'jit', async (observer) => {
      this.queued.delete(app);
      const list = this.waiting.get(app) ?? [];
      batch = list.splice(0, MAX_BATCH);
      for (const w of batch) clearTimeout(w.timer);
      if (list.length > 0) this.queue(app);
      if (batch.length === 0) return [];
      return runJitBatch(this.options.ws, app, batch.map((w) => w.attributes), { lockTimeoutMs: this.options.maxWaitMs, observer, command: this.options.command ?? 'serve jit', session: this.options.session });
    }, (results) => reportOf(results));
    run.then(
      (results) => results.forEach((r, i) => (isError(r) ? batch[i]!.reject(r) : batch[i]!.resolve(r))),
      (error: unknown) => {
        // A run that never started still holds the app's queued flag; one that started gave it up.
        if (batch.length === 0) this.queued.delete(app);
        // The run never started (the server is stopping): its requests leave with the error, as do
        // those of a run that failed as a whole.
        const left = batch.length > 0 ? batch : (this.waiting.get(app) ?? []).splice(0);
        for (const w of left) {
          clearTimeout(w.timer);
          w.reject(error);
        }
      },
    );
  }
}

/** How the log names a refusal: never with the message, which names the person. */
const REFUSALS: Partial<Record<ErrorCode, string>> = {
  JIT_REVIEW: 'the account needs review',
  JIT_CONFLICT: 'the account conflicts with the directory',
  JIT_BLOCKED: 'a plan policy or safeguard',
  JIT_INPUT: 'no key',
};

function isError(result: JitResult | IdplaneError): result is IdplaneError {
  return result instanceof Error;
}

/** A batch's outcome: applied when any account changed something; blocked when every one was refused. */
function reportOf(results: (JitResult | IdplaneError)[]): RunReport {
  if (results.length === 0) return { outcome: 'unchanged', silent: true };
  const refused = results.filter(isError);
  const done = results.filter((r): r is JitResult => !isError(r));
  const changed = done.filter((r) => r.plan.users.length + r.plan.links.length + r.plan.imports.length > 0);
  const userChanges = new Set(done.flatMap((r) => r.plan.users.map((u) => u.id))).size;
  const notes = [
    ...(results.length > 1 ? [`${results.length} accounts in one run`] : []),
    ...(refused.length > 0 ? [`${refused.length} refused (${[...new Set(refused.map((e) => REFUSALS[e.code] ?? e.code))].join(', ')})`] : []),
  ];
  const outcome = changed.length > 0 ? 'applied' : refused.length === results.length ? 'blocked' : 'unchanged';
  return { outcome, userChanges, ...(notes.length ? { notes } : {}) };
}
