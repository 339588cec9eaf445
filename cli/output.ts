/**
 * The view chosen once at the entry point and handed to every command: the output format, the streams,
 * and how errors are printed in that format (text on stderr, or one JSON object on stderr for json).
 */
import { once } from 'node:events';
import { Utf8Chunks } from '../state/chunks.ts';
import { formatProblem } from '../engine/config/problems.ts';
import { toIdplaneError } from '../engine/boundary.ts';
import { errorExitCode, type ExitCode } from './exit-codes.ts';
import type { Observer } from '../engine/observer.ts';
import { progressOf, type Progress } from '../engine/progress.ts';
import { createProgress, type ProgressBars } from './progress.ts';
import { styleFor, type Style } from './views/style.ts';
import { redactSecrets } from '../engine/secrets.ts';

export type Format = 'text' | 'json' | 'markdown';

/**
 * Buffered output for text of any size (a plan of a million users): `write` collects, `drain` hands the
 * text to the stream and waits while the stream is full (a pipe to a slow reader), so memory stays flat.
 */
export interface Sink {
  write(text: string): void;
  drain(): Promise<void>;
}

export interface Output {
  format: Format;
  style: Style;
  errStyle: Style;
  /** What runs report to: progress bars (or timings) for phases, stderr for notices and warnings. */
  observer: Observer;
  /** The CLI's own phases (printing), through the engine's memory guard like a run's. */
  progress: Progress;
  /** The phases' timings, for the line after long work. */
  timings: Pick<ProgressBars, 'summary' | 'elapsed'>;
  /** Standard output for long renderings; `stdout` goes through it too, so their order is kept. */
  sink: Sink;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether a person can answer a question on this terminal. */
  interactive: boolean;
}

export function createOutput(format: Format): Output {
  const sink = streamSink(process.stdout);
  const errStyle = styleFor(process.stderr);
  const bars = createProgress(process.stderr);
  // Notices, warnings, the server's log and errors: never a secret (engine/secrets.ts).
  const stderr = (text: string) => void process.stderr.write(redactSecrets(text));
  const observer: Observer = {
    phase: (label, unit) => bars.phase(label, unit),
    notice: (message) => stderr(`${message}\n`),
    // Warnings are for people: never in json or markdown mode, whose output goes to machines and PRs.
    warning: (warning) => {
      if (format !== 'text') return;
      switch (warning.kind) {
        case 'config': return stderr(`${formatProblem(warning.problem)}\n`);
        case 'source-not-read': return stderr(`${errStyle.yellow('Warning:')} ${warning.app} could not be read (${warning.reason}); its last imported values are shown\n`);
        default: {
          const never: never = warning;
          throw new Error(`unknown warning ${JSON.stringify(never)}`);
        }
      }
    },
  };
  return {
    format,
    style: format === 'text' ? styleFor(process.stdout) : { green: (s) => s, yellow: (s) => s, red: (s) => s, bold: (s) => s, dim: (s) => s },
    errStyle,
    observer,
    progress: progressOf(observer),
    timings: bars,
    sink,
    stdout: (text) => {
      sink.write(text);
      sink.flush();
    },
    stderr,
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  };
}

export function streamSink(stream: NodeJS.WritableStream & { writableNeedDrain?: boolean }): Sink & { flush(): void } {
  const chunks = new Utf8Chunks(1 << 18);
  const send = (chunk: Buffer) => stream.write(chunk, () => chunks.recycle(chunk));
  const flush = () => {
    if (chunks.pending > 0) send(chunks.take());
  };
  return {
    write(text) {
      const full = chunks.write(text);
      if (full) send(full);
    },
    flush,
    async drain() {
      flush();
      if (stream.writableNeedDrain) await once(stream, 'drain');
    },
  };
}

/** Work this long (ms) gets a line of timings on stderr at its end; IDPLANE_TIMINGS=1 asks for it always. */
const LONG_RUN_MS = 2000;

/**
 * After long work, one line on stderr with each phase's count, time and rate (for CI logs, where no bar
 * is drawn, and after a terminal's bars are cleared). Never in json mode, whose stderr is for errors.
 */
export function reportTimings(out: Output, command: string): void {
  if (out.format === 'json') return;
  if (out.timings.elapsed() < LONG_RUN_MS && process.env.IDPLANE_TIMINGS !== '1') return;
  out.stderr(`${out.errStyle.dim(`idplane ${command}: ${out.timings.summary()}`)}\n`);
}

/**
 * Prints an error in the chosen format and returns its exit code (exit-codes.ts). Whatever was thrown
 * goes through the engine's boundary first, so every error has a code of the closed union: text mode
 * prints the config's problems, then `Error: MESSAGE`, or for INTERNAL (a bug) how to report it.
 */
export function reportError(out: Output, thrown: unknown): ExitCode {
  const error = toIdplaneError(thrown);
  const problems = error.problems;
  if (out.format === 'json') {
    out.stderr(JSON.stringify({ error: { code: error.code, message: error.message, ...(problems.length ? { problems } : {}) } }) + '\n');
  } else if (error.code === 'INTERNAL') {
    out.stderr(`${out.errStyle.red('Internal error:')} ${error.message}\n`);
    const original = error.cause ?? error;
    if (process.env.IDPLANE_DEBUG && original instanceof Error && original.stack) out.stderr(`${original.stack}\n`);
    else out.stderr('This is a bug in idplane. Run with IDPLANE_DEBUG=1 for the stack trace and report it.\n');
  } else {
    for (const p of problems) out.stderr(`${formatProblem(p)}\n`);
    out.stderr(`${out.errStyle.red('Error:')} ${error.message}\n`);
  }
  return errorExitCode(error.code);
}
