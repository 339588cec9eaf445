/** The exit-code table: the README's "1 an error, 3 the plan cannot be applied", for every code of the union. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../engine/errors.ts';
import { errorExitCode, FAILED, NOT_APPLYABLE } from './exit-codes.ts';

describe('errorExitCode', () => {
  it('exits 3 for a plan that cannot be applied and 1 for every other error', () => {
    expect(errorExitCode('PLAN_NOT_APPLYABLE')).toBe(NOT_APPLYABLE);
    const others = ERROR_CODES.filter((code) => code !== 'PLAN_NOT_APPLYABLE');
    expect(others.length).toBeGreaterThan(30);
    for (const code of others) expect([code, errorExitCode(code)]).toEqual([code, FAILED]);
  });
});
