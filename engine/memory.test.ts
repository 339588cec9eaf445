import { describe, expect, it } from 'vitest';
import { IdplaneError } from './errors.ts';
import { checkHeap, engineLimit, heapMessage, readHeap } from './memory.ts';

const MiB = 2 ** 20;
const GiB = 1024 * MiB;

function thrown(fn: () => void): IdplaneError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IdplaneError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('checkHeap', () => {
  const never = () => {
    throw new Error('collected although the heap had room');
  };

  it('lets a run with room go on without collecting', () => {
    expect(() => checkHeap('mapping', () => ({ used: 0.9 * 4 * GiB, limit: 4 * GiB }), never, 24 * GiB)).not.toThrow();
  });

  it('collects a nearly full heap first, and goes on when what is left is garbage-free enough', () => {
    const readings = [{ used: 3.8 * GiB, limit: 4 * GiB }, { used: 2 * GiB, limit: 4 * GiB }];
    let collected = 0;
    checkHeap('mapping', () => readings.shift()!, () => ++collected > 0, 24 * GiB);
    expect(collected).toBe(1);
  });

  it('stops when live data nears the limit: which limit, during what, how to raise it', () => {
    const error = thrown(() => checkHeap('mapping (412,000 of 1,000,000 users so far)', () => ({ used: 3.7 * GiB, limit: 4 * GiB }), () => true, 24 * GiB));
    expect(error.code).toBe('MEMORY_LIMIT');
    expect(error.message).toBe(
      'out of memory while mapping (412,000 of 1,000,000 users so far): the JavaScript heap holds 3.7 GiB of live data, and its limit is 4.0 GiB; ' +
        'idplane stopped before the engine would have aborted. Raise the limit with NODE_OPTIONS=--max-old-space-size=8192 (MiB; this machine has 24.0 GiB of memory), ' +
        'or split the work (an import filter or a smaller export per run).',
    );
  });

  it('stops on a nearly full heap it cannot have collected', () => {
    expect(thrown(() => checkHeap('reading hr', () => ({ used: 3.9 * GiB, limit: 4 * GiB }), () => false, 24 * GiB)).code).toBe('MEMORY_LIMIT');
  });

  it('keeps room for one scavenge to promote the young generation: a small limit stops sooner', () => {
    // 100 MiB live of a 128 MiB limit is 78%, under both shares, yet a 64 MiB semi-space could fill the rest at once.
    const reading = { used: 100 * MiB, limit: 128 * MiB, promotable: 64 * MiB };
    const error = thrown(() => checkHeap('mapping', () => reading, () => true, 24 * GiB));
    expect(error.code).toBe('MEMORY_LIMIT');
    expect(error.message).toMatch(/holds 100 MiB of live data, and its limit is 128 MiB, of which 64 MiB stays free for young objects moving in at once; /);
    // On a heap of gigabytes the same semi-space is noise: 3 GiB live of 4 GiB goes on.
    expect(() => checkHeap('mapping', () => ({ used: 3 * GiB, limit: 4 * GiB, promotable: 64 * MiB }), never, 24 * GiB)).not.toThrow();
  });

  it('reads the old generation of this process, within its limit', () => {
    const heap = readHeap();
    expect(heap.used).toBeGreaterThan(0);
    expect(heap.used).toBeLessThan(heap.limit);
  });
});

describe('heapMessage', () => {
  const heap = (limit: number) => ({ used: limit * 0.9, limit });

  it('suggests twice the limit in whole GiB', () => {
    expect(heapMessage('x', heap(128 * MiB), 24 * GiB)).toMatch(/--max-old-space-size=1024 \(MiB/);
    expect(heapMessage('x', heap(3000 * MiB), 24 * GiB)).toMatch(/--max-old-space-size=6144 \(MiB/);
  });

  it('keeps the suggestion within three quarters of the machine', () => {
    expect(heapMessage('x', heap(4 * GiB), 8 * GiB)).toMatch(/--max-old-space-size=6144 \(MiB; this machine has 8.0 GiB/);
  });

  it('says so when the machine has no room for a larger heap', () => {
    const message = heapMessage('x', heap(4 * GiB), 4 * GiB);
    expect(message).not.toMatch(/max-old-space-size/);
    expect(message).toMatch(/4.0 GiB of memory leave no room for a larger heap: run on a bigger machine/);
  });
});

describe('engineLimit', () => {
  it('names the longest-string limit and what to do', () => {
    const error = engineLimit(new RangeError('Invalid string length')) as IdplaneError;
    expect(error.code).toBe('ENGINE_LIMIT');
    expect(error.message).toMatch(/at most 536,870,888 characters in one string.*plan --out FILE/);
  });

  it('names the largest-index limit', () => {
    const error = engineLimit(new RangeError('Map maximum size exceeded')) as IdplaneError;
    expect(error.code).toBe('ENGINE_LIMIT');
    expect(error.message).toMatch(/16,777,216/);
  });

  it('leaves other errors as they are', () => {
    const other = new RangeError('Maximum call stack size exceeded');
    expect(engineLimit(other)).toBe(other);
    const plain = new Error('boom');
    expect(engineLimit(plain)).toBe(plain);
  });
});
