/**
 * The one conformance suite every state backend passes (in the manner of Terraform's statemgr testing):
 * `stateConformance(name, open)` registers vitest tests against the StateStore contract of state/types.ts.
 * `open` makes a fresh, empty state and returns a store on it, `reopen` (another store on the same state,
 * as a second process would open it) and `cleanup`. The suite closes every store it was given or reopened
 * before calling cleanup. Tests take no more than a few seconds each on a local backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../schemas/generated/plan.ts';
import { emptyState, importedRecord, type DirectoryState, type ImportedRecord } from '../reconciler/model.ts';
import { LockHeldError, StaleStateError, StateFormatError, type ChangeRecord, type RunRecord, type StateStore } from './types.ts';

export interface ConformanceSubject {
  store: StateStore;
  reopen: () => Promise<StateStore>;
  cleanup: () => Promise<void>;
}

const REQUEST = { operation: 'apply', who: 'alice', host: 'ci-runner-7', pid: process.pid };

function user(i: number, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE',
    profile: { firstName: `Zoë ${i}`, department: 'Engineering', employeeNumber: i, manager: i % 2 === 0, groups: ['all', `team-${i % 7}`] },
    profileSource: 'hr', roles: i % 10 === 0 ? ['admin'] : [], ...extra,
  };
}

/** An object whose keys are data: own properties even for "__proto__". */
function own<T>(entries: [string, T][]): Record<string, T> {
  const target: Record<string, T> = {};
  for (const [key, value] of entries) Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** A state exercising every field: unicode, multi-line and quoted text, all profile value types, odd keys. */
export function sampleState(serial = 1, lineage: string | null = 'lineage-a'): DirectoryState {
  return {
    lineage, serial,
    users: [
      user(0, { login: 'zoë.ångström@example.com', profile: { name: 'Zoë Ångström 日本語 👩‍💻', note: 'line 1\nline 2\t"quoted" \\ back', empty: '', n: 1.5, neg: -3, flag: false, list: ['a', 'b "c"', 'd\\e', ''] }, roles: ['admin', 'role with "quotes"', 'back\\slash', 'comma,brace}{'] }),
      user(1, { status: 'SUSPENDED', profile: {}, profileSource: 'directory' }),
      user(2, { status: 'STAGED' }),
    ],
    links: [{ app: 'hr', key: '1001', userId: 'u0' }, { app: 'ldap', key: 'cn=Zoë,ou=People', userId: 'u0' }, { app: 'hr', key: '1002', userId: 'u1' }],
    imported: own<Record<string, ImportedRecord>>([
      ['hr', own<ImportedRecord>([
        ['1001', { attributes: { first_name: 'Zoë', note: 'a\nb' }, disabled: false }],
        ['constructor', { attributes: { first_name: 'Con' }, disabled: true }],
        ['__proto__', { attributes: { polluted: 'no' }, disabled: false }],
        ['toString', { attributes: {}, disabled: false }],
      ])],
      ['constructor', own<ImportedRecord>([['hasOwnProperty', { attributes: { x: 'y' }, disabled: false }]])],
    ]),
    watermarks: { hr: '2024-06-01T10:00:00Z', ldap: '20240601100000.0Z' },
  };
}

function change(runId: string, seq: number, login: string, patch: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    runId, seq, at: '2024-06-01T10:00:00.000Z', kind: 'user', action: 'update', userId: `id-${login}`, login, app: null, key: null,
    attributes: { department: { from: 'Sales', to: 'Engineering ✓' } }, outcome: 'done', message: null, ...patch,
  };
}

