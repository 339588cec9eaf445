import { describe, expect, it } from 'vitest';
import { durationMs } from './duration.ts';

describe('durationMs', () => {
  it('reads ms, s, m and plain seconds, and refuses the rest', () => {
    expect([durationMs('500ms'), durationMs('30s'), durationMs('2m'), durationMs('1.5'), durationMs(' 45 ')]).toEqual([500, 30_000, 120_000, 1_500, 45_000]);
    expect([durationMs('2h'), durationMs(''), durationMs('-1s'), durationMs('s')]).toEqual([null, null, null, null]);
  });
});
