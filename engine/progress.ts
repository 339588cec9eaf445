/**
 * A run's phases as the engine works with them: a small interface (start a phase, update it, finish it)
 * over the run's Observer, with the memory guard in between. Every phase start, and every update of a
 * guarded phase, passes the guard first (memory.ts): long work reports progress, so a run that outgrows
 * the heap stops there with MEMORY_LIMIT instead of crashing the JavaScript engine. A phase whose every
 * step changes something outside (pushing to targets) is unguarded between its steps, so that stopping
 * never leaves the last step unrecorded. Updates after a phase finished are ignored, and a phase
 * finished without a count reports the last count it was given in its own unit.
 */
import { checkHeap } from './memory.ts';
import type { Observer } from './observer.ts';

export interface ProgressTask {
  /** How far the phase is (see PhaseObserver.update). */
  update(done: number, total?: number, unit?: string): void;
  /** The phase is over; `count` (default: the last `done` in the phase's unit) is what it did. */
  finish(count?: number): void;
}

export interface Progress {
  /** A phase; `unit` names what it counts. `guarded: false`: its updates skip the memory guard. */
  start(label: string, unit?: string, options?: { guarded?: boolean }): ProgressTask;
}

/** Throws when the run cannot go on (memory.ts); `doing` names the phase and how far it got. */
export type Guard = (doing: string) => void;

export function progressOf(observer: Observer, guard: Guard = checkHeap): Progress {
  return {
    start(label, unit = '', { guarded = true } = {}) {
      guard(`starting ${label}`);
      const phase = observer.phase(label, unit);
      let last = 0;
      let done = false;
      return {
        update(count, total, measure = unit) {
          if (measure === unit) last = count;
          if (done) return;
          if (guarded) guard(`${label} (${formatCount(count)}${total === undefined ? '' : ` of ${formatCount(total)}`} ${measure} so far)`);
          phase.update(count, total, measure);
        },
        finish(count = last) {
          if (done) return;
          done = true;
          phase.finish(count);
        },
      };
    },
  };
}

/** A count with thousands separators (1,000,001), as progress and the engine's messages print counts. */
export function formatCount(n: number): string {
  return n.toLocaleString('en');
}
