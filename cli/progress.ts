/**
 * The CLI's view of a run's progress (the engine's Observer phases). On a terminal each phase is a line
 * on stderr with its count, rate and, when the total is known, a bar (redrawn at most ten times a
 * second, also from inside synchronous loops). Without a terminal nothing is drawn; every phase is
 * timed, and `summary()` gives one line of what each phase did and took, for a log (output.ts prints
 * it after long work). cli-progress (CommonJS) is required when the first bar is drawn: a run without
 * a terminal never loads it. The memory guard is not here: the engine applies it to every phase,
 * the CLI's own phases included (engine/progress.ts).
 */
import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import type { PhaseObserver } from '../engine/observer.ts';

const require = createRequire(import.meta.url);

export interface ProgressBars {
  /** A phase starts: drawn on a terminal, timed always. */
  phase(label: string, unit: string): PhaseObserver;
  /** One line: each finished phase with its count, time and rate, and the total time. */
  summary(): string;
  /** Milliseconds since the first phase started. */
  elapsed(): number;
}

interface Finished {
  label: string;
  unit: string;
  count: number;
  ms: number;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = () => performance.now()): ProgressBars {
  const drawing = Boolean(stream.isTTY) && !process.env.CI;
  const finished: Finished[] = [];
  let first: number | null = null;
  return {
    phase(label, unit) {
      const started = now();
      first ??= started;
      let bar: cliProgress.SingleBar | null = null;
      return {
        update(count, total, measure = unit) {
          if (!drawing) return;
          if (!bar) bar = drawBar(stream, label, measure, total);
          if (total !== undefined) bar.setTotal(total);
          const seconds = Math.max((now() - started) / 1000, 1e-3);
          bar.update(count, { rate: formatCount(Math.round(count / seconds)) });
        },
        finish(count) {
          bar?.stop();
          finished.push({ label, unit, count, ms: now() - started });
        },
      };
    },
    summary() {
      const parts = finished.map((f) => {
        const what = f.unit ? `${formatCount(f.count)} ${f.unit} ` : '';
        const rate = f.unit && f.ms >= 100 ? ` (${formatCount(Math.round(f.count / (f.ms / 1000)))}/s)` : '';
        return `${f.label}: ${what}in ${seconds(f.ms)}${rate}`;
      });
      return `${parts.join('; ')}; total ${seconds(first === null ? 0 : now() - first)}`;
    },
    elapsed() {
      return first === null ? 0 : now() - first;
    },
  };
}

function drawBar(stream: NodeJS.WriteStream, label: string, unit: string, total: number | undefined): cliProgress.SingleBar {
  const { SingleBar, Presets } = require('cli-progress') as typeof cliProgress;
  const counts = `{value}${total === undefined ? '' : '/{total}'} ${unit} | {rate}/s`;
  const bar = new SingleBar(
    {
      stream, hideCursor: true, clearOnComplete: true, fps: 10, synchronousUpdate: true, formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? formatCount(v) : String(v)),
      format: total === undefined ? `${label.padEnd(24)} ${counts}` : `${label.padEnd(24)} [{bar}] {percentage}% | ${counts}`,
    },
    Presets.shades_classic,
  );
  bar.start(total ?? 0, 0, { rate: '0' });
  return bar;
}

function formatCount(n: number): string {
  return n.toLocaleString('en');
}

function seconds(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
