/**
 * The history and one-user parts of the StateStore conformance suite (state/conformance.ts registers
 * them): runs and the journal, their order, limit, `since` and login filters; and readUser, one user
 * with its links and imported records read by index.
 */
import { describe, expect, it } from 'vitest';
import { importedRecord, type DirectoryState } from '../reconciler/model.ts';
import { change, evolve, run, sampleState } from './conformance-fixtures.ts';
import type { ConformanceContext } from './conformance-context.ts';
import type { RunRecord } from './types.ts';

export function historyConformance(ctx: ConformanceContext): void {
  describe('history', () => {
    it('journal entries written with a state write appear in history with their run', async () => {
      const started = run('r1', '2024-06-01T10:00:00.000Z');
      await ctx.store().recordRun(started);
      const changes = [change('r1', 0, 'zoë@example.com'), change('r1', 1, 'bob@example.com', { kind: 'link', action: 'link', app: 'hr', key: '1001', attributes: null })];
      await ctx.store().write(sampleState(1), { lineage: null, serial: 0 }, changes);
      const history = await (await ctx.reopen()).history();
      expect(history.runs).toEqual([started]);
      expect(history.changes).toEqual(changes);
    });

    it('journal() appends entries outside state writes, returned in seq order', async () => {
      await ctx.store().recordRun(run('r1', '2024-06-01T10:00:00.000Z'));
      const pending = [change('r1', 2, 'a', { kind: 'account', action: 'create', app: 'scim', key: 'a', outcome: 'pending' }), change('r1', 0, 'b')];
      await ctx.store().journal(pending);
      await ctx.store().journal([]);
      await ctx.store().journal([change('r1', 1, 'c', { outcome: 'failed', message: 'HTTP 500: «boom»' })]);
      const history = await ctx.store().history();
      expect(history.changes.map((c) => [c.seq, c.login, c.outcome])).toEqual([[0, 'b', 'done'], [1, 'c', 'failed'], [2, 'a', 'pending']]);
      expect(history.changes[1]!.message).toBe('HTTP 500: «boom»');
    });

    it('recordRun at start and at finish keeps one run with the final outcome', async () => {
      await ctx.store().recordRun(run('r1', '2024-06-01T10:00:00.000Z'));
      const finished = run('r1', '2024-06-01T10:00:00.000Z', {
        finishedAt: '2024-06-01T10:00:05.000Z', serialAfter: 1, outcome: 'partial', message: '1 account change(s) failed',
        summary: { users: { create: 1, update: 0, deactivate: 0 } } as unknown as RunRecord['summary'],
      });
      await ctx.store().recordRun(finished);
      expect((await (await ctx.reopen()).history()).runs).toEqual([finished]);
    });

    it('history lists the most recent runs first, limited, and filters by login case-insensitively', async () => {
      for (let i = 0; i < 25; i++) await ctx.store().recordRun(run(`run-${String(i).padStart(2, '0')}`, `2024-06-${String(i + 1).padStart(2, '0')}T10:00:00.000Z`));
      await ctx.store().journal([change('run-00', 0, 'Alice@Example.com'), change('run-00', 1, 'bob@example.com'), change('run-03', 0, 'alice@example.com'), change('run-10', 0, 'carol@example.com'), change('run-24', 0, 'carol@example.com')]);
      const all = await ctx.store().history();
      expect(all.runs.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `run-${String(24 - i).padStart(2, '0')}`));
      expect(all.changes.map((c) => c.runId).sort()).toEqual(['run-10', 'run-24']); // only the listed runs' changes
      expect((await ctx.store().history({ limit: 2 })).runs.map((r) => r.id)).toEqual(['run-24', 'run-23']);
      const alice = await ctx.store().history({ login: 'ALICE@example.COM' });
      expect(alice.runs.map((r) => r.id)).toEqual(['run-03', 'run-00']);
      expect(alice.changes.map((c) => [c.runId, c.login]).sort()).toEqual([['run-00', 'Alice@Example.com'], ['run-03', 'alice@example.com']]);
      expect((await ctx.store().history({ login: 'alice@example.com', limit: 1 })).runs.map((r) => r.id)).toEqual(['run-03']);
      expect(await ctx.store().history({ login: 'nobody' })).toEqual({ runs: [], changes: [] });
    });
  });

  describe('history narrowed by app and action, or without changes', () => {
    it('lists the runs with such changes and only those changes; changes: false gives the runs alone', async () => {
      const store = ctx.store();
      for (let i = 0; i < 4; i++) await store.recordRun(run(`run-${i}`, `2024-06-0${i + 1}T10:00:00.000Z`));
      await store.journal([
        change('run-0', 0, 'a@example.com', { kind: 'account', action: 'create', app: 'crm', key: 'k1' }),
        change('run-0', 1, 'a@example.com'),
        change('run-1', 0, 'b@example.com', { kind: 'account', action: 'disable', app: 'crm', key: 'k2' }),
        change('run-2', 0, 'b@example.com', { kind: 'link', action: 'link', app: 'hr', key: '7' }),
        change('run-3', 0, 'c@example.com', { action: 'deactivate' }),
      ]);
      const ids = (runs: RunRecord[]) => runs.map((r) => r.id);
      const crm = await store.history({ app: 'crm' });
      expect(ids(crm.runs)).toEqual(['run-1', 'run-0']);
      expect(crm.changes.map((c) => [c.runId, c.action, c.key])).toEqual([['run-0', 'create', 'k1'], ['run-1', 'disable', 'k2']]);
      const deactivations = await store.history({ action: 'deactivate' });
      expect(ids(deactivations.runs)).toEqual(['run-3']);
      expect(deactivations.changes.map((c) => c.login)).toEqual(['c@example.com']);
      expect((await store.history({ app: 'crm', action: 'disable', login: 'B@example.com' })).changes.map((c) => c.key)).toEqual(['k2']);
      const runsOnly = await store.history({ changes: false });
      expect(ids(runsOnly.runs)).toEqual(['run-3', 'run-2', 'run-1', 'run-0']);
      expect(runsOnly.changes).toEqual([]);
    });
  });

  describe('history since a time', () => {
    it('lists only the runs started then or later, most recent first, with limit and login', async () => {
      const store = ctx.store();
      for (let i = 0; i < 10; i++) await store.recordRun(run(`run-${i}`, `2024-06-${String(i + 1).padStart(2, '0')}T10:00:00.000Z`));
      await store.journal([change('run-3', 0, 'Alice@example.com'), change('run-7', 0, 'alice@example.com'), change('run-8', 0, 'bob@example.com')]);
      const ids = (runs: RunRecord[]) => runs.map((r) => r.id);
      const since = await store.history({ since: '2024-06-07T10:00:00.000Z' });
      expect(ids(since.runs)).toEqual(['run-9', 'run-8', 'run-7', 'run-6']);
      expect(since.changes.map((c) => [c.runId, c.login])).toEqual([['run-7', 'alice@example.com'], ['run-8', 'bob@example.com']]);
      expect(ids((await store.history({ since: '2024-06-07T10:00:00.000Z', limit: 2 })).runs)).toEqual(['run-9', 'run-8']);
      expect(ids((await store.history({ since: '2024-06-02T00:00:00.000Z', login: 'ALICE@example.com' })).runs)).toEqual(['run-7', 'run-3']);
      expect(ids((await store.history({ since: '2024-06-05T00:00:00.000Z', login: 'alice@example.com' })).runs)).toEqual(['run-7']);
      expect(await store.history({ since: '2025-01-01T00:00:00.000Z' })).toEqual({ runs: [], changes: [] });
    });
  });

  describe('one user', () => {
    it('reads one user by login without regard to case, with its links in order and their imported records', async () => {
      const store = ctx.store();
      expect(store.readUser).toBeDefined();
      expect(await store.readUser!('user1@example.com')).toBeNull();
      const state = sampleState(1);
      await store.write(state, { lineage: null, serial: 0 });
      const other = await ctx.reopen();
      const linksOf = (s: DirectoryState, id: string) => s.links.filter((l) => l.userId === id).map((l) => ({ ...l, imported: importedRecord(s.imported, l.app, l.key) ?? null }));
      // ASCII letters in another case; the others as stored.
      const zoe = await other.readUser!('zoë.ångström@EXAMPLE.COM');
      expect(zoe).toEqual({ user: state.users[0], links: linksOf(state, 'u0') });
      expect(zoe!.links.map((l) => [l.app, l.key, l.imported !== null])).toEqual([['hr', '1001', true], ['ldap', 'cn=Zoë,ou=People', false]]);
      expect(await other.readUser!('USER1@example.com')).toEqual({ user: state.users[1], links: linksOf(state, 'u1') });
      expect(await other.readUser!('user2@example.com')).toEqual({ user: state.users[2], links: [] });
      expect(await other.readUser!('nobody@example.com')).toBeNull();
      // What a later write stored.
      const next = evolve(await store.read(), 0);
      await store.write(next, { lineage: next.lineage, serial: 1 });
      expect(await other.readUser!('user1@example.com')).toEqual({ user: next.users.find((u) => u.id === 'u1'), links: linksOf(next, 'u1') });
      expect(await other.readUser!('zoë.ångström@example.com')).toBeNull();
    });
  });
}
