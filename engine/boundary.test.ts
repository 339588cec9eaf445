/** The engine's error boundary: which errors keep their code, which become OS_ERROR, ENGINE_LIMIT or INTERNAL. */
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../providers/errors.ts';
import { LockHeldError, StateAccessError, StateFormatError } from '../state/types.ts';
import { toIdplaneError } from './boundary.ts';
import { ConfigError, ERROR_CODES, IdplaneError } from './errors.ts';

const holder = { id: 'L1', operation: 'apply', who: 'ci', host: 'h', pid: 7, created: '2026-01-01T00:00:00Z' };

describe('toIdplaneError', () => {
  it('keeps an IdplaneError as it is', () => {
    const error = new ConfigError([]);
    expect(toIdplaneError(error)).toBe(error);
  });

  it('adopts the codes of the state, providers and core with their messages, and a lock holder', () => {
    const locked = toIdplaneError(new LockHeldError(holder, '.idplane'));
    expect(locked).toBeInstanceOf(IdplaneError);
    expect(locked.code).toBe('LOCK_HELD');
    expect(locked.message).toMatch(/locked by ci@h \(pid 7\) for apply/);
    expect(locked.holder).toEqual(holder);
    expect(toIdplaneError(new StateFormatError('damaged')).code).toBe('STATE_FORMAT');
    expect(toIdplaneError(new StateAccessError('cannot use the state at .idplane/state.db: the folder .idplane is read-only')).code).toBe('STATE_ACCESS');
    const provider = toIdplaneError(new ProviderError('hr', 'cannot read data/hr.csv: no such file'));
    expect([provider.code, provider.message]).toEqual(['PROVIDER_ERROR', 'hr: cannot read data/hr.csv: no such file']);
  });

  it('tells the JavaScript engine\'s fixed limits and operating-system errors apart from bugs', () => {
    expect(toIdplaneError(new RangeError('Invalid string length')).code).toBe('ENGINE_LIMIT');
    const denied = Object.assign(new Error('EACCES: permission denied, open \'.idplane/state.ndjson\''), { code: 'EACCES', errno: -13, syscall: 'open' });
    expect(toIdplaneError(denied)).toMatchObject({ code: 'OS_ERROR', message: denied.message });
  });

  it('makes anything else INTERNAL, keeping what was thrown as the cause', () => {
    const bug = new TypeError('x is undefined');
    const internal = toIdplaneError(bug);
    expect([internal.code, internal.message, internal.cause]).toEqual(['INTERNAL', 'x is undefined', bug]);
    // A code of its own that the engine does not know is not adopted.
    expect(toIdplaneError(Object.assign(new Error('odd'), { code: 'E0000011' })).code).toBe('INTERNAL');
    expect(toIdplaneError('a string').message).toBe('a string');
  });

  it('lists every code once', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES).toContain('LOCK_HELD');
    expect(ERROR_CODES).toContain('INTERNAL');
  });
});
