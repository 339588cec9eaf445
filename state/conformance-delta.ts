/**
 * The conformance suite's part on delta writes (StateStore.writeDelta) and head(): a delta write stores
 * exactly what applyStateDelta gives (users and links in order; imported records as sets, whose order no
 * backend promises) as another store reads it back, over a long random sequence of plans; it refuses a
 * stale expectation and writes nothing; its journal entries and run record are part of it; it touches
 * only the user rows it names; a full write after it (from a fresh read) is whole; head() is what a
 * read says, without the directory.
 */
import { describe, expect, it } from 'vitest';
import { emptyState, type DirectoryState } from '../reconciler/model.ts';
import { applyStateDelta, stateDelta } from '../reconciler/state-delta.ts';
import { random, randomChanges } from '../reconciler/testing.ts';
import { change, evolve, run, sampleState } from './conformance-fixtures.ts';
import type { ConformanceContext } from './conformance-context.ts';
import { StaleStateError } from './types.ts';

/** The state as data, imported records as sorted sets (no backend promises their order). */
function comparable(state: DirectoryState): unknown {
  return {
    lineage: state.lineage, serial: state.serial, users: state.users, links: state.links, watermarks: state.watermarks,
    pipeline: state.pipeline, edited: state.edited,
    imported: [...state.imported].sort(([a], [b]) => (a < b ? -1 : 1)).map(([app, r]) => [app, r.columns, [...r.records].sort(([a], [b]) => (a < b ? -1 : 1))]),
  };
}

export function deltaConformance(ctx: ConformanceContext): void {
  describe('delta writes', () => {
    it('store what applyStateDelta gives, content and order, over random plans', async () => {
      const next = random(11);
      let expected: DirectoryState = emptyState();
      for (let round = 0; round < 25; round++) {
        const delta = stateDelta(expected, randomChanges(expected, next, round), 'lineage-d');
        const digest = await ctx.store().writeDelta(delta, { lineage: expected.lineage, serial: expected.serial });
        expected = applyStateDelta(expected, delta);
        const read = await (await ctx.reopen()).read();
        expect(comparable(read), `round ${round}`).toEqual(comparable(expected));
        expect(read.digest).toBe(digest);
      }
      expect(expected.links.length).toBeGreaterThan(5);
    });

    it('refuse a stale serial or digest and write nothing', async () => {
      const store = ctx.store();
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      const read = await store.read();
      const delta = stateDelta(read, { users: [{ action: 'update', id: 'u1', login: 'user1@example.com', before: null, after: { ...read.users[1]!, status: 'ACTIVE' }, reason: '' }], links: [], imports: [], watermarks: [], evaluated: 'changed', fingerprints: { config: 'c', pipeline: 'p', inputs: {}, targets: {} } }, 'x');
      await expect(store.writeDelta(delta, { lineage: read.lineage, serial: 0 }, [change('r1', 0, 'user1@example.com')])).rejects.toBeInstanceOf(StaleStateError);
      if (ctx.subject().checksDigest) await expect(store.writeDelta(delta, { lineage: read.lineage, serial: 1, digest: 'not-it' })).rejects.toBeInstanceOf(StaleStateError);
      const after = await (await ctx.reopen()).read();
      expect(after.users[1]!.status).toBe('SUSPENDED');
      expect(after.digest).toBe(read.digest);
      expect((await store.history()).changes).toEqual([]);
    });

    it('store their journal entries and run record with them, and touch only the user rows they name', async () => {
      const store = ctx.store();
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      const read = await store.read();
      const u2 = read.users[2]!;
      const delta = stateDelta(read, { users: [{ action: 'activate', id: u2.id, login: u2.login, before: u2, after: { ...u2, status: 'ACTIVE' }, reason: '' }], links: [], imports: [], watermarks: [], evaluated: 'changed', fingerprints: { config: 'c', pipeline: 'p', inputs: {}, targets: {} } }, 'x');
      const done = run('jit-1', '2024-06-02T10:00:00.000Z', { command: 'serve jit', serialBefore: 1, serialAfter: 2, outcome: 'succeeded', finishedAt: '2024-06-02T10:00:00.010Z' });
      const rows = await ctx.subject().userRowWrites(async () => {
        await store.writeDelta(delta, { lineage: read.lineage, serial: read.serial, digest: read.digest }, [change('jit-1', 0, u2.login)], done);
      });
      expect(rows).toBe(1);
      const history = await (await ctx.reopen()).history();
      expect(history.runs).toEqual([done]);
      expect(history.changes).toEqual([change('jit-1', 0, u2.login)]);
    });

    it('leave a later full write (made from a fresh read) whole, and head() says what a read says', async () => {
      const store = ctx.store();
      expect(await store.head()).toEqual({ lineage: null, serial: 0, digest: null });
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      let read = await store.read();
      const delta = stateDelta(read, randomChanges(read, random(5), 0), 'x');
      await store.writeDelta(delta, { lineage: read.lineage, serial: read.serial });
      read = await store.read();
      expect(comparable(read)).toEqual(comparable(await (await ctx.reopen()).read()));
      const { lineage, serial, digest } = read;
      expect(await store.head()).toEqual({ lineage, serial, digest });
      const next = evolve(read, 1);
      await store.write(next, { lineage, serial, digest });
      expect(comparable(await (await ctx.reopen()).read())).toEqual(comparable(next));
    });
  });
}
