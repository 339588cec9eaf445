/**
 * The embedded SQLite store on its own: files and pragmas, the state it hands out again while the
 * database holds it, stale writes, duplicate keys, lookups by login, edits made with the sqlite3 shell,
 * and the files it refuses (not SQLite, another application's, a newer schema, a read-only folder).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, type DirectoryState } from '../../reconciler/model.ts';
import { sampleState } from '../conformance-fixtures.ts';
import { StaleStateError, StateAccessError, StateFormatError } from '../types.ts';
import { APPLICATION_ID, ensureSchema, MIGRATIONS, openDatabase, SCHEMA_VERSION, type Migration } from './schema.ts';
import { EmbeddedStore } from './store.ts';

let root: string;
let dir: string;
let file: string;
const stores: EmbeddedStore[] = [];
const open = (options: { notice?: (m: string) => void } = {}) => {
  const store = new EmbeddedStore({ dir, ...options });
  stores.push(store);
  return store;
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-store-'));
  dir = join(root, '.idplane');
  file = join(dir, 'state.db');
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(root, { recursive: true, force: true });
});

function state(serial: number, lineage: string | null = 'lineage-1', users = 2): DirectoryState {
  return {
    lineage, serial,
    users: Array.from({ length: users }, (_, i) => ({
      id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const,
      profile: { name: `Zoë ${i}`, note: 'multi\nline\u0000with a NUL', serial }, profileSource: 'hr', roles: i === 0 ? ['admin'] : [],
    })),
    links: [{ app: 'hr', key: '1001', userId: 'u0' }],
    imported: new Map([['hr', { columns: ['first_name', 'note'], records: new Map([['1001', { values: '["Zoë","a\\u0000b"]', disabled: false }], ['nul\u0000key', { values: '[]', disabled: true }]]) }]]),
    watermarks: { hr: `2024-06-0${serial % 10}` },
    pipeline: 'sha256:p', edited: false, digest: null,
  };
}

const read = (written: DirectoryState) => ({ ...written, digest: expect.stringMatching(/^[0-9a-f-]{36}:\d+$/) as unknown as string });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => {
    throw new Error('expected a rejection');
  }, (e: unknown) => e as Error);
}

/** Runs `sql` with the sqlite3 shell, as someone editing the state by hand would. */
function sqlite3(sql: string): void {
  const r = spawnSync('sqlite3', [file, sql], { encoding: 'utf8' });
  if (r.error) throw new Error(`the sqlite3 shell is needed for this test (apt-get install sqlite3): ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
}

describe('EmbeddedStore read/write', () => {
  it('reads the empty state when the folder does not exist, without creating it', async () => {
    const store = open();
    expect(await store.read()).toEqual(emptyState());
    expect(await store.readUser('user0@example.com')).toBeNull();
    expect(await store.history()).toEqual({ runs: [], changes: [] });
    expect(existsSync(dir)).toBe(false);
    expect(store.location).toBe(dir);
  });

  it('writes the state into state.db (creating the folder), in WAL mode, and reads it back: NUL characters too', async () => {
    const store = new EmbeddedStore({ dir: join(dir, 'nested') });
    stores.push(store);
    await store.write(state(1), { lineage: null, serial: 0 });
    const other = new EmbeddedStore({ dir: join(dir, 'nested') });
    stores.push(other);
    expect(await other.read()).toEqual(read(state(1)));
    await store.write(state(2, 'lineage-1', 5), { lineage: 'lineage-1', serial: 1 });
    expect(await other.read()).toEqual(read(state(2, 'lineage-1', 5)));
    const db = new DatabaseSync(join(dir, 'nested/state.db'));
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA application_id').get()).toEqual({ application_id: APPLICATION_ID });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION });
    db.close();
    await store.close();
    await other.close();
    expect((await readdir(join(dir, 'nested'))).sort()).toEqual(['state.db']);
  });

  it('returns the state it read or wrote again while the database holds it, and reads anew once it changed', async () => {
    const store = open();
    const written = state(1);
    await store.write(written, { lineage: null, serial: 0 });
    const first = await store.read();
    expect(first).toEqual(read(written));
    expect(first.users).toBe(written.users);
    expect(await store.read()).toBe(first);
    const other = open();
    await other.write(state(2), { lineage: 'lineage-1', serial: 1, digest: first.digest });
    const second = await store.read();
    expect(second).not.toBe(first);
    expect(second).toEqual(read(state(2)));
    sqlite3(`UPDATE users SET record = json_set(record, '$.status', 'SUSPENDED') WHERE ord = 0`);
    const third = await store.read();
    expect(third).toMatchObject({ serial: 2, edited: true });
    expect(third.users[0]!.status).toBe('SUSPENDED');
  });

  it('refuses a write against a stale serial, changing nothing', async () => {
    const store = open();
    await store.write(state(1), { lineage: null, serial: 0 });
    await store.write(state(2), { lineage: 'lineage-1', serial: 1 });
    const error = await rejection(store.write(state(2, 'lineage-1', 9), { lineage: 'lineage-1', serial: 1 }));
    expect(error).toBeInstanceOf(StaleStateError);
    expect(error.message).toBe('the state moved since it was read (expected lineage lineage-1 serial 1, found lineage lineage-1 serial 2)');
    expect(await open().read()).toEqual(read(state(2)));
  });

  it('runs overlapping writes of one process one after the other: the second finds the state moved', async () => {
    const store = open();
    const a = state(1, 'lineage-a', 3000);
    const b = state(1, 'lineage-b', 2000);
    const results = await Promise.allSettled([store.write(a, { lineage: null, serial: 0 }), store.write(b, { lineage: null, serial: 0 })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleStateError);
    expect(await open().read()).toEqual(read(a));
  });

  it('refuses a next state holding a user id twice, writing nothing', async () => {
    const store = open();
    await store.write(state(1), { lineage: null, serial: 0 });
    const twice = { ...state(2), users: [...state(2).users, state(2).users[0]!] };
    const error = await rejection(open().write(twice, { lineage: 'lineage-1', serial: 1 }));
    expect(error).toBeInstanceOf(StateFormatError);
    expect(error.message).toMatch(/^the state cannot be stored in .*state\.db: UNIQUE constraint failed: users\.id \(the same key twice\)$/);
    expect(await open().read()).toEqual(read(state(1)));
  });

  it('finds a user by a login in another case, non-ASCII letters included, by index', async () => {
    const store = open();
    await store.write(sampleState(1), { lineage: null, serial: 0 });
    expect((await open().readUser('ZOË.ÅNGSTRÖM@EXAMPLE.COM'))?.user.id).toBe('u0');
    expect((await open().readUser('USER2@EXAMPLE.COM'))?.user.id).toBe('u2');
    const db = new DatabaseSync(file);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT record FROM users WHERE login = ? COLLATE NOCASE ORDER BY ord LIMIT 1`).all('x') as { detail: string }[]).map((r) => r.detail).join('; ');
    db.close();
    expect(plan).toMatch(/USING INDEX users_login/);
  });
});

