/**
 * The Prometheus metrics of `idplane serve` (GET /metrics), on a registry of their own (prom-client's
 * default registry is global; two servers in one process, as in the tests, must not share counts).
 * Every metric is labelled by app and kind (jit or schedule); no label ever holds a login, a key or a
 * value, so the metrics can be scraped into shared dashboards.
 * - idplane_runs_total{app,kind,outcome}: runs by how they ended (RunOutcome).
 * - idplane_changes_total{app,kind,type}: changes carried out: user (directory), account (targets).
 * - idplane_failures_total{app,kind}: runs that failed and account changes that failed.
 * - idplane_run_duration_seconds{app,kind}: how long runs took, lock wait included.
 * - idplane_last_run_timestamp_seconds{app,kind,outcome}: when a run last ended so (alert on staleness).
 * - idplane_runs_in_progress: 0 or 1 (runs are serialised).
 * - idplane_http_requests_total{route,status}: answers by route (/healthz, /metrics, /jit/APP, other)
 *   and status, so refused JIT requests (401, 403) can be alerted on.
 * - idplane_jit_ignored_attributes_total{app}: attribute names JIT requests sent that the app's import
 *   does not read, dropped before the run (each would otherwise become a column of the app's records).
 * - process and Node.js metrics (prom-client's defaults, prefixed idplane_).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type RunKind = 'jit' | 'schedule';

/**
 * How a run ended. applied: changes carried out (some account changes may have failed: see
 * failures); unchanged: nothing to do; blocked: the plan could not be applied (conflicts, a safeguard,
 * a policy, a review); locked: the state lock stayed held by another run; failed: an error.
 */
export type RunOutcome = 'applied' | 'unchanged' | 'blocked' | 'locked' | 'failed';

export interface RunRecord {
  app: string;
  kind: RunKind;
  outcome: RunOutcome;
  seconds: number;
  userChanges: number;
  accountChanges: number;
  failures: number;
}

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'app' | 'kind' | 'outcome'>;
  private readonly changes: Counter<'app' | 'kind' | 'type'>;
  private readonly failures: Counter<'app' | 'kind'>;
  private readonly duration: Histogram<'app' | 'kind'>;
  private readonly last: Gauge<'app' | 'kind' | 'outcome'>;
  readonly inProgress: Gauge;
  private readonly requests: Counter<'route' | 'status'>;
  private readonly ignored: Counter<'app'>;

  constructor() {
    const registers = [this.registry];
    this.runs = new Counter({ name: 'idplane_runs_total', help: 'Runs of idplane serve, by app, kind (jit, schedule) and outcome.', labelNames: ['app', 'kind', 'outcome'], registers });
    this.changes = new Counter({ name: 'idplane_changes_total', help: 'Changes carried out: user (directory) and account (targets).', labelNames: ['app', 'kind', 'type'], registers });
    this.failures = new Counter({ name: 'idplane_failures_total', help: 'Runs that failed, plus account changes that failed.', labelNames: ['app', 'kind'], registers });
    this.duration = new Histogram({
      name: 'idplane_run_duration_seconds', help: 'How long runs took, waiting for the state lock included.', labelNames: ['app', 'kind'], registers,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    });
    this.last = new Gauge({ name: 'idplane_last_run_timestamp_seconds', help: 'When a run of this app and kind last ended with this outcome (Unix time).', labelNames: ['app', 'kind', 'outcome'], registers });
    this.inProgress = new Gauge({ name: 'idplane_runs_in_progress', help: 'Runs going on now (runs are serialised: 0 or 1).', registers });
    this.requests = new Counter({ name: 'idplane_http_requests_total', help: 'HTTP answers of idplane serve, by route and status.', labelNames: ['route', 'status'], registers });
    this.ignored = new Counter({ name: 'idplane_jit_ignored_attributes_total', help: 'Attribute names JIT requests sent that the app\'s import does not read (dropped, never stored).', labelNames: ['app'], registers });
    collectDefaultMetrics({ register: this.registry, prefix: 'idplane_' });
  }

  /** Attribute names a JIT request sent that the import does not read. */
  ignoredAttributes(app: string, count: number): void {
    this.ignored.inc({ app }, count);
  }

  /** Makes every app's series exist from the start at 0, so rate() and absence alerts work before the first run. */
  declare(app: string, kind: RunKind): void {
    if (kind === 'jit') this.ignored.inc({ app }, 0);
    for (const outcome of OUTCOMES) this.runs.inc({ app, kind, outcome }, 0);
    this.changes.inc({ app, kind, type: 'user' }, 0);
    this.changes.inc({ app, kind, type: 'account' }, 0);
    this.failures.inc({ app, kind }, 0);
  }

  record(run: RunRecord): void {
    const { app, kind } = run;
    this.runs.inc({ app, kind, outcome: run.outcome });
    if (run.userChanges > 0) this.changes.inc({ app, kind, type: 'user' }, run.userChanges);
    if (run.accountChanges > 0) this.changes.inc({ app, kind, type: 'account' }, run.accountChanges);
    const failures = run.failures + (run.outcome === 'failed' ? 1 : 0);
    if (failures > 0) this.failures.inc({ app, kind }, failures);
    this.duration.observe({ app, kind }, run.seconds);
    this.last.set({ app, kind, outcome: run.outcome }, Date.now() / 1000);
  }

  /** Counts one HTTP answer; `route` is a known route or "other" (never a raw path: labels stay few). */
  answered(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  /** The text exposition format, and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

const OUTCOMES: readonly RunOutcome[] = ['applied', 'unchanged', 'blocked', 'locked', 'failed'];
