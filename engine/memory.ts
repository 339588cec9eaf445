/**
 * Running out of memory must not be how a too-large input fails. V8 ends a process whose heap reaches
 * its limit with a fatal error and a native stack (exit 134), after minutes of ever longer garbage
 * collections. The guard looks at the heap whenever a phase reports progress (every few thousand
 * rows, users or bytes) and, once the live heap nears the limit, stops the run with an error that
 * says which limit was reached, during what, and how to raise it. Nothing is written by then: plan
 * and drift only read, and apply stops like an interrupted apply (its journal makes the re-run
 * converge). The engine's fixed limits (the longest string, the largest Map) are told apart the same
 * way when they surface as a RangeError.
 */
import { totalmem } from 'node:os';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IdplaneError } from './errors.ts';

/** The share of the heap limit in use at which the run stops. */
export const HEAP_STOP_SHARE = 0.9;

const MiB = 2 ** 20;

/** The old generation (what --max-old-space-size limits, and what runs out): bytes used and its limit. */
export interface HeapReading {
  used: number;
  limit: number;
  /**
   * What one scavenge of the young generation may move into the old one at once: a semi-space
   * (64 MiB on Node 24). The guard keeps that much room free, since the heap can jump by it between
   * two of its checks; a limit near the semi-space size would otherwise be crossed unseen.
   */
  promotable?: number;
}

/**
 * V8's heap_size_limit is the old generation's limit plus three semi-spaces of the young one; the
 * young generation is emptied by every scavenge and never what runs out, so it is left out of both.
 * The old generation's limit is --max-old-space-size when the process was given one (exactly what
 * the message then tells to raise), else heap_size_limit less the young generation.
 */
export function readHeap(): HeapReading {
  const s = getHeapStatistics();
  let young = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') young += space.space_used_size;
  }
  const old = nodeFlagMiB('max-old-space-size');
  const semi = semiSpace();
  return { used: s.used_heap_size - young, limit: old !== undefined ? old * MiB : s.heap_size_limit - 3 * semi, promotable: semi };
}

/**
 * The semi-space size the process runs with: --max-semi-space-size, else V8's default, which is
 * 64 MiB on 64-bit machines since V8 13 (Node 24; it was 16 MiB on Node 20).
 */
function semiSpace(): number {
  return (nodeFlagMiB('max-semi-space-size') ?? 64) * MiB;
}

const flagValues = new Map<string, number | undefined>();

/** A numeric V8 flag (in MiB) given on the command line or in NODE_OPTIONS, in either spelling; the last one wins. */
function nodeFlagMiB(name: string): number | undefined {
  if (!flagValues.has(name)) {
    const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
    const pattern = new RegExp(`^--${name.replaceAll('-', '[-_]')}=(\\d+)$`);
    const given = flags.map((f) => pattern.exec(f)?.[1]).filter((v) => v !== undefined).at(-1);
    flagValues.set(name, given === undefined ? undefined : Number(given));
  }
  return flagValues.get(name);
}

/** The share of the limit that live data (what a full collection leaves) may take before the run stops. */
export const LIVE_STOP_SHARE = 0.85;

/**
 * Throws MEMORY_LIMIT when the old generation nears its limit with live data. A heap that holds more
 * than HEAP_STOP_SHARE of the limit may still be mostly garbage (V8 lets it accumulate up to the limit
 * before collecting), so the guard first has it collected in full, and stops only when what is left
 * is more than LIVE_STOP_SHARE. `doing` names the phase ("mapping (412,000 of 1,000,000 users so
 * far)"). Cheap until the heap is nearly full: one call into V8 that reads counters.
 */
export function checkHeap(doing: string, read: () => HeapReading = readHeap, collect: () => boolean = collectGarbage, machine = totalmem()): void {
  let heap = read();
  if (heap.used <= room(heap) * HEAP_STOP_SHARE) return;
  if (collect()) {
    heap = read();
    if (heap.used <= room(heap) * LIVE_STOP_SHARE) return;
  }
  throw new IdplaneError('MEMORY_LIMIT', heapMessage(doing, heap, machine));
}

/** The part of the limit live data may fill: what is left once one scavenge's promotion is kept free. */
function room(heap: HeapReading): number {
  return Math.max(0, heap.limit - (heap.promotable ?? 0));
}

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection, with V8's own `gc` (exposed on first use; a process started without
 * --expose-gc has none). False when it cannot be had.
 */
function collectGarbage(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
  return gc !== null;
}

export function heapMessage(doing: string, heap: HeapReading, machine: number): string {
  const limitMiB = Math.round(heap.limit / MiB);
  // Twice the limit in whole GiB, kept within three quarters of the machine's memory.
  const room = Math.floor((machine * 0.75) / MiB / 1024) * 1024;
  const suggested = Math.min(Math.ceil((limitMiB * 2) / 1024) * 1024, room);
  return (
    `out of memory while ${doing}: the JavaScript heap holds ${gib(heap.used)} of live data, and its limit is ${gib(heap.limit)}` +
    // Said only where it explains the stop: on a small limit, the young generation's room is a large share of it.
    ((heap.promotable ?? 0) > heap.limit * 0.05 ? `, of which ${gib(heap.promotable!)} stays free for young objects moving in at once` : '') +
    '; idplane stopped before the engine would have aborted. ' +
    (suggested > limitMiB
      ? `Raise the limit with NODE_OPTIONS=--max-old-space-size=${suggested} (MiB; this machine has ${gib(machine)} of memory), `
      : `This machine's ${gib(machine)} of memory leave no room for a larger heap: run on a bigger machine, `) +
    'or split the work (an import filter or a smaller export per run).'
  );
}

/**
 * A RangeError from one of the engine's fixed limits, as a IdplaneError that says so; anything else
 * unchanged. These are not heap exhaustion and no NODE_OPTIONS raises them.
 */
export function engineLimit(error: unknown): unknown {
  if (!(error instanceof RangeError)) return error;
  if (/Invalid string length/.test(error.message)) {
    return new IdplaneError('ENGINE_LIMIT', `a text too long for the JavaScript engine (at most ${(2 ** 29 - 24).toLocaleString('en')} characters in one string) was being built: ${error.message}. Write the output to a file (plan --out FILE) or narrow it.`);
  }
  if (/Map maximum size exceeded|Set maximum size exceeded/.test(error.message)) {
    return new IdplaneError('ENGINE_LIMIT', `more entries than one index of the JavaScript engine holds (${(2 ** 24).toLocaleString('en')}): ${error.message}. Split the work (an import filter or a smaller export per run).`);
  }
  if (/Array buffer allocation failed/.test(error.message)) {
    return new IdplaneError('MEMORY_LIMIT', `the machine refused memory for a buffer (${error.message}): free memory or run on a bigger machine.`);
  }
  return error;
}

function gib(bytes: number): string {
  return bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}
