/**
 * The PostgreSQL schema over time and behind idplane's back: a schema at version 1 (imported records as
 * jsonb attribute objects) upgrades to version 2 with nothing lost, each record packed byte for byte as
 * reconciler/records.ts packs it; and the statement-level triggers count edits made outside idplane (one
 * per statement, none for idplane's own writes or for a rolled-back edit), which the next read reports as
 * `edited` and which the changed-rows path does not overlook. Skipped with a warning when PostgreSQL is
 * unreachable; a failure under CI.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyState, importedRecord, type DirectoryState } from '../reconciler/model.ts';
import { packValues, unpackValues } from '../reconciler/records.ts';
import { appRecords, asRead, sampleState } from '../state/conformance-fixtures.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../state/postgres/migrations.ts';
import { BULK_ROWS } from '../state/postgres/rows.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { resumePaused, whenPaused } from '../state/crash-point.ts';
import { StaleStateError, StateFormatError } from '../state/types.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

describePostgres('PostgreSQL schema', () => {
  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  const open = (schema: string): PostgresStore => {
    const store = new PostgresStore({ url: POSTGRES_URL, schema });
    stores.push(store);
    return store;
  };
  const fresh = (): string => {
    const schema = freshSchema();
    schemas.push(schema);
    return schema;
  };
  const q = (schema: string) => pg.escapeIdentifier(schema);
  /** The schema's indexes, constraints and triggers, with the schema name taken out. */
  const definitions = async (schema: string): Promise<string[]> => (await adminQuery<{ d: string }>(
    `SELECT indexdef AS d FROM pg_indexes WHERE schemaname = $1
     UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = $1::regnamespace
     UNION ALL SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT tgisinternal AND c.relnamespace = $1::regnamespace`,
    [schema])).rows.map((r) => r.d.replaceAll(q(schema), 'S').replaceAll(schema, 'S')).sort();
  const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => new Error('expected a rejection'), (error: unknown) => error);

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const schema of schemas.splice(0)) await dropSchema(schema);
  });

  describe('migration 1 → 2', () => {
    /** An object whose keys are data: own properties even for "__proto__" (as JSON.parse makes them). */
    const attrs = (entries: [string, string][]): Record<string, string> => JSON.parse(JSON.stringify(Object.fromEntries(entries))) as Record<string, string>;
    const v1Records: [string, string, Record<string, string>, boolean][] = [
      ['hr', '1001', attrs([['first_name', 'Zoë'], ['note', 'line 1\nline 2\t"quoted" \\ back 日本語 👩‍💻'], ['empty', '']]), false],
      ['hr', 'constructor', attrs([['first_name', 'Con'], ['__proto__', 'not a prototype'], ['constructor', 'data']]), true],
      ['hr', '__proto__', attrs([]), false],
      ['hr', 'tab\tkey\\with "quotes"\nand a line', attrs([['late_column', 'x'], ['empty', '']]), false],
      ['constructor', 'hasOwnProperty', attrs([['x', 'y']]), false],
      ['only-empty', 'k', attrs([]), false],
      ...Array.from({ length: 12_000 }, (_, i): [string, string, Record<string, string>, boolean] => ['bulk', `b${i}`, attrs([['n', String(i)], ...(i % 7 === 0 ? [['seventh', 'yes'] as [string, string]] : [])]), i % 3 === 0]),
    ];

    /** A schema as idplane at version 1 left it, holding a state and its history. */
    async function versionOne(schema: string): Promise<void> {
      const s = q(schema);
      await adminQuery(`CREATE SCHEMA ${s}`);
      await adminQuery(`CREATE TABLE ${s}.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const step of MIGRATIONS[0]!.steps(s)) {
        if (typeof step !== 'string') throw new Error('migration 1 is statements only');
        await adminQuery(step);
      }
      await adminQuery(`INSERT INTO ${s}.schema_version (version, description) VALUES (1, 'state, history and lock tables')`);
      await adminQuery(`UPDATE ${s}.meta SET lineage = 'L', serial = 7, watermarks = '{"hr":"w7"}', write_token = 'token-7'`);
      await adminQuery(`INSERT INTO ${s}.users (id, ord, login, status, profile, profile_source, roles) VALUES
        ('u0', 0, 'zoe@example.com', 'ACTIVE', '{"firstName":"Zoë","n":1.5}', 'hr', '{admin}'), ('u1', 1, 'con@example.com', 'SUSPENDED', '{}', 'directory', '{}')`);
      await adminQuery(`INSERT INTO ${s}.links (app, key, user_id, ord) VALUES ('hr', '1001', 'u0', 0), ('hr', 'constructor', 'u1', 1)`);
      await adminQuery(`INSERT INTO ${s}.imported (app, key, attributes, disabled) SELECT app, key, attributes, disabled FROM jsonb_to_recordset($1::jsonb) AS t(app text, key text, attributes jsonb, disabled boolean)`,
        [JSON.stringify(v1Records.map(([app, key, attributes, disabled]) => ({ app, key, attributes, disabled })))]);
      await adminQuery(`INSERT INTO ${s}.runs (id, command, who, host, started_at, config_fingerprint, serial_before, outcome) VALUES ('r1', 'apply', 'alice', 'ci', '2024-06-01T10:00:00.000Z', 'f', 6, 'succeeded')`);
      await adminQuery(`INSERT INTO ${s}.changes (run_id, seq, at, kind, action, user_id, login, outcome) VALUES ('r1', 0, '2024-06-01T10:00:01.000Z', 'user', 'create', 'u0', 'zoe@example.com', 'done')`);
    }

    it('packs every imported record exactly as reconciler/records.ts does, keeping everything else', async () => {
      const schema = fresh();
      await versionOne(schema);
      const store = open(schema);
      const state = await store.read();
      expect(state).toMatchObject({ lineage: 'L', serial: 7, watermarks: { hr: 'w7' }, pipeline: null, edited: false });
      expect(typeof state.digest).toBe('string');
      expect(state.users).toEqual([
        { id: 'u0', login: 'zoe@example.com', status: 'ACTIVE', profile: { firstName: 'Zoë', n: 1.5 }, profileSource: 'hr', roles: ['admin'] },
        { id: 'u1', login: 'con@example.com', status: 'SUSPENDED', profile: {}, profileSource: 'directory', roles: [] },
      ]);
      expect(state.links).toEqual([{ app: 'hr', key: '1001', userId: 'u0' }, { app: 'hr', key: 'constructor', userId: 'u1' }]);

      expect([...state.imported.keys()].sort()).toEqual(['bulk', 'constructor', 'hr', 'only-empty']);
      const union = (app: string) => [...new Set(v1Records.filter((r) => r[0] === app).flatMap((r) => Object.keys(r[2])))].sort();
      for (const app of state.imported.keys()) expect([...state.imported.get(app)!.columns].sort()).toEqual(union(app));
      let count = 0;
      for (const [app, key, attributes, disabled] of v1Records) {
        const { columns } = state.imported.get(app)!;
        const record = importedRecord(state.imported, app, key);
        expect(record).toEqual({ values: packValues(columns, attributes), disabled });
        const unpacked = unpackValues(columns, record!.values);
        for (const name of columns) expect(unpacked[name]).toBe(Object.hasOwn(attributes, name) ? attributes[name] : '');
        count++;
      }
      expect([...state.imported.values()].reduce((n, app) => n + app.records.size, 0)).toBe(count);

      const history = await store.history();
      expect(history.runs.map((r) => r.id)).toEqual(['r1']);
      expect(history.changes.map((c) => [c.runId, c.login])).toEqual([['r1', 'zoe@example.com']]);
      const columns = await adminQuery<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'imported' ORDER BY ordinal_position`, [schema]);
      expect(columns.rows.map((r) => r.column_name)).toEqual(['app', 'key', 'disabled', 'vals']);
      const versions = await adminQuery<{ version: number }>(`SELECT version FROM ${q(schema)}.schema_version ORDER BY version`);
      expect(versions.rows.map((r) => r.version)).toEqual([1, 2, 3]);
      expect(SCHEMA_VERSION).toBe(3);
      const migrated = fresh();
      await open(migrated).read();
      expect(await definitions(schema)).toEqual(await definitions(migrated));

      // The upgraded state takes writes that build on it, from the changed-rows path.
      const next: DirectoryState = { ...state, serial: 8, users: [...state.users, { ...state.users[1]!, id: 'u2', login: 'new@example.com' }], edited: false };
      await store.write(next, { lineage: 'L', serial: 7, digest: state.digest });
      expect(await open(schema).read()).toEqual(asRead(next));
    });
  });

  it('a bulk replace builds the very indexes and constraints the migrations made', async () => {
    const migrated = fresh();
    await open(migrated).read();
    const bulk = fresh();
    const users = Array.from({ length: BULK_ROWS }, (_, i) => ({ id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const, profile: {}, profileSource: 'hr', roles: [] }));
    const state: DirectoryState = {
      ...emptyState(), lineage: 'L', serial: 1, users, links: users.map((u) => ({ app: 'hr', key: u.id, userId: u.id })),
      imported: new Map([['hr', appRecords(['n'], users.map((u) => [u.id, { n: u.id }]))]]),
    };
    await open(bulk).write(state, { lineage: null, serial: 0 });
    expect(await definitions(bulk)).toEqual(await definitions(migrated));
    expect((await definitions(bulk)).filter((d) => /pkey|_ord/.test(d)).length).toBeGreaterThanOrEqual(8);
    // A duplicate key still fails the write as a whole.
    await expect(open(bulk).write({ ...state, serial: 2, users: [...users, users[0]!] }, { lineage: 'L', serial: 1 })).rejects.toMatchObject({ code: '23505' });
    expect((await open(bulk).read()).users).toHaveLength(BULK_ROWS);
  });

  describe('edits made outside idplane', () => {
    const meta = async (schema: string) =>
      (await adminQuery<{ outside_writes: string; sealed_writes: string; edited: boolean }>(`SELECT outside_writes, sealed_writes, edited FROM ${q(schema)}.meta`)).rows[0]!;
    const big = (n: number): DirectoryState => {
      const users = Array.from({ length: n }, (_, i) => ({ id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const, profile: { department: 'Engineering' }, profileSource: 'hr', roles: [] }));
      return {
        ...emptyState(), lineage: 'L', serial: 1, users, links: users.map((u) => ({ app: 'hr', key: u.id, userId: u.id })),
        imported: new Map([['hr', appRecords(['department'], users.map((u) => [u.id, { department: 'Engineering' }]))]]),
      };
    };

    it('idplane’s own writes, full and changed-rows, count nothing', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.write(big(10_000), { lineage: null, serial: 0 });
      const read = await store.read();
      await store.write({ ...read, serial: 2, users: read.users.map((u, i) => (i % 10 === 0 ? { ...u, status: 'SUSPENDED' as const } : u)) }, { lineage: 'L', serial: 1 });
      await store.journal([{ runId: 'r', seq: 0, at: 'now', kind: 'account', action: 'create', userId: 'u0', login: 'u0', app: 'hr', key: 'u0', attributes: null, outcome: 'pending', message: null }]);
      expect(await meta(schema)).toEqual({ outside_writes: '0', sealed_writes: '0', edited: false });
      expect((await open(schema).read()).edited).toBe(false);
    });

    it('counts one per statement, however many rows it touches, on every state table; a rolled-back edit counts nothing', async () => {
      const schema = fresh();
      const s = q(schema);
      const store = open(schema);
      await store.write(big(1_000), { lineage: null, serial: 0 });
      await adminQuery(`UPDATE ${s}.users SET status = 'SUSPENDED'`);
      expect((await meta(schema)).outside_writes).toBe('1');
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`DELETE FROM ${s}.links`);
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
      expect((await meta(schema)).outside_writes).toBe('1');
      await adminQuery(`DELETE FROM ${s}.links WHERE key = 'u1'`);
      await adminQuery(`UPDATE ${s}.imported SET vals = '["Sales"]' WHERE key = 'u2'`);
      await adminQuery(`INSERT INTO ${s}.app_columns (app, columns) VALUES ('extra', '{a}')`);
      await adminQuery(`TRUNCATE ${s}.links`);
      expect((await meta(schema)).outside_writes).toBe('5');
      const read = await store.read();
      expect(read.edited).toBe(true);
      expect(read.links).toEqual([]);
      expect(read.imported.get('extra')).toEqual({ columns: ['a'], records: new Map() });
    });

    it('records left without their column list are reported as damage, not misread', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.write(big(100), { lineage: null, serial: 0 });
      await adminQuery(`DELETE FROM ${q(schema)}.app_columns`);
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await rejection(store.read());
        expect(error).toBeInstanceOf(StateFormatError);
        expect((error as Error).message).toBe('imported records of app "hr" have no column list in app_columns; the PostgreSQL state is damaged');
      }
      expect((await store.history()).runs).toEqual([]); // the store still works
    });

    it('an edit after the store read is not overlooked by the changed-rows path: the next write restores what it says', async () => {
      const schema = fresh();
      const s = q(schema);
      const store = open(schema);
      await store.write(big(100), { lineage: null, serial: 0 });
      const read = await store.read();
      await adminQuery(`UPDATE ${s}.users SET profile = '{"department":"Sales"}' WHERE id = 'u3'`);
      await adminQuery(`UPDATE ${s}.imported SET disabled = true WHERE key = 'u4'`);
      await adminQuery(`UPDATE ${s}.app_columns SET columns = '{dept}'`);
      // Written without a digest (as a migration does): the write goes through, and leaves nothing of the edit.
      const next = { ...read, serial: 2, users: read.users.map((u) => (u.id === 'u9' ? { ...u, status: 'SUSPENDED' as const } : u)) };
      await store.write(next, { lineage: 'L', serial: 1 });
      const after = await open(schema).read();
      expect(after).toEqual(asRead(next));
      expect(after.edited).toBe(false);
      expect(await meta(schema)).toEqual({ outside_writes: '3', sealed_writes: '3', edited: false });
    });

    it('an outside edit committed while a write waits makes that write stale', async () => {
      const schema = fresh();
      const s = q(schema);
      const store = open(schema);
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      const read = await store.read();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE ${s}.users SET login = 'changed@example.com' WHERE id = 'u2'`); // counted, not yet committed
        const writing = rejection(store.write({ ...read, serial: 2 }, { lineage: read.lineage, serial: 1, digest: read.digest }));
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('COMMIT');
        expect(await writing).toBeInstanceOf(StaleStateError);
      } finally {
        await client.end();
      }
      expect(await open(schema).read()).toMatchObject({ serial: 1, edited: true });
    });

    it('an outside edit made while a write holds the state is counted after it, so the next read reports it', async () => {
      const schema = fresh();
      const s = q(schema);
      const store = open(schema);
      await store.write(sampleState(1), { lineage: null, serial: 0 });
      const read = await store.read();
      process.env.IDPLANE_PAUSE_AT = 'state-write';
      let outside: Promise<unknown> | undefined;
      try {
        const paused = whenPaused('state-write');
        const writing = store.write({ ...read, serial: 2, edited: false }, { lineage: read.lineage, serial: 1, digest: read.digest });
        await paused; // the write holds its row locks, not yet committed
        outside = adminQuery(`UPDATE ${s}.users SET login = 'changed@example.com' WHERE id = 'u2'`); // waits for the write to commit
        await waitUntilWaitingOnLock(`UPDATE ${s}.users SET login = 'changed@example.com'%`);
        resumePaused();
        await writing;
      } finally {
        delete process.env.IDPLANE_PAUSE_AT;
      }
      await outside;
      const after = await open(schema).read();
      expect(after).toMatchObject({ serial: 2, edited: true });
      expect(after.users.find((u) => u.id === 'u2')?.login).toBe('changed@example.com');
    });
  });
});

/** Resolves once a statement like `pattern` (a LIKE pattern) is waiting on a lock in the server. */
async function waitUntilWaitingOnLock(pattern: string): Promise<void> {
  for (;;) {
    const r = await adminQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [pattern]);
    if ((r.rows[0] as { n: number }).n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the next look at the server; the outcome is what is waited for
  }
}
