/**
 * The one conformance suite every state backend passes (in the manner of Terraform's statemgr testing):
 * `stateConformance(name, open)` registers vitest tests against the StateStore contract of state/types.ts.
 * `open` makes a fresh, empty state and returns a store on it, `reopen` (another store on the same state,
 * as a second process would open it), `editOutside` (changes one user's stored profile value the way
 * someone outside idplane would: a text editor, an SQL UPDATE), whether the backend refuses a write
 * against a stale digest, and `cleanup`. The suite closes every store it was given or reopened before
 * calling cleanup. Tests take no more than a few seconds each on a local backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, importedRecord, type DirectoryState } from '../reconciler/model.ts';
import { packValues, unpackValues } from '../reconciler/records.ts';
import { appRecords, asRead, change, evolve, own, run, sampleState, user } from './conformance-fixtures.ts';
import { LockHeldError, StaleStateError, StateFormatError, type RunRecord, type StateStore } from './types.ts';

export interface ConformanceSubject {
  store: StateStore;
  reopen: () => Promise<StateStore>;
  /** Changes one user's stored profile value behind the store's back, as an edit outside idplane would. */
  editOutside: () => Promise<void>;
  /** Whether write() refuses an `expected.digest` that is not the stored content's (backends that can tell cheaply). */
  checksDigest: boolean;
  cleanup: () => Promise<void>;
}

const REQUEST = { operation: 'apply', who: 'alice', host: 'ci-runner-7', pid: process.pid };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

