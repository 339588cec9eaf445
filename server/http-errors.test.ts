/** The server's table from error codes to HTTP answers: statuses, codes, messages and Retry-After. */
import { describe, expect, it } from 'vitest';
import { IdplaneError } from '../engine/errors.ts';
import { LockHeldError, StateFormatError } from '../state/types.ts';
import { answerFor, HttpError } from './http-errors.ts';
import { QueueTimeout } from './jit-batcher.ts';
import { ShuttingDown } from './runner.ts';

const holder = { id: 'L1', operation: 'apply', who: 'ci', host: 'h', pid: 7, created: '' };

function answer(error: unknown, lockTimeoutMs = 30_000): HttpError {
  const answered = answerFor(error, lockTimeoutMs);
  expect(answered).toBeInstanceOf(HttpError);
  return answered as HttpError;
}

describe('answerFor', () => {
  it('refuses an account that is not one (400) and one it cannot provision (409) with their own code and message', () => {
    expect(answer(new IdplaneError('JIT_INPUT', 'hr: the body is not JSON'))).toMatchObject({ status: 400, code: 'JIT_INPUT', message: 'hr: the body is not JSON', headers: {} });
    for (const code of ['JIT_REVIEW', 'JIT_CONFLICT', 'JIT_BLOCKED'] as const) {
      expect(answer(new IdplaneError(code, `hr/1: ${code}`))).toMatchObject({ status: 409, code, message: `hr/1: ${code}` });
    }
  });

  it('asks to come back later when the lock stayed held, the queue did not move, or the server stops', () => {
    // The state's own error, as a run throws it, is adopted at the boundary with its holder.
    expect(answer(new LockHeldError(holder, '.idplane'), 12_000)).toMatchObject({
      status: 503, code: 'LOCKED', headers: { 'retry-after': '12' },
      message: 'the state is locked by another run (apply) and stayed so for 12 s (serve.lockTimeout); try again',
    });
    expect(answer(new QueueTimeout(400), 400)).toMatchObject({ status: 503, code: 'BUSY', headers: { 'retry-after': '1' }, message: expect.stringMatching(/^the server is busy: the runs queued before it did not end within 0 s/) });
    expect(answer(new ShuttingDown())).toMatchObject({ status: 503, code: 'STOPPING', headers: { 'retry-after': '5' }, message: 'idplane serve is shutting down; the request was not run' });
  });

  it('hands back every other error as it was thrown, for the log and a 500', () => {
    const damaged = new StateFormatError('state.ndjson: damaged');
    expect(answerFor(damaged, 1000)).toBe(damaged);
    const bug = new TypeError('x is undefined');
    expect(answerFor(bug, 1000)).toBe(bug);
  });
});
