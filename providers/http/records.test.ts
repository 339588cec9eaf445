import { describe, expect, it } from 'vitest';
import type { ListedRecord } from './listing.ts';
import { toSnapshot, type SnapshotOptions } from './records.ts';

const listed = (records: unknown[], perPage = 2): ListedRecord[] => records.map((record, i) => ({ position: i + 1, page: Math.floor(i / perPage) + 1, record }));

const snapshotOf = (options: SnapshotOptions) => toSnapshot(options).snapshot;

const base = { app: 'hr', key: 'id', keyPath: ['id'], names: [] as string[], partial: false };

describe('toSnapshot', () => {
  it('makes an account per keyed record, with every name on every account', () => {
    const s = snapshotOf({ ...base, names: ['nickname'], records: listed([{ id: 2, name: 'Ada', address: { city: 'Oslo' } }, { id: '1', name: 'Alan', phone: '+1' }]) });
    expect(s.accounts).toEqual([
      { key: '2', line: 1, attributes: { id: '2', name: 'Ada', 'address.city': 'Oslo', nickname: '', phone: '' } },
      { key: '1', line: 2, attributes: { id: '1', name: 'Alan', phone: '+1', nickname: '', 'address.city': '' } },
    ]);
    expect(s.columns).toEqual(['id', 'nickname', 'name', 'address.city', 'phone']);
    expect(s.rowErrors).toEqual([]);
    expect(s.partial).toBeUndefined();
  });

  it('reads a dotted key', () => {
    const s = snapshotOf({ ...base, key: 'employee.number', keyPath: ['employee', 'number'], records: listed([{ employee: { number: 'E7' } }]) });
    expect(s.accounts.map((a) => a.key)).toEqual(['E7']);
  });

  it('makes a row error, naming the page, of a record that is not an object, has no usable key or repeats a key', () => {
    const s = snapshotOf({ ...base, records: listed([{ id: 'a' }, 'oops', { name: 'no key' }, { id: '' }, { id: { x: 1 } }, { id: 'a', name: 'twin' }]) });
    expect(s.accounts.map((a) => a.key)).toEqual(['a']);
    expect(s.rowErrors).toEqual([
      { line: 2, message: 'the record on page 1 is a string, not a JSON object' },
      { line: 3, message: 'the record on page 2 has no id (the key): it is absent' },
      { line: 4, message: 'the record on page 2 has no id (the key): it is empty' },
      { line: 5, message: 'the record on page 3 has no id (the key): it is an object' },
      { line: 6, key: 'a', message: 'the record on page 3 has id "a", like record 1 (page 1); keys must be unique' },
    ]);
  });

  it('counts a record served twice (same key, same JSON) as a repeat, and says the pages overlap', () => {
    const { snapshot, repeats } = toSnapshot({ ...base, records: listed([{ id: 'a', v: 1 }, { id: 'b' }, { id: 'a', v: 1 }, { id: 'b', v: 2 }]) });
    expect(repeats).toBe(1);
    expect(snapshot.rowErrors).toEqual([
      { line: 3, key: 'a', message: 'the record on page 2 is the same record as record 1 (page 1): the pages overlap' },
      { line: 4, key: 'b', message: 'the record on page 2 has id "b", like record 2 (page 1); keys must be unique' },
    ]);
  });

  it('fingerprints the records in key order, whatever order the pages came in', () => {
    const a = snapshotOf({ ...base, records: listed([{ id: 'x', v: 1 }, { id: 'y', v: 2 }, { nokey: 1 }]) });
    const b = snapshotOf({ ...base, records: listed([{ id: 'y', v: 2 }, { nokey: 1 }, { id: 'x', v: 1 }]) });
    const c = snapshotOf({ ...base, records: listed([{ id: 'y', v: 3 }, { id: 'x', v: 1 }, { nokey: 1 }]) });
    expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('pads a counter watermark and marks an incremental snapshot partial', () => {
    const s = snapshotOf({ ...base, watermark: 'rev', partial: true, records: listed([{ id: 'a', rev: 9 }, { id: 'b', rev: 10 }, { id: 'c', rev: '2024-01-01' }]) });
    expect(s.accounts.map((a) => a.attributes.rev)).toEqual(['00000000000000000009', '00000000000000000010', '2024-01-01']);
    expect(s.partial).toBe(true);
  });
});