export function stateConformance(name: string, open: () => Promise<ConformanceSubject>): void {
  describe(`${name}: StateStore conformance`, () => {
    let subject: ConformanceSubject;
    let store: StateStore;
    const others: StateStore[] = [];
    const reopen = async (): Promise<StateStore> => {
      const other = await subject.reopen();
      others.push(other);
      return other;
    };

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });

    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await store.close();
      await subject.cleanup();
    });

    describe('state', () => {
      it('reads the empty state before the first write', async () => {
        expect(await store.read()).toEqual(emptyState());
        expect(typeof store.location).toBe('string');
      });

      it('round-trips users, links, imported records, watermarks and the pipeline exactly, in order', async () => {
        const state = sampleState();
        await store.write(state, { lineage: null, serial: 0 });
        const read = await store.read();
        expect(read).toEqual(asRead(state));
        expect(read.users.map((u) => u.id)).toEqual(['u0', 'u1', 'u2']);
        expect(read.links.map((l) => l.key)).toEqual(['1001', 'cn=Zoë,ou=People', '1002']);
        // Packed values come back as the very text stored.
        for (const [app, { columns, records }] of state.imported) {
          expect(read.imported.get(app)?.columns).toEqual(columns);
          for (const [key, record] of records) expect(importedRecord(read.imported, app, key)?.values).toBe(record.values);
        }
        // Keys are data, never the prototype's.
        const hr = read.imported.get('hr')!;
        expect(unpackValues(hr.columns, importedRecord(read.imported, 'hr', '__proto__')!.values)).toEqual(own([
          ['first_name', ''], ['note', ''], ['__proto__', 'not a prototype'], ['constructor', 'data'], ['never_set', ''],
        ]));
        expect(importedRecord(read.imported, 'hr', 'constructor')).toEqual({ values: '["Con"]', disabled: true });
        expect(importedRecord(read.imported, 'constructor', 'hasOwnProperty')).toEqual({ values: '["y"]', disabled: false });
        expect(importedRecord(read.imported, 'hr', 'valueOf')).toBeUndefined();
        expect(read.imported.get('empty')).toEqual({ columns: ['a', 'b'], records: new Map() });
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });

      it('keeps lineage and serial as written', async () => {
        await store.write(sampleState(1, 'lineage-a'), { lineage: null, serial: 0 });
        expect(await store.read()).toMatchObject({ lineage: 'lineage-a', serial: 1 });
        await store.write(sampleState(2, 'lineage-a'), { lineage: 'lineage-a', serial: 1 });
        expect(await store.read()).toMatchObject({ lineage: 'lineage-a', serial: 2 });
        // A migrated state keeps the serial it had.
        await store.write(sampleState(41, 'lineage-b'), { lineage: 'lineage-a', serial: 2 });
        expect(await (await reopen()).read()).toMatchObject({ lineage: 'lineage-b', serial: 41 });
      });

      it('refuses a write against a stale serial, leaving the state and history unchanged', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        await store.recordRun(run('r1', '2024-06-01T10:00:00.000Z'));
        const error = await rejection(store.write(sampleState(2), { lineage: 'lineage-a', serial: 0 }, [change('r1', 0, 'zoe')]));
        expect(error).toBeInstanceOf(StaleStateError);
        expect(error.message).toBe('the state moved since it was read (expected lineage lineage-a serial 0, found lineage lineage-a serial 1)');
        expect(await store.read()).toEqual(asRead(sampleState(1)));
        expect((await store.history()).changes).toEqual([]);
      });

      it('refuses a write against another lineage, or against none when one exists', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const other = await rejection(store.write(sampleState(2), { lineage: 'lineage-z', serial: 1 }));
        expect(other).toBeInstanceOf(StaleStateError);
        expect(other.message).toBe('the state moved since it was read (expected lineage lineage-z serial 1, found lineage lineage-a serial 1)');
        const none = await rejection(store.write(sampleState(1, 'lineage-b'), { lineage: null, serial: 0 }));
        expect(none.message).toBe('the state moved since it was read (expected lineage none serial 0, found lineage lineage-a serial 1)');
        expect(await store.read()).toEqual(asRead(sampleState(1)));
      });

      it('refuses a write from a store that read before another store wrote', async () => {
        const second = await reopen();
        const seen = await second.read();
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        await expect(second.write(evolve(seen, 0), { lineage: seen.lineage, serial: seen.serial, digest: seen.digest })).rejects.toBeInstanceOf(StaleStateError);
        expect(await second.read()).toEqual(asRead(sampleState(1)));
      });

      it('tells a reader how far it is: the whole file in bytes, or every row of users, links and records', async () => {
        const state = sampleState(1);
        await store.write(state, { lineage: null, serial: 0 });
        const calls: { done: number; total: number | undefined; unit: string }[] = [];
        expect(await store.read({ onProgress: (done, total, unit) => calls.push({ done, total, unit }) })).toEqual(asRead(state));
        const last = calls.at(-1)!;
        const rows = state.users.length + state.links.length + [...state.imported.values()].reduce((n, a) => n + a.records.size, 0);
        expect(last).toEqual(last.unit === 'bytes' ? { done: last.total, total: expect.any(Number), unit: 'bytes' } : { done: rows, total: undefined, unit: 'rows' });
        expect(calls.map((c) => c.done)).toEqual([...calls.map((c) => c.done)].sort((a, b) => a - b));
      });

      it('a reopened store reads the same state', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        expect(await (await reopen()).read()).toEqual(asRead(sampleState(1)));
      });

      it('writes built from the read state (changed, added, removed records) read back exactly', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        for (let step = 0; step < 4; step++) {
          const current = await store.read();
          const next = evolve(current, step);
          await store.write(next, { lineage: current.lineage, serial: current.serial, digest: current.digest });
          expect(await store.read()).toEqual(asRead(next));
          expect(await (await reopen()).read()).toEqual(asRead(next));
        }
        // A write from another store in between, then this store builds on what it reads again.
        const second = await reopen();
        const theirs = evolve(await second.read(), 9);
        await second.write(theirs, { lineage: theirs.lineage, serial: theirs.serial - 1 });
        const mine = await store.read();
        expect(mine).toEqual(asRead(theirs));
        const next = evolve(mine, 10);
        await store.write(next, { lineage: mine.lineage, serial: mine.serial, digest: mine.digest });
        expect(await (await reopen()).read()).toEqual(asRead(next));
      });

      it('keeps the order of a reordered user list', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const current = await store.read();
        const next = { ...current, serial: 2, users: [...current.users].reverse(), links: [...current.links].reverse() };
        await store.write(next, { lineage: current.lineage, serial: 1 });
        expect(await (await reopen()).read()).toEqual(asRead(next));
      });

      it('round-trips a large state (20k users) and a small change to it', async () => {
        const users = Array.from({ length: 20_000 }, (_, i) => user(i));
        const hr = appRecords(['first_name', 'email'], users.map((_, i) => [String(100_000 + i), { first_name: `Zoë ${i}`, email: `user${i}@example.com` }, i % 50 === 0]));
        const big: DirectoryState = {
          ...emptyState(), lineage: 'lineage-big', serial: 1, users, links: users.map((u, i) => ({ app: 'hr', key: String(100_000 + i), userId: u.id })),
          imported: new Map([['hr', hr]]), pipeline: 'sha256:big',
        };
        await store.write(big, { lineage: null, serial: 0 });
        const read = await store.read();
        expect(read).toEqual(asRead(big));
        const records = new Map(read.imported.get('hr')!.records);
        records.set('100003', { values: packValues(['first_name', 'email'], { first_name: 'Changed' }), disabled: true });
        records.delete('100004');
        const next = {
          ...read, serial: 2, users: read.users.map((u, i) => (i % 100 === 0 ? { ...u, status: 'SUSPENDED' as const } : u)).filter((u) => u.id !== 'u7'),
          imported: new Map([['hr', { columns: read.imported.get('hr')!.columns, records }]]),
        };
        await store.write(next, { lineage: 'lineage-big', serial: 1, digest: read.digest });
        expect(await (await reopen()).read()).toEqual(asRead(next));
      });
    });

    describe('pipeline, edited and digest', () => {
      it('stores the pipeline fingerprint and the edited flag as written', async () => {
        await store.write({ ...sampleState(1), pipeline: 'sha256:one', edited: true }, { lineage: null, serial: 0 });
        expect(await (await reopen()).read()).toMatchObject({ pipeline: 'sha256:one', edited: true });
        await store.write({ ...sampleState(2), pipeline: null, edited: false }, { lineage: 'lineage-a', serial: 1 });
        expect(await (await reopen()).read()).toMatchObject({ pipeline: null, edited: false });
      });

      it('sets a digest on read that stays while nothing changes and moves with every write', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const first = await store.read();
        expect(typeof first.digest).toBe('string');
        expect((await (await reopen()).read()).digest).toBe(first.digest);
        // The same content written again is still a new write.
        await store.write(sampleState(2), { lineage: 'lineage-a', serial: 1, digest: first.digest });
        const second = await store.read();
        expect(second.digest).not.toBe(first.digest);
        expect((await (await reopen()).read()).digest).toBe(second.digest);
      });

      it('an edit made outside idplane marks the state edited, with another digest, until a write says every user was checked', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const before = await store.read();
        expect(before.edited).toBe(false);
        await subject.editOutside();
        const edited = await store.read();
        expect(edited).toMatchObject({ lineage: 'lineage-a', serial: 1, edited: true });
        expect(edited.digest).not.toBe(before.digest);
        expect((await (await reopen()).read()).edited).toBe(true);

        // A write that has not re-checked everyone keeps the mark.
        await store.write({ ...edited, serial: 2, edited: true }, { lineage: 'lineage-a', serial: 1, digest: edited.digest });
        const kept = await store.read();
        expect(kept.edited).toBe(true);
        // One that has clears it, and the content is idplane's again.
        await store.write({ ...sampleState(3), edited: false }, { lineage: 'lineage-a', serial: 2, digest: kept.digest });
        expect(await store.read()).toEqual(asRead(sampleState(3)));
        expect((await (await reopen()).read()).edited).toBe(false);
      });

      it('refuses a write against a digest the stored content no longer has, writing nothing (where the backend checks)', async (context) => {
        if (!subject.checksDigest) context.skip();
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const seen = await store.read();
        await subject.editOutside();
        const error = await rejection(store.write(evolve(seen, 0), { lineage: seen.lineage, serial: seen.serial, digest: seen.digest }, [change('r1', 0, 'zoe')]));
        expect(error).toBeInstanceOf(StaleStateError);
        const now = await (await reopen()).read();
        expect(now).toMatchObject({ serial: 1, edited: true });
        expect(now.digest).not.toBe(seen.digest);
        expect((await store.history()).changes).toEqual([]);
        await store.write(evolve(now, 0), { lineage: now.lineage, serial: now.serial, digest: now.digest });
        expect((await store.read()).serial).toBe(2);
      });
    });

    describe('history', () => {
      it('journal entries written with a state write appear in history with their run', async () => {
        const started = run('r1', '2024-06-01T10:00:00.000Z');
        await store.recordRun(started);
        const changes = [change('r1', 0, 'zoë@example.com'), change('r1', 1, 'bob@example.com', { kind: 'link', action: 'link', app: 'hr', key: '1001', attributes: null })];
        await store.write(sampleState(1), { lineage: null, serial: 0 }, changes);
        const history = await (await reopen()).history();
        expect(history.runs).toEqual([started]);
        expect(history.changes).toEqual(changes);
      });

      it('journal() appends entries outside state writes, returned in seq order', async () => {
        await store.recordRun(run('r1', '2024-06-01T10:00:00.000Z'));
        const pending = [change('r1', 2, 'a', { kind: 'account', action: 'create', app: 'scim', key: 'a', outcome: 'pending' }), change('r1', 0, 'b')];
        await store.journal(pending);
        await store.journal([]);
        await store.journal([change('r1', 1, 'c', { outcome: 'failed', message: 'HTTP 500: «boom»' })]);
        const history = await store.history();
        expect(history.changes.map((c) => [c.seq, c.login, c.outcome])).toEqual([[0, 'b', 'done'], [1, 'c', 'failed'], [2, 'a', 'pending']]);
        expect(history.changes[1]!.message).toBe('HTTP 500: «boom»');
      });

      it('recordRun at start and at finish keeps one run with the final outcome', async () => {
        await store.recordRun(run('r1', '2024-06-01T10:00:00.000Z'));
        const finished = run('r1', '2024-06-01T10:00:00.000Z', {
          finishedAt: '2024-06-01T10:00:05.000Z', serialAfter: 1, outcome: 'partial', message: '1 account change(s) failed',
          summary: { users: { create: 1, update: 0, deactivate: 0 } } as unknown as RunRecord['summary'],
        });
        await store.recordRun(finished);
        expect((await (await reopen()).history()).runs).toEqual([finished]);
      });

      it('history lists the most recent runs first, limited, and filters by login case-insensitively', async () => {
        for (let i = 0; i < 25; i++) await store.recordRun(run(`run-${String(i).padStart(2, '0')}`, `2024-06-${String(i + 1).padStart(2, '0')}T10:00:00.000Z`));
        await store.journal([change('run-00', 0, 'Alice@Example.com'), change('run-00', 1, 'bob@example.com'), change('run-03', 0, 'alice@example.com'), change('run-10', 0, 'carol@example.com'), change('run-24', 0, 'carol@example.com')]);
        const all = await store.history();
        expect(all.runs.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `run-${String(24 - i).padStart(2, '0')}`));
        expect(all.changes.map((c) => c.runId).sort()).toEqual(['run-10', 'run-24']); // only the listed runs' changes
        expect((await store.history({ limit: 2 })).runs.map((r) => r.id)).toEqual(['run-24', 'run-23']);
        const alice = await store.history({ login: 'ALICE@example.COM' });
        expect(alice.runs.map((r) => r.id)).toEqual(['run-03', 'run-00']);
        expect(alice.changes.map((c) => [c.runId, c.login]).sort()).toEqual([['run-00', 'Alice@Example.com'], ['run-03', 'alice@example.com']]);
        expect((await store.history({ login: 'alice@example.com', limit: 1 })).runs.map((r) => r.id)).toEqual(['run-03']);
        expect(await store.history({ login: 'nobody' })).toEqual({ runs: [], changes: [] });
      });
    });

    describe('lock', () => {
      it('is exclusive: a second lock fails fast with LockHeldError naming the holder', async () => {
        const handle = await store.lock(REQUEST);
        expect(handle.info).toMatchObject(REQUEST);
        expect(handle.info.id).toMatch(/\S/);
        expect(Number.isNaN(Date.parse(handle.info.created))).toBe(false);
        for (const contender of [store, await reopen()]) {
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
        const first = await store.lock(REQUEST);
        await first.release();
        await first.release(); // releasing twice is harmless
        const second = await (await reopen()).lock({ ...REQUEST, who: 'bob' });
        expect(second.info.id).not.toBe(first.info.id);
        await expect(store.lock(REQUEST)).rejects.toBeInstanceOf(LockHeldError);
        await second.release();
        await (await store.lock(REQUEST)).release();
      });

      it('with waitMs, waits until the holder releases', async () => {
        const holder = await store.lock(REQUEST);
        const timer = setTimeout(() => void holder.release(), 200);
        try {
          const started = Date.now();
          const handle = await (await reopen()).lock({ ...REQUEST, who: 'bob' }, { waitMs: 10_000 });
          expect(Date.now() - started).toBeGreaterThanOrEqual(150);
          expect(handle.info.who).toBe('bob');
          await handle.release();
        } finally {
          clearTimeout(timer);
        }
      });

      it('with waitMs, gives up with LockHeldError when the holder keeps it', async () => {
        const holder = await store.lock(REQUEST);
        const started = Date.now();
        const error = await rejection((await reopen()).lock({ ...REQUEST, who: 'bob' }, { waitMs: 300 }));
        expect(error).toBeInstanceOf(LockHeldError);
        expect(Date.now() - started).toBeGreaterThanOrEqual(100);
        expect(Date.now() - started).toBeLessThan(5000);
        await holder.release();
      });

      it('forceUnlock refuses a wrong id, naming the real one, and keeps the lock', async () => {
        const holder = await store.lock(REQUEST);
        const other = await reopen();
        const error = await rejection(other.forceUnlock('not-the-id'));
        expect(error).toBeInstanceOf(StateFormatError);
        expect(error.message).toContain(holder.info.id);
        await expect(other.lock(REQUEST)).rejects.toBeInstanceOf(LockHeldError);
        await holder.release();
      });

      it('forceUnlock with the right id releases the lock; the old handle then releases nothing', async () => {
        const abandoned = await store.lock(REQUEST);
        const other = await reopen();
        await other.forceUnlock(abandoned.info.id);
        const next = await other.lock({ ...REQUEST, who: 'bob' });
        await abandoned.release();
        const error = await rejection(store.lock(REQUEST));
        expect(error).toBeInstanceOf(LockHeldError);
        expect((error as LockHeldError).holder.who).toBe('bob');
        await next.release();
      });

      it('forceUnlock when no lock is held is refused', async () => {
        await expect(store.forceUnlock('whatever')).rejects.toBeInstanceOf(StateFormatError);
      });
    });
  });
}