describe('edits outside idplane', () => {
  it('an UPDATE in the sqlite3 shell marks the state edited with another digest; a write against the old digest is refused', async () => {
    const store = open();
    await store.write(state(1), { lineage: null, serial: 0 });
    const seen = await open().read();
    expect(seen.edited).toBe(false);
    sqlite3(`UPDATE users SET record = json_set(record, '$.profile.name', 'Edited by hand') WHERE ord = 1`);
    const edited = await open().read();
    expect(edited).toMatchObject({ serial: 1, edited: true });
    expect(edited.users[1]!.profile.name).toBe('Edited by hand');
    expect(edited.digest).not.toBe(seen.digest);
    await expect(open().write(state(2), { lineage: 'lineage-1', serial: 1, digest: seen.digest })).rejects.toBeInstanceOf(StaleStateError);
    // Deleting a link, or changing the serial, in the shell counts too.
    sqlite3('DELETE FROM links; UPDATE meta SET serial = 7');
    expect((await open().read()).digest).not.toBe(edited.digest);
  });

  it('counts nothing for idplane\'s own writes, full or changed-rows, nor for runs and the journal', async () => {
    const store = open();
    await store.write(state(1, 'lineage-1', 500), { lineage: null, serial: 0 });
    const current = await store.read();
    await store.write({ ...current, serial: 2, users: current.users.map((u, i) => (i % 10 === 0 ? { ...u, status: 'SUSPENDED' as const } : u)) }, { lineage: 'lineage-1', serial: 1 });
    await store.journal([{ runId: 'r', seq: 0, at: 'now', kind: 'account', action: 'create', userId: 'u0', login: 'u0', app: 'hr', key: 'u0', attributes: null, outcome: 'pending', message: null }]);
    const db = new DatabaseSync(file);
    expect(db.prepare('SELECT outside_writes, sealed_writes, edited, writing FROM meta').get()).toEqual({ outside_writes: 0, sealed_writes: 0, edited: 0, writing: 0 });
    db.close();
    expect((await open().read()).edited).toBe(false);
  });
});

