/**
 * The one conformance suite every state backend passes (in the manner of Terraform's statemgr testing):
 * `stateConformance(name, open)` registers vitest tests against the StateStore contract of state/types.ts.
 * `open` makes a fresh, empty state and returns a store on it, `reopen` (another store on the same state,
 * as a second process would open it), `editOutside` (changes one user's stored profile value the way
 * someone outside idplane would: an SQL UPDATE from another tool), whether the backend refuses a write
 * against a stale digest, `userRowWrites` (how many user rows a write touched) and `cleanup`
 * (conformance-context.ts). What a test checks is stored is read back by another store (`reopen`): a
 * store may hand out the state it wrote or read last again. The suite closes every store it was given
 * or reopened before calling cleanup. Tests take no more than a few seconds each on a local backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, importedRecord, type DirectoryState } from '../reconciler/model.ts';
import { packValues, unpackValues } from '../reconciler/records.ts';
import { appRecords, asRead, change, evolve, own, run, sampleState, user } from './conformance-fixtures.ts';
import { deltaConformance } from './conformance-delta.ts';
import { historyConformance } from './conformance-history.ts';
import { lockConformance } from './conformance-lock.ts';
import type { ConformanceContext, ConformanceSubject } from './conformance-context.ts';
import { StaleStateError, type StateStore } from './types.ts';

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
    const context: ConformanceContext = { store: () => store, reopen, subject: () => subject };

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
        expect(await store.read()).toEqual(asRead(state));
        const read = await (await reopen()).read();
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
        expect(await (await reopen()).read({ onProgress: (done, total, unit) => calls.push({ done, total, unit }) })).toEqual(asRead(state));
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
        const read = await (await reopen()).read();
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

      it('a write of the state as read writes no user row; a change of one user writes that row alone', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const read = await store.read();
        expect(await subject.userRowWrites(() => store.write({ ...read, serial: 2 }, { lineage: read.lineage, serial: 1, digest: read.digest }))).toBe(0);
        const again = await store.read();
        const next = { ...again, serial: 3, users: again.users.map((u, i) => (i === 1 ? { ...u, status: 'ACTIVE' as const } : u)) };
        expect(await subject.userRowWrites(() => store.write(next, { lineage: again.lineage, serial: 2, digest: again.digest }))).toBe(1);
        expect(await (await reopen()).read()).toEqual(asRead(next));
        // A store that has not read writes without knowing what is stored: every row.
        const blind = await reopen();
        expect(await subject.userRowWrites(() => blind.write({ ...next, serial: 4 }, { lineage: next.lineage, serial: 3 }))).toBe(next.users.length);
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

    historyConformance(context);
    deltaConformance(context);
    lockConformance(context);
  });
}
