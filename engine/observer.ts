/**
 * How a run tells whoever started it what it is doing, without printing: phases with their counts
 * (reading the state, reading each app, correlating, mapping, writing the state, …), notices (the store
 * taking over the lock of a run that is gone) and warnings (the config's, with their file:line:col; a
 * source that could not be read). Runs take an Observer in their options; the CLI draws progress bars
 * and a line of timings from it (cli/progress.ts), the server writes its log (server/runner.ts), and
 * the library's default says nothing. An observer only watches: the memory guard that may stop a long
 * phase is the engine's own (progress.ts), and nothing an observer does changes what a run does.
 */
import type { ConfigProblem } from './config/problems.ts';

/** One phase of a run, as it goes. */
export interface PhaseObserver {
  /**
   * How far the phase is; `total` when known (a file's size, a list's length). `unit`: what `done`
   * counts when it is not the phase's own unit (a file read in bytes, reported in rows).
   */
  update(done: number, total?: number, unit?: string): void;
  /** The phase is over; `count` is what it did, in its own unit. */
  finish(count: number): void;
}

/** Something a run wants said that is not an error: the run goes on. */
export type RunWarning =
  /** A problem of the config that does not stop it (validate's warnings), at its file:line:col. */
  | { kind: 'config'; problem: ConfigProblem }
  /** An import source that could not be read: its users keep the values it last imported. */
  | { kind: 'source-not-read'; app: string; reason: string };

export interface Observer {
  /** A phase starts; `unit` names what it counts ("rows", "users", "bytes"; '' for nothing). */
  phase(label: string, unit: string): PhaseObserver;
  /** A notice from the state store or the run (one line, no personal data). */
  notice(message: string): void;
  warning(warning: RunWarning): void;
}

const NO_PHASE: PhaseObserver = { update: () => {}, finish: () => {} };

/** An observer that says nothing: the library's default. */
export const SILENT: Observer = { phase: () => NO_PHASE, notice: () => {}, warning: () => {} };
