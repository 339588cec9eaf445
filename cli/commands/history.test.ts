/** `history --since`: the instants it takes (a duration back from now, an ISO date or time) and what it refuses. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../engine/errors.ts';
import { parseSince } from './history.ts';

describe('history --since', () => {
  const now = new Date('2026-12-07T12:00:00.000Z');

  it('takes a duration back from now', () => {
    expect(parseSince('24h', now)).toBe('2026-12-06T12:00:00.000Z');
    expect(parseSince('7d', now)).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince('90m', now)).toBe('2026-12-07T10:30:00.000Z');
    expect(parseSince('2w', now)).toBe('2026-11-23T12:00:00.000Z');
    expect(parseSince(' 1.5H ', now)).toBe('2026-12-07T10:30:00.000Z');
  });

  it('takes an ISO date (midnight UTC) or a time with its zone', () => {
    expect(parseSince('2026-11-24', now)).toBe('2026-11-24T00:00:00.000Z');
    expect(parseSince('2026-11-24T09:15Z', now)).toBe('2026-11-24T09:15:00.000Z');
    expect(parseSince('2026-11-24T09:15:30.5+02:00', now)).toBe('2026-11-24T07:15:30.500Z');
    expect(parseSince('2026-11-24 09:15:00Z', now)).toBe('2026-11-24T09:15:00.000Z');
  });

  it('refuses anything else, saying what it takes', () => {
    for (const bad of ['yesterday', '7', '7y', '2026-13-40', '24/11/2026', '']) {
      expect(() => parseSince(bad, now)).toThrow(UsageError);
    }
    expect(() => parseSince('soon', now)).toThrow('--since "soon" is neither a date or time (2026-11-24, 2026-11-24T09:00Z) nor a duration back from now (30m, 24h, 7d, 2w)');
  });
});
