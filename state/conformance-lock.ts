/**
 * The lock part of the StateStore conformance suite (state/conformance.ts registers it): exclusive, fails
 * fast naming the holder, waits with waitMs, and force-unlock by id.
 */
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformance-context.ts';
import { LockHeldError, StateFormatError } from './types.ts';

const REQUEST = { operation: 'apply', who: 'alice', host: 'ci-runner-7', pid: process.pid };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

export function lockConformance(ctx: ConformanceContext): void {
  describe('lock', () => {
    it('is exclusive: a second lock fails fast with LockHeldError naming the holder', async () => {
      const handle = await ctx.store().lock(REQUEST);
      expect(handle.info).toMatchObject(REQUEST);
      expect(handle.info.id).toMatch(/\S/);
      expect(Number.isNaN(Date.parse(handle.info.created))).toBe(false);
      for (const contender of [ctx.store(), await ctx.reopen()]) {
        const started = Date.now();
        const error = await rejection(contender.lock({ ...REQUEST, operation: 'plan', who: 'bob' }));
        expect(Date.now() - started).toBeLessThan(2000);
        expect(error).toBeInstanceOf(LockHeldError);
        expect((error as LockHeldError).holder).toEqual(handle.info);
        expect(error.message).toContain('alice@ci-runner-7');
        expect(error.message).toContain('for apply');
        expect(error.message).toContain(handle.info.id);
      }
      await handle.release();
    });

    it('can be taken again once released, by this store or another', async () => {
      const first = await ctx.store().lock(REQUEST);
      await first.release();
      await first.release(); // releasing twice is harmless
      const second = await (await ctx.reopen()).lock({ ...REQUEST, who: 'bob' });
      expect(second.info.id).not.toBe(first.info.id);
      await expect(ctx.store().lock(REQUEST)).rejects.toBeInstanceOf(LockHeldError);
      await second.release();
      await (await ctx.store().lock(REQUEST)).release();
    });

    it('with waitMs, waits until the holder releases', async () => {
      const holder = await ctx.store().lock(REQUEST);
      const timer = setTimeout(() => void holder.release(), 200);
      try {
        const started = Date.now();
        const handle = await (await ctx.reopen()).lock({ ...REQUEST, who: 'bob' }, { waitMs: 10_000 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(150);
        expect(handle.info.who).toBe('bob');
        await handle.release();
      } finally {
        clearTimeout(timer);
      }
    });

    it('with waitMs, gives up with LockHeldError when the holder keeps it', async () => {
      const holder = await ctx.store().lock(REQUEST);
      const started = Date.now();
      const error = await rejection((await ctx.reopen()).lock({ ...REQUEST, who: 'bob' }, { waitMs: 300 }));
      expect(error).toBeInstanceOf(LockHeldError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      expect(Date.now() - started).toBeLessThan(5000);
      await holder.release();
    });

    it('forceUnlock refuses a wrong id, naming the real one, and keeps the lock', async () => {
      const holder = await ctx.store().lock(REQUEST);
      const other = await ctx.reopen();
      const error = await rejection(other.forceUnlock('not-the-id'));
      expect(error).toBeInstanceOf(StateFormatError);
      expect(error.message).toContain(holder.info.id);
      await expect(other.lock(REQUEST)).rejects.toBeInstanceOf(LockHeldError);
      await holder.release();
    });

    it('forceUnlock with the right id releases the lock; the old handle then releases nothing', async () => {
      const abandoned = await ctx.store().lock(REQUEST);
      const other = await ctx.reopen();
      await other.forceUnlock(abandoned.info.id);
      const next = await other.lock({ ...REQUEST, who: 'bob' });
      await abandoned.release();
      const error = await rejection(ctx.store().lock(REQUEST));
      expect(error).toBeInstanceOf(LockHeldError);
      expect((error as LockHeldError).holder.who).toBe('bob');
      await next.release();
    });

    it('forceUnlock when no lock is held is refused', async () => {
      await expect(ctx.store().forceUnlock('whatever')).rejects.toBeInstanceOf(StateFormatError);
    });
  });
}