describe('files that are not a state idplane can read', () => {
  it('refuses a file that is not an SQLite database, naming it, and overwrites nothing', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(file, 'these are not the bytes of an SQLite database, which begin with "SQLite format 3" '.repeat(100));
    const error = await rejection(open().read());
    expect(error).toBeInstanceOf(StateFormatError);
    expect(error.message).toBe(`${file} is not an SQLite database (file is not a database); it is not an idplane state, or it is damaged. There is no usable ${file}.backup to restore from: put back a copy from your own backups, or move the damaged file aside and let the next apply rebuild the directory from the sources (links made by matching are found again; \`links:\` entries in the config hold).`);
    await expect(open().write(state(1), { lineage: null, serial: 0 })).rejects.toBeInstanceOf(StateFormatError);
    expect((await readdir(dir)).sort()).toEqual(['state.db']);
  });

  it('refuses another application\'s SQLite database, changing nothing', async () => {
    await mkdir(dir, { recursive: true });
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (\'mine\')');
    db.close();
    const error = await rejection(open().write(state(1), { lineage: null, serial: 0 }));
    expect(error.message).toBe(`${file} is an SQLite database, but not an idplane state (application_id 0); move it away, or point state.path elsewhere`);
    const after = new DatabaseSync(file);
    expect(after.prepare(`SELECT group_concat(name) AS names FROM sqlite_schema`).get()).toEqual({ names: 'notes' });
    after.close();
  });

  it('refuses a database from a newer idplane (a schema version it does not know), changing nothing', async () => {
    await open().write(state(1), { lineage: null, serial: 0 });
    for (const store of stores.splice(0)) await store.close();
    sqlite3(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    const error = await rejection(open().read());
    expect(error).toBeInstanceOf(StateFormatError);
    expect(error.message).toBe(`${file} has schema version ${SCHEMA_VERSION + 1}, newer than this idplane understands (${SCHEMA_VERSION}): it was written by a newer idplane; upgrade idplane`);
    await expect(open().write(state(2), { lineage: 'lineage-1', serial: 1 })).rejects.toThrow(/newer than this idplane understands/);
    const db = new DatabaseSync(file);
    expect(db.prepare('SELECT serial FROM meta').get()).toEqual({ serial: 1 });
    db.close();
  });

  it('brings an older schema up to date in one transaction, and leaves it as it was when a step fails', async () => {
    await mkdir(dir, { recursive: true });
    const next: Migration[] = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, description: 'test', statements: ['ALTER TABLE runs ADD COLUMN note TEXT'] }];
    const db = openDatabase(file);
    ensureSchema(db, file);
    const version = () => (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    const broken: Migration[] = [...next, { version: SCHEMA_VERSION + 2, description: 'broken', statements: ['ALTER TABLE runs ADD COLUMN other TEXT', 'SELECT * FROM no_such_table'] }];
    expect(() => ensureSchema(db, file, broken)).toThrow(/no such table/);
    expect(version()).toBe(SCHEMA_VERSION);
    expect((db.prepare('SELECT name FROM pragma_table_info(\'runs\') WHERE name IN (\'note\', \'other\')').all())).toEqual([]);
    ensureSchema(db, file, next);
    expect(version()).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare('SELECT name FROM pragma_table_info(\'runs\') WHERE name = \'note\'').all()).toEqual([{ name: 'note' }]);
    db.close();
  });

  it('says when the folder is read-only: reading and writing fail with the folder named, nothing half-written', async () => {
    await open().write(state(1), { lineage: null, serial: 0 });
    for (const store of stores.splice(0)) await store.close();
    // root ignores permission bits: an immutable folder is read-only even for root.
    const immutable = process.getuid?.() === 0;
    if (immutable) expect(spawnSync('chattr', ['+i', dir]).status, 'cannot make the folder read-only here (chattr +i)').toBe(0);
    else await chmod(dir, 0o555);
    try {
      for (const attempt of [open().read(), open().write(state(2), { lineage: 'lineage-1', serial: 1 })]) {
        const error = await rejection(attempt);
        expect(error).toBeInstanceOf(StateAccessError);
        expect(error.message).toBe(`cannot use the state at ${file}: the folder ${dir} is read-only (the state database writes beside its file, its write-ahead log, even to read)`);
      }
    } finally {
      if (immutable) spawnSync('chattr', ['-i', dir]);
      else await chmod(dir, 0o755);
    }
    expect((await open().read()).serial).toBe(1);
  });
});
