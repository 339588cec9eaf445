/** A run's phases: the memory guard on starts and guarded updates, and what the observer is told. */
import { describe, expect, it } from 'vitest';
import { IdplaneError } from './errors.ts';
import type { Observer } from './observer.ts';
import { progressOf } from './progress.ts';

/** An observer that writes down what it is told. */
function recorder(): Observer & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    phase: (label, unit) => {
      seen.push(`start ${label} (${unit})`);
      return { update: (done, total, measure) => seen.push(`${label}: ${done}/${total ?? '?'} ${measure ?? ''}`.trim()), finish: (count) => seen.push(`${label}: finished ${count}`) };
    },
    notice: (m) => seen.push(`notice ${m}`),
    warning: (w) => seen.push(`warning ${w.kind}`),
  };
}

describe('progress and the guard', () => {
  it('passes every phase start and update of a guarded phase to the guard, with how far it got', () => {
    const seen: string[] = [];
    const progress = progressOf(recorder(), (doing) => seen.push(doing));
    const task = progress.start('mapping', 'users');
    task.update(4096, 10_000);
    task.update(8192);
    task.finish();
    task.update(9000, 10_000); // after finish: ignored
    expect(seen).toEqual(['starting mapping', 'mapping (4,096 of 10,000 users so far)', 'mapping (8,192 users so far)']);
  });

  it('lets the guard stop the run from an update', () => {
    const progress = progressOf(recorder(), (doing) => {
      if (doing.includes('so far')) throw new IdplaneError('MEMORY_LIMIT', `out of memory while ${doing}`);
    });
    const task = progress.start('reading hr', 'bytes');
    expect(() => task.update(1, 2)).toThrow(/out of memory while reading hr \(1 of 2 bytes so far\)/);
  });

  it('skips the guard between the steps of an unguarded phase', () => {
    const seen: string[] = [];
    const progress = progressOf(recorder(), (doing) => seen.push(doing));
    progress.start('pushing to targets', 'apps', { guarded: false }).update(1, 2);
    expect(seen).toEqual(['starting pushing to targets']);
  });

  it('tells the observer each phase once, finished with the last count in its own unit', () => {
    const observer = recorder();
    const progress = progressOf(observer, () => {});
    const task = progress.start('reading hr', 'rows');
    task.update(10, 100, 'bytes');
    task.update(3);
    task.finish();
    task.finish(99);
    progress.start('printing the plan').finish();
    expect(observer.seen).toEqual(['start reading hr (rows)', 'reading hr: 10/100 bytes', 'reading hr: 3/? rows', 'reading hr: finished 3', 'start printing the plan ()', 'printing the plan: finished 0']);
  });
});
