/**
 * Waiting for a lock (`--lock-timeout`): retries only on LockHeldError, with a short growing pause, until
 * the lock is taken or the time is up; then the last LockHeldError, naming the holder, is thrown.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LockHeldError, type LockHandle } from './types.ts';

export async function waitForLock(attempt: () => Promise<LockHandle>, waitMs: number): Promise<LockHandle> {
  const deadline = Date.now() + waitMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof LockHeldError) || Date.now() + pause > deadline) throw error;
      await sleep(pause);
    }
  }
}