function run(id: string, startedAt: string, patch: Partial<RunRecord> = {}): RunRecord {
  return {
    id, command: 'apply', who: 'alice', host: 'ci-runner-7', startedAt, finishedAt: null, configFingerprint: 'sha256:abc',
    gitCommit: '0123456789abcdef0123456789abcdef01234567', serialBefore: 0, serialAfter: null, summary: null, outcome: 'running', message: null, ...patch,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

/** A next state made the way apply makes it: unchanged objects kept by reference, changed ones replaced. */
function evolve(state: DirectoryState, step: number): DirectoryState {
  const users = state.users.filter((u) => u.id !== `u${step}`).map((u, i) => (i % 3 === step % 3 ? { ...u, profile: { ...u.profile, step } } : u));
  users.push(user(1000 + step));
  const imported: DirectoryState['imported'] = Object.create(null);
  for (const [app, records] of Object.entries(state.imported)) imported[app] = Object.assign(Object.create(null), records);
  imported.hr ??= Object.create(null);
  imported.hr![`new-${step}`] = { attributes: { step: String(step) }, disabled: false };
  delete imported.hr!['1001'];
  imported.hr!['constructor'] = { attributes: { first_name: `Con ${step}` }, disabled: step % 2 === 0 };
  return {
    lineage: state.lineage, serial: state.serial + 1, users,
    links: [...state.links.filter((l) => l.key !== '1001'), { app: 'hr', key: `k${step}`, userId: 'u2' }],
    imported, watermarks: { ...state.watermarks, hr: `2024-06-0${step + 1}T00:00:00Z` },
  };
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

      it('round-trips users, links, imported records and watermarks exactly, in order', async () => {
        const state = sampleState();
        await store.write(state, { lineage: null, serial: 0 });
        const read = await store.read();
        expect(read).toEqual(state);
        expect(read.users.map((u) => u.id)).toEqual(['u0', 'u1', 'u2']);
        expect(read.links.map((l) => l.key)).toEqual(['1001', 'cn=Zoë,ou=People', '1002']);
        // Keys are data: own properties, never the prototype's.
        expect(Object.hasOwn(read.imported.hr!, '__proto__')).toBe(true);
        expect(importedRecord(read.imported, 'hr', '__proto__')).toEqual({ attributes: { polluted: 'no' }, disabled: false });
        expect(importedRecord(read.imported, 'hr', 'constructor')).toEqual({ attributes: { first_name: 'Con' }, disabled: true });
        expect(importedRecord(read.imported, 'constructor', 'hasOwnProperty')).toEqual({ attributes: { x: 'y' }, disabled: false });
        expect(importedRecord(read.imported, 'hr', 'valueOf')).toBeUndefined();
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
        expect(await store.read()).toEqual(sampleState(1));
        expect((await store.history()).changes).toEqual([]);
      });

      it('refuses a write against another lineage, or against none when one exists', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const other = await rejection(store.write(sampleState(2), { lineage: 'lineage-z', serial: 1 }));
        expect(other).toBeInstanceOf(StaleStateError);
        expect(other.message).toBe('the state moved since it was read (expected lineage lineage-z serial 1, found lineage lineage-a serial 1)');
        const none = await rejection(store.write(sampleState(1, 'lineage-b'), { lineage: null, serial: 0 }));
        expect(none.message).toBe('the state moved since it was read (expected lineage none serial 0, found lineage lineage-a serial 1)');
        expect(await store.read()).toEqual(sampleState(1));
      });

      it('refuses a write from a store that read before another store wrote', async () => {
        const second = await reopen();
        const seen = await second.read();
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        await expect(second.write(evolve(seen, 0), { lineage: seen.lineage, serial: seen.serial })).rejects.toBeInstanceOf(StaleStateError);
        expect(await second.read()).toEqual(sampleState(1));
      });

      it('a reopened store reads the same state', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        expect(await (await reopen()).read()).toEqual(sampleState(1));
      });

      it('writes built from the read state (changed, added, removed records) read back exactly', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        for (let step = 0; step < 4; step++) {
          const current = await store.read();
          const next = evolve(current, step);
          await store.write(next, { lineage: current.lineage, serial: current.serial });
          expect(await store.read()).toEqual(next);
          expect(await (await reopen()).read()).toEqual(next);
        }
        // A write from another store in between, then this store builds on what it reads again.
        const second = await reopen();
        const theirs = evolve(await second.read(), 9);
        await second.write(theirs, { lineage: theirs.lineage, serial: theirs.serial - 1 });
        const mine = await store.read();
        expect(mine).toEqual(theirs);
        const next = evolve(mine, 10);
        await store.write(next, { lineage: mine.lineage, serial: mine.serial });
        expect(await (await reopen()).read()).toEqual(next);
      });

      it('keeps the order of a reordered user list', async () => {
        await store.write(sampleState(1), { lineage: null, serial: 0 });
        const current = await store.read();
        const next = { ...current, serial: 2, users: [...current.users].reverse(), links: [...current.links].reverse() };
        await store.write(next, { lineage: current.lineage, serial: 1 });
        expect(await (await reopen()).read()).toEqual(next);
      });

      it('round-trips a large state (20k users) and a small change to it', async () => {
        const users = Array.from({ length: 20_000 }, (_, i) => user(i));
        const imported: DirectoryState['imported'] = { hr: {} };
        for (let i = 0; i < 20_000; i++) imported.hr![String(100_000 + i)] = { attributes: { first_name: `Zoë ${i}`, email: `user${i}@example.com` }, disabled: i % 50 === 0 };
        const big: DirectoryState = {
          lineage: 'lineage-big', serial: 1, users, links: users.map((u, i) => ({ app: 'hr', key: String(100_000 + i), userId: u.id })), imported, watermarks: {},
        };
        await store.write(big, { lineage: null, serial: 0 });
        const read = await store.read();
        expect(read).toEqual(big);
        const next = { ...read, serial: 2, users: read.users.map((u, i) => (i % 100 === 0 ? { ...u, status: 'SUSPENDED' as const } : u)).filter((u) => u.id !== 'u7') };
        await store.write(next, { lineage: 'lineage-big', serial: 1 });
        expect(await (await reopen()).read()).toEqual(next);
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
