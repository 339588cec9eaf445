/**
 * PostgreSQL-specific behaviour of PostgresStore, beyond the shared conformance suite: the masked
 * location, versioned migrations (and refusing a newer schema), clear errors when the server cannot be
 * reached, the changed-rows write path (only rows whose objects changed are written, checked through
 * xmin), atomic writes, consistent reads during a write, and the advisory lock's sessions: force-unlock
 * terminates the holder's backend, a holder whose session died does not block. Skipped with a warning
 * when PostgreSQL is unreachable; a failure under CI.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserRecord } from '../schemas/generated/plan.ts';
import { emptyState, importedRecord, type DirectoryState } from '../reconciler/model.ts';
import { appRecords, asRead, sampleState } from '../state/conformance-fixtures.ts';
import { lockKey, StateUnreachableError } from '../state/postgres/connection.ts';
import { LockLostError } from '../state/postgres/lock.ts';
import { SCHEMA_VERSION } from '../state/postgres/migrations.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { LockHeldError, StaleStateError, StateFormatError } from '../state/types.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

const REQUEST = { operation: 'apply', who: 'alice', host: hostname(), pid: process.pid };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

describe('PostgresStore without a server', () => {
  it('masks the password in its location and names the schema', () => {
    const store = new PostgresStore({ url: 'postgres://idp:s3cr3t@db.example.com:5433/idplane?sslmode=require&sslpassword=k3y', schema: 'prod' });
    expect(store.location).toBe('postgres://idp:***@db.example.com:5433/idplane?sslmode=require&sslpassword=***, schema prod');
    expect(store.location).not.toMatch(/s3cr3t|k3y/);
    expect(new PostgresStore({ url: 'postgres://postgres@127.0.0.1:5432/test', schema: 'x' }).location).toBe('postgres://postgres@127.0.0.1:5432/test, schema x');
    expect(new PostgresStore({ url: 'not a url password=hunter2', schema: 'x' }).location).not.toContain('hunter2');
  });

  it('reports a refused connection naming the masked location, for every operation', async () => {
    const store = new PostgresStore({ url: 'postgres://idp:s3cr3t@127.0.0.1:1/idplane', schema: 'prod' });
    try {
      for (const operation of [() => store.read(), () => store.lock(REQUEST), () => store.history(), () => store.write(sampleState(), { lineage: null, serial: 0 })]) {
        const error = await rejection(operation());
        expect(error).toBeInstanceOf(StateUnreachableError);
        expect(error.message).toBe('cannot reach the PostgreSQL state at postgres://idp:***@127.0.0.1:1/idplane, schema prod: ECONNREFUSED');
      }
    } finally {
      await store.close();
    }
  });
});

describePostgres('PostgresStore', () => {
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  const open = (schema: string, notice?: (m: string) => void): PostgresStore => {
    const store = new PostgresStore({ url: POSTGRES_URL, schema, ...(notice ? { notice } : {}) });
    stores.push(store);
    return store;
  };
  const fresh = (): string => {
    const schema = freshSchema();
    schemas.push(schema);
    return schema;
  };

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const schema of schemas.splice(0)) await dropSchema(schema);
  });

  const q = (schema: string) => pg.escapeIdentifier(schema);

  describe('schema', () => {
    it('creates and migrates the schema on first use, once, even when two stores start at once', async () => {
      const schema = fresh();
      const [a, b] = [open(schema), open(schema)];
      await Promise.all([a.read(), b.read(), a.history(), b.read()]);
      const versions = await adminQuery<{ version: number }>(`SELECT version FROM ${q(schema)}.schema_version ORDER BY version`);
      expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      const tables = await adminQuery<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['app_columns', 'changes', 'imported', 'links', 'lock_holder', 'meta', 'runs', 'schema_version', 'users']);
    });

    it('refuses a schema newer than this idplane understands, changing nothing', async () => {
      const schema = fresh();
      await open(schema).read();
      await adminQuery(`INSERT INTO ${q(schema)}.schema_version (version, description) VALUES ($1, 'from the future')`, [SCHEMA_VERSION + 1]);
      const store = open(schema);
      for (const operation of [() => store.read(), () => store.lock(REQUEST), () => store.recordRun({} as never)]) {
        const error = await rejection(operation());
        expect(error).toBeInstanceOf(StateFormatError);
        expect(error.message).toBe(`the PostgreSQL state at ${store.location} has schema version ${SCHEMA_VERSION + 1}, newer than this idplane understands (${SCHEMA_VERSION}); upgrade idplane`);
      }
    });

    it('keeps each state in its own schema', async () => {
      const [one, two] = [open(fresh()), open(fresh())];
      await one.write(sampleState(1), { lineage: null, serial: 0 });
      expect((await two.read()).serial).toBe(0);
      const held = await one.lock(REQUEST);
      await (await two.lock(REQUEST)).release();
      await held.release();
    });
  });

  describe('writes', () => {
    const users = (n: number): UserRecord[] => Array.from({ length: n }, (_, i) => ({
      id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE', profile: { n: i, name: `Zoë ${i}` }, profileSource: 'hr', roles: [],
    }));
    const bigState = (n: number): DirectoryState => ({
      ...emptyState(), lineage: 'L', serial: 1, users: users(n), links: users(n).map((u) => ({ app: 'hr', key: u.id, userId: u.id })),
      imported: new Map([['hr', appRecords(['n'], users(n).map((u) => [u.id, { n: String(u.profile.n) }]))]]), watermarks: { hr: 'w1' },
    });
    const xmins = async (schema: string, table: string, key: string) =>
      new Map((await adminQuery<{ k: string; x: string }>(`SELECT ${key} AS k, xmin::text AS x FROM ${q(schema)}.${table}`)).rows.map((r) => [r.k, r.x]));

    it('after read(), writes only the rows whose objects changed, plus deletes and additions', async () => {
      const schema = fresh();
      await open(schema).write(bigState(10_000), { lineage: null, serial: 0 });
      const store = open(schema);
      const current = await store.read();
      const [usersBefore, linksBefore, importedBefore] = [await xmins(schema, 'users', 'id'), await xmins(schema, 'links', 'key'), await xmins(schema, 'imported', 'key')];
      const changed = new Set(current.users.filter((_, i) => i % 100 === 0).map((u) => u.id));
      const records = new Map(current.imported.get('hr')!.records);
      records.delete('u5');
      records.set('u6', { values: '["six"]', disabled: true });
      records.set('extra', { values: '[]', disabled: false });
      // Equal content in a new object is not a change.
      records.set('u7', { ...records.get('u7')! });
      const imported: DirectoryState['imported'] = new Map([['hr', { columns: ['n'], records }]]);
      const next: DirectoryState = {
        ...current, serial: 2, watermarks: { hr: 'w2' },
        users: [...current.users.filter((u) => u.id !== 'u1').map((u) => (changed.has(u.id) ? { ...u, status: 'SUSPENDED' as const } : u)), { ...current.users[1]!, id: 'new-user' }],
        links: [...current.links.filter((l) => l.key !== 'u2'), { app: 'hr', key: 'new-link', userId: 'u3' }], imported,
      };
      await store.write(next, { lineage: 'L', serial: 1 });
      expect(await open(schema).read()).toEqual(asRead(next));

      const usersAfter = await xmins(schema, 'users', 'id');
      const rewritten = [...usersAfter].filter(([id, x]) => usersBefore.get(id) !== x).map(([id]) => id).sort();
      expect(rewritten).toEqual([...changed, 'new-user'].sort());
      expect(usersAfter.has('u1')).toBe(false);
      const linksAfter = await xmins(schema, 'links', 'key');
      expect([...linksAfter].filter(([k, x]) => linksBefore.get(k) !== x).map(([k]) => k)).toEqual(['new-link']);
      expect(linksAfter.has('u2')).toBe(false);
      const importedAfter = await xmins(schema, 'imported', 'key');
      expect([...importedAfter].filter(([k, x]) => importedBefore.get(k) !== x).map(([k]) => k).sort()).toEqual(['extra', 'u6']);

      // The written state is remembered too: a second write builds on it without a read.
      const third = { ...next, serial: 3, users: next.users.map((u) => (u.id === 'u3' ? { ...u, roles: ['admin'] } : u)) };
      const beforeThird = await xmins(schema, 'users', 'id');
      await store.write(third, { lineage: 'L', serial: 2 });
      const afterThird = await xmins(schema, 'users', 'id');
      expect([...afterThird].filter(([id, x]) => beforeThird.get(id) !== x).map(([id]) => id)).toEqual(['u3']);
      expect(await open(schema).read()).toEqual(asRead(third));
    });

    it('rewrites everything when it has not read the state, or when another store wrote since', async () => {
      const schema = fresh();
      const [mine, theirs] = [open(schema), open(schema)];
      await mine.write(bigState(100), { lineage: null, serial: 0 });
      const seen = await mine.read();
      // Another store writes without moving the serial (as a careless migration could): our snapshot is no longer what is stored.
      const other = await theirs.read();
      await theirs.write({ ...other, users: other.users.map((u) => ({ ...u, login: `changed-${u.login}` })) }, { lineage: 'L', serial: 1 });
      const next = { ...seen, serial: 2, users: seen.users.map((u, i) => (i === 0 ? { ...u, status: 'SUSPENDED' as const } : u)) };
      await mine.write(next, { lineage: 'L', serial: 1 });
      expect(await open(schema).read()).toEqual(asRead(next));
      const fresh2 = open(schema);
      const before = await xmins(schema, 'users', 'id');
      await fresh2.write({ ...next, serial: 3 }, { lineage: 'L', serial: 2 });
      const after = await xmins(schema, 'users', 'id');
      expect([...after].every(([id, x]) => before.get(id) !== x)).toBe(true);
    });

    it('is atomic: a failing write leaves state, journal and snapshot as they were', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.write(bigState(50), { lineage: null, serial: 0 });
      const current = await store.read();
      const broken = { ...current, serial: 2, users: [...current.users, { ...current.users[0]!, status: 'SUSPENDED' as const }] }; // duplicate id
      const change = { runId: 'r', seq: 0, at: 'now', kind: 'user' as const, action: 'update', userId: 'u0', login: 'user0@example.com', app: null, key: null, attributes: null, outcome: 'done' as const, message: null };
      await expect(store.write(broken, { lineage: 'L', serial: 1 }, [change])).rejects.toThrow();
      expect(await open(schema).read()).toEqual(current);
      expect((await adminQuery(`SELECT 1 FROM ${q(schema)}.changes`)).rowCount).toBe(0);
      await expect(store.write({ ...current, serial: 2 }, { lineage: 'L', serial: 7 })).rejects.toBeInstanceOf(StaleStateError);
      const next = { ...current, serial: 2, users: current.users.slice(1) };
      await store.write(next, { lineage: 'L', serial: 1 });
      expect(await open(schema).read()).toEqual(asRead(next));
    });

    it('refuses a value PostgreSQL cannot store (NUL) with a clear error, writing nothing', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      const current = await store.read();
      const next = { ...current, serial: 2, users: current.users.map((u, i) => (i === 0 ? { ...u, profile: { note: 'a\u0000b' } } : u)) };
      const error = await rejection(store.write(next, { lineage: current.lineage, serial: 1 }));
      expect(error).toBeInstanceOf(StateFormatError);
      expect(error.message).toContain('NUL character');
      expect(await store.read()).toEqual(asRead(sampleState(1)));
      // Text columns cannot hold it either; a NUL inside packed values is stored escaped (\u0000) and is fine.
      const records = new Map(current.imported.get('hr')!.records);
      records.set('bad\u0000key', { values: '[]', disabled: false });
      records.set('fine', { values: JSON.stringify(['a\u0000b']), disabled: false });
      const badKey = { ...current, serial: 2, imported: new Map([...current.imported, ['hr', { ...current.imported.get('hr')!, records }]]) };
      expect(await rejection(store.write(badKey, { lineage: current.lineage, serial: 1 }))).toBeInstanceOf(StateFormatError);
      records.delete('bad\u0000key');
      await store.write(badKey, { lineage: current.lineage, serial: 1 });
      expect(importedRecord((await open(schema).read()).imported, 'hr', 'fine')?.values).toBe(JSON.stringify(['a\u0000b']));
    });

    it('reads a consistent snapshot while a write replaces the state', async () => {
      const schema = fresh();
      const writer = open(schema);
      await writer.write(bigState(20_000), { lineage: null, serial: 0 });
      const smaller = { ...bigState(5_000), serial: 2 };
      const reader = open(schema);
      const [, ...reads] = await Promise.all([open(schema).write(smaller, { lineage: 'L', serial: 1 }), reader.read(), reader.read(), open(schema).read()]);
      for (const read of reads) {
        expect(read.users.length).toBe(read.serial === 1 ? 20_000 : 5_000);
        expect(read.links.length).toBe(read.users.length);
        expect(read.imported.get('hr')!.records.size).toBe(read.users.length);
      }
    });

    it('journals more entries than one batch holds, in order', async () => {
      const store = open(fresh());
      await store.recordRun({ id: 'r', command: 'apply', who: 'a', host: 'h', startedAt: '2024-01-01T00:00:00Z', finishedAt: null, configFingerprint: 'f', gitCommit: null, serialBefore: 0, serialAfter: null, summary: null, outcome: 'running', message: null });
      const changes = Array.from({ length: 12_000 }, (_, seq) => ({ runId: 'r', seq, at: 'now', kind: 'user' as const, action: 'create', userId: `u${seq}`, login: `u${seq}`, app: null, key: null, attributes: null, outcome: 'done' as const, message: null }));
      await store.write({ ...sampleState(1), lineage: 'L' }, { lineage: null, serial: 0 }, changes);
      const history = await store.history();
      expect(history.changes).toEqual(changes);
    });
  });

  describe('lock', () => {
    const holderRow = async (schema: string) => (await adminQuery<{ id: string; backend_pid: number }>(`SELECT id, backend_pid FROM ${q(schema)}.lock_holder`)).rows[0];
    const alive = async (pid: number) => ((await adminQuery('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount ?? 0) > 0;

    it('holds a session advisory lock on a connection of its own, recorded with its backend', async () => {
      const schema = fresh();
      const store = open(schema);
      const handle = await store.lock(REQUEST);
      const row = await holderRow(schema);
      expect(row?.id).toBe(handle.info.id);
      const locks = await adminQuery<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1`, [row!.backend_pid]);
      expect(locks.rowCount).toBe(1);
      await handle.release();
      expect(await holderRow(schema)).toBeUndefined();
      expect(await alive(row!.backend_pid)).toBe(false);
    });

    it('forceUnlock terminates the backend holding the lock', async () => {
      const schema = fresh();
      const notices: string[] = [];
      const holder = open(schema, (m) => notices.push(m));
      const handle = await holder.lock(REQUEST);
      const backend = (await holderRow(schema))!.backend_pid;
      await open(schema).forceUnlock(handle.info.id);
      expect(await alive(backend)).toBe(false);
      expect(await holderRow(schema)).toBeUndefined();
      const next = await open(schema).lock({ ...REQUEST, who: 'bob' });
      await handle.release(); // the old holder finds its connection gone; it must not disturb the new lock
      expect(notices.join('\n')).toContain('lost the connection holding the lock');
      expect(((await rejection(holder.lock(REQUEST))) as LockHeldError).holder.who).toBe('bob');
      await next.release();
    });

    it('refuses to write or journal once the lock it holds is lost, until it is released', async () => {
      const schema = fresh();
      const store = open(schema, () => {});
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      const handle = await store.lock(REQUEST);
      await store.write(sampleState(2), { lineage: 'lineage-a', serial: 1 }); // held: writes go through
      const backend = (await holderRow(schema))!.backend_pid;
      await adminQuery('SELECT pg_terminate_backend($1)', [backend]);
      for (let i = 0; i < 100 && (await alive(backend)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      const error = await rejection(store.write(sampleState(3), { lineage: 'lineage-a', serial: 2 }));
      expect(error).toBeInstanceOf(LockLostError);
      expect(error.message).toContain(`the lock ${handle.info.id} on the PostgreSQL state at ${store.location} was lost`);
      await expect(store.journal([{ runId: 'r', seq: 0, at: 'now', kind: 'account', action: 'create', userId: 'u', login: 'u', app: 'a', key: 'k', attributes: null, outcome: 'pending', message: null }])).rejects.toBeInstanceOf(LockLostError);
      await store.recordRun({ id: 'r', command: 'apply', who: 'a', host: 'h', startedAt: '2024-01-01T00:00:00Z', finishedAt: null, configFingerprint: 'f', gitCommit: null, serialBefore: 2, serialAfter: null, summary: null, outcome: 'failed', message: 'lock lost' });
      expect((await open(schema).read()).serial).toBe(2);
      await handle.release();
      await store.write(sampleState(3), { lineage: 'lineage-a', serial: 2 });
      expect((await open(schema).read()).serial).toBe(3);
    });

    it('a holder whose session died does not block the next lock', async () => {
      const schema = fresh();
      const handle = await open(schema).lock(REQUEST);
      const backend = (await holderRow(schema))!.backend_pid;
      await adminQuery('SELECT pg_terminate_backend($1)', [backend]);
      for (let i = 0; i < 100 && (await alive(backend)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      const notices: string[] = [];
      const next = await open(schema, (m) => notices.push(m)).lock({ ...REQUEST, who: 'bob' }, { waitMs: 2000 });
      expect(notices.join('\n')).toContain(`taking over the lock ${handle.info.id}`);
      expect((await holderRow(schema))?.id).toBe(next.info.id);
      await handle.release();
      expect((await holderRow(schema))?.id).toBe(next.info.id);
      await next.release();
    });

    it('names a session that holds the advisory lock without a holder record', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.read();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1::bigint)', [lockKey('state', schema)]);
        const error = await rejection(store.lock(REQUEST));
        expect(error).toBeInstanceOf(LockHeldError);
        expect((error as LockHeldError).holder).toMatchObject({ id: 'unknown', who: 'postgres' });
      } finally {
        await client.end();
      }
      await (await store.lock(REQUEST)).release();
    });

    it('close() releases the locks the store holds', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.lock(REQUEST);
      await store.close();
      expect(await holderRow(schema)).toBeUndefined();
      await (await open(schema).lock(REQUEST)).release();
    });
  });
});
