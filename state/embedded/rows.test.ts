import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { BULK_ROWS, BulkInsert, YIELD_ROWS } from './rows.ts';

function table(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, v TEXT) STRICT');
  return db;
}

const rows = (db: DatabaseSync) => db.prepare('SELECT k, n, v FROM t ORDER BY rowid').all().map((r) => ({ ...r }));

describe('BulkInsert', () => {
  it('writes every row in order, full statements and the rest one by one, nulls included', async () => {
    const db = table();
    const count = BULK_ROWS * 2 + 3;
    const given = Array.from({ length: count }, (_, i) => ({ k: `k${i}`, n: i, v: i % 7 === 0 ? null : `v${i}` }));
    const insert = new BulkInsert<(typeof given)[number]>(db, 'INSERT INTO t (k, n, v)', 3, (r, into) => into.push(r.k, r.n, r.v));
    expect(await insert.all(given)).toBe(count);
    expect(rows(db)).toEqual(given);
  });

  it('writes nothing it was not given, and nothing twice when flushed again', () => {
    const db = table();
    const insert = new BulkInsert<number>(db, 'INSERT INTO t (k, n, v)', 3, (i, into) => into.push(`k${i}`, i, null));
    expect(insert.flush()).toBe(0);
    for (let i = 0; i < 5; i++) void insert.add(i);
    expect(rows(db)).toEqual([]); // still pending: fewer than a statement's worth
    expect(insert.flush()).toBe(5);
    expect(insert.flush()).toBe(5);
    expect(rows(db).map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('upserts with a conflict clause, in full statements and in the rest', async () => {
    const db = table();
    const upsert = (tag: string) => new BulkInsert<number>(db, 'INSERT INTO t (k, n, v)', 3, (i, into) => into.push(`k${i}`, i, tag), ' ON CONFLICT (k) DO UPDATE SET v = excluded.v');
    await upsert('first').all(Array.from({ length: BULK_ROWS + 10 }, (_, i) => i));
    await upsert('second').all(Array.from({ length: BULK_ROWS + 20 }, (_, i) => i * 2));
    const expected = new Map<number, string>();
    for (let i = 0; i < BULK_ROWS + 10; i++) expected.set(i, 'first');
    for (let i = 0; i < BULK_ROWS + 20; i++) expected.set(i * 2, 'second');
    const stored = rows(db);
    expect(stored).toHaveLength(expected.size);
    expect(new Map(stored.map((r) => [r.n as number, r.v as string]))).toEqual(expected);
  });

  it('gives the event loop a turn every YIELD_ROWS rows, and only then', () => {
    const db = table();
    const insert = new BulkInsert<number>(db, 'INSERT INTO t (k, n, v)', 3, (i, into) => into.push(`k${i}`, i, null));
    const turns: number[] = [];
    for (let i = 1; i <= YIELD_ROWS * 2; i++) if (insert.add(i)) turns.push(i);
    expect(turns).toEqual([YIELD_ROWS, YIELD_ROWS * 2]);
  });
});
