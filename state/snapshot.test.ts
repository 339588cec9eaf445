import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../schemas/generated/plan.ts';
import { emptyState, type AppRecords, type DirectoryState, type ImportedRecord } from '../reconciler/model.ts';
import { planWrite, type Snapshot, type StoredApp } from './snapshot.ts';

const user = (id: string, status: UserRecord['status'] = 'ACTIVE'): UserRecord => ({ id, login: `${id}@example.com`, status, profile: {}, profileSource: 'hr', roles: [] });
const record = (values: string, disabled = false): ImportedRecord => ({ values, disabled });

function state(users: UserRecord[], imported: [string, AppRecords][] = []): DirectoryState {
  return { ...emptyState(), lineage: 'L', serial: 1, users, imported: new Map(imported) };
}

/** What a read of `s` leaves as the snapshot (positions 0..n-1 unless given). */
function snapshotOf(s: DirectoryState, ords?: number[]): Snapshot {
  const imported = new Map<string, StoredApp>();
  for (const [app, { columns, records }] of s.imported) imported.set(app, { columns: [...columns], keys: [...records.keys()], records: [...records.values()] });
  return { digest: 'd', users: { values: s.users.slice(), ords: ords ?? s.users.map((_, i) => i) }, links: { values: [], ords: [] }, imported };
}

describe('planWrite', () => {
  const users = Array.from({ length: 10 }, (_, i) => user(`u${i}`));
  const read = state(users);
  const previous = snapshotOf(read);

  it('replaces every table when what the database holds is unknown', () => {
    const plan = planWrite(read, null, 'd2');
    expect(plan).toMatchObject({ users: { mode: 'replace' }, links: { mode: 'replace' }, imported: { mode: 'replace' }, columns: { mode: 'replace' } });
    expect(plan.after).toMatchObject({ digest: 'd2', users: { values: users, ords: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } });
  });

  it('writes nothing for the same objects', () => {
    expect(planWrite({ ...read, users: users.slice() }, previous, 'd2').users).toEqual({ mode: 'diff', updates: [], inserts: [], deletes: [] });
  });

  it('updates the users replaced in place, inserts the ones added at the end past the largest position, deletes the ones gone from the end', () => {
    const ords = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20];
    const changed = { ...users[3]!, status: 'SUSPENDED' as const };
    const next = [...users.slice(0, 3), changed, ...users.slice(4), user('new')];
    const plan = planWrite(state(next), snapshotOf(read, ords), 'd2');
    expect(plan.users).toEqual({ mode: 'diff', updates: [{ value: changed, ord: 3 }], inserts: [{ value: next[10], ord: 21 }], deletes: [] });
    expect(plan.after.users.ords).toEqual([...ords, 21]);
    const shorter = planWrite(state(users.slice(0, 8)), previous, 'd2');
    expect(shorter.users).toEqual({ mode: 'diff', updates: [], inserts: [], deletes: [users[8], users[9]] });
  });

  it('matches by key once the lists part: a user removed in the middle keeps the others in place', () => {
    const changed = { ...users[7]!, status: 'SUSPENDED' as const };
    const next = [...users.slice(0, 2), ...users.slice(3, 7), changed, ...users.slice(8), user('new')];
    const plan = planWrite(state(next), previous, 'd2');
    expect(plan.users).toEqual({ mode: 'diff', updates: [{ value: changed, ord: 7 }], inserts: [{ value: next[9], ord: 10 }], deletes: [users[2]] });
    expect(plan.after.users.ords).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('replaces the table when the order changes, a key comes twice, or most rows changed', () => {
    expect(planWrite(state([users[1]!, users[0]!, ...users.slice(2)]), previous, 'd2').users.mode).toBe('replace');
    expect(planWrite(state([...users.slice(0, 3), user('x'), users[3]!, users[3]!, ...users.slice(4)]), previous, 'd2').users.mode).toBe('replace');
    expect(planWrite(state(users.map((u, i) => (i < 6 ? { ...u } : u))), previous, 'd2').users.mode).toBe('replace');
  });

  it('inserts a key that is already stored as new, for the primary key to refuse (a duplicate in the next state)', () => {
    const plan = planWrite(state([...users, { ...users[0]! }]), previous, 'd2');
    expect(plan.users).toMatchObject({ mode: 'diff', inserts: [{ value: { id: 'u0' }, ord: 10 }] });
  });

  describe('imported records', () => {
    const hr: AppRecords = { columns: ['a', 'b'], records: new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, record(`["${i}"]`)])) };
    const withHr = state(users, [['hr', hr], ['old', { columns: ['x'], records: new Map([['k', record('["x"]')]]) }]]);
    const before = snapshotOf(withHr);

    it('writes only records whose packed values or flag differ, deletes keys gone, and whole apps gone in one go', () => {
      const records = new Map(hr.records);
      records.set('k1', record('["1"]')); // equal content, another object: not a change
      records.set('k2', record('["two"]'));
      records.set('k3', record('["3"]', true));
      records.delete('k4');
      records.set('k10', record('["10"]'));
      const next = state(users, [['hr', { columns: ['a', 'b', 'c'], records }], ['new', { columns: ['n'], records: new Map([['k', record('[]')]]) }]]);
      const plan = planWrite(next, before, 'd2');
      expect(plan.imported).toEqual({
        mode: 'diff',
        upserts: [
          { app: 'hr', key: 'k2', value: record('["two"]') }, { app: 'hr', key: 'k3', value: record('["3"]', true) },
          { app: 'hr', key: 'k10', value: record('["10"]') }, { app: 'new', key: 'k', value: record('[]') },
        ],
        deletes: [{ app: 'hr', key: 'k4' }],
        apps: ['old'],
      });
      expect(plan.columns).toEqual({ mode: 'diff', upserts: [{ app: 'hr', columns: ['a', 'b', 'c'] }, { app: 'new', columns: ['n'] }], deletes: ['old'] });
      expect(plan.after.imported.get('hr')).toEqual({ columns: ['a', 'b', 'c'], keys: [...records.keys()], records: [...records.values()] });
    });

    it('writes nothing for the same records, and replaces the table when most changed', () => {
      const same = planWrite(withHr, before, 'd2');
      expect(same.imported).toEqual({ mode: 'diff', upserts: [], deletes: [], apps: [] });
      expect(same.columns).toEqual({ mode: 'diff', upserts: [], deletes: [] });
      const records = new Map([...hr.records].map(([key, r]) => [key, record(r.values, true)]));
      expect(planWrite(state(users, [['hr', { ...hr, records }], ['old', withHr.imported.get('old')!]]), before, 'd2').imported.mode).toBe('replace');
    });
  });
});
