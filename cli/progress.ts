/**
 * Progress on long work, phase by phase (reading each source, the state, correlating, mapping,
 * writing the plan, ...). On a terminal each phase is a line on stderr with its count, rate and, when
 * the total is known, a bar (redrawn at most ten times a second, also from inside synchronous loops).
 * Without a terminal nothing is drawn; every phase is timed, and `summary()` gives one line of what
 * each phase did and took, for a log. Callers get a small interface and never know which they have.
 * cli-progress (CommonJS) is required when the first bar is drawn: a run without a terminal never loads it.
 * Every update also passes the memory guard (engine/memory.ts): long work reports progress, so a run
 * that outgrows the heap stops there with a clear error instead of a crash of the engine.
 */
import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import { checkHeap } from '../engine/memory.ts';

const require = createRequire(import.meta.url);

export interface ProgressTask {
  /**
   * How far the phase is; `total` when known (a file's size, a list's length). `unit`: what `done`
   * counts when it is not the phase's own unit (a file read in bytes, reported in rows).
   */
  update(done: number, total?: number, unit?: string): void;
  /** The phase is over; `count` (default: the last `done`) is what the summary reports. */
  finish(count?: number): void;
}

export interface Progress {
  /**
   * A phase; `unit` names what it counts ("rows", "users", "bytes"). `guarded: false`: its updates skip
   * the memory guard (a phase whose every step changes something outside, where stopping between two
   * steps would leave the last one unrecorded).
   */
  start(label: string, unit?: string, options?: { guarded?: boolean }): ProgressTask;
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

/** Throws when the run cannot go on (engine/memory.ts); `doing` names the phase and how far it got. */
export type Guard = (doing: string) => void;

export function createProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = () => performance.now(), guard: Guard = checkHeap): Progress {
  const drawing = Boolean(stream.isTTY) && !process.env.CI;
  const finished: Finished[] = [];
  let first: number | null = null;
  return {
    start(label, unit = '', { guarded = true } = {}) {
      guard(`starting ${label}`);
      const started = now();
      first ??= started;
      let last = 0;
      let bar: cliProgress.SingleBar | null = null;
      let done = false;
      return {
        update(count, total, measure = unit) {
          if (measure === unit) last = count;
          if (done) return;
          if (guarded) guard(`${label} (${formatCount(count)}${total === undefined ? '' : ` of ${formatCount(total)}`} ${measure} so far)`);
          if (!drawing) return;
          if (!bar) bar = drawBar(stream, label, measure, total);
          if (total !== undefined) bar.setTotal(total);
          const seconds = Math.max((now() - started) / 1000, 1e-3);
          bar.update(count, { rate: formatCount(Math.round(count / seconds)) });
        },
        finish(count = last) {
          if (done) return;
          done = true;
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
