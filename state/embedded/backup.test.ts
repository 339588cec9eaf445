/**
 * state.db.backup and restoreBackup: which runs take a backup and of what, and putting it back over a
 * readable database, a damaged one, or none; refusing when there is no usable backup.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryState } from '../../reconciler/model.ts';
import { change, run } from '../conformance-fixtures.ts';
import { StateFormatError, type RunRecord } from '../types.ts';
import { EmbeddedStore } from './store.ts';

let root: string;
let dir: string;
let file: string;
let backup: string;
const stores: EmbeddedStore[] = [];
const open = () => {
  const store = new EmbeddedStore({ dir });
  stores.push(store);
  return store;
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-backup-'));
  dir = join(root, '.idplane');
  file = join(dir, 'state.db');
  backup = `${file}.backup`;
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(root, { recursive: true, force: true });
});

function state(serial: number, users = 2): DirectoryState {
  return {
    lineage: 'lineage-1', serial,
    users: Array.from({ length: users }, (_, i) => ({ id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const, profile: { serial }, profileSource: 'hr', roles: [] })),
    links: [{ app: 'hr', key: '1001', userId: 'u0' }],
    imported: new Map([['hr', { columns: ['n'], records: new Map([['1001', { values: `["${serial}"]`, disabled: false }]]) }]]),
    watermarks: { hr: String(serial) }, pipeline: `sha256:${serial}`, edited: false, digest: null,
  };
}

const read = (written: DirectoryState) => ({ ...written, digest: expect.any(String) as unknown as string });

/** A run as apply (or another command) records it at its start, then the state write it makes. */
async function applyRun(store: EmbeddedStore, next: DirectoryState, command = 'apply'): Promise<RunRecord> {
  const started = run(`run-${next.serial}-${command}`, `2026-12-0${next.serial}T10:00:00.000Z`, { command, serialBefore: next.serial - 1 });
  await store.recordRun(started);
  await store.write(next, { lineage: next.serial === 1 ? null : 'lineage-1', serial: next.serial - 1 }, [change(started.id, 0, 'user0@example.com')]);
  return started;
}

const serialIn = (path: string): number => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT serial FROM meta').get() as { serial: number }).serial;
  } finally {
    db.close();
  }
};

describe('state.db.backup', () => {
  it('is taken before an apply writes, as a whole self-contained file of the state it replaces; never for JIT sign-ins or a first write', async () => {
    const store = open();
    await applyRun(store, state(1));
    expect(existsSync(backup)).toBe(false); // nothing to keep before the first write
    await applyRun(store, state(2));
    expect(serialIn(backup)).toBe(1);
    await applyRun(store, state(3), 'serve jit');
    await applyRun(store, state(4), 'jit');
    expect(serialIn(backup)).toBe(1);
    await applyRun(store, state(5), 'serve schedule hr');
    expect(serialIn(backup)).toBe(4);
    // The backup's run record is the run's start: it was taken before the run was recorded.
    await store.close();
    expect((await readdir(dir)).sort()).toEqual(['state.db', 'state.db.backup']);
    const copy = new DatabaseSync(backup, { readOnly: true });
    expect(copy.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'delete' });
    expect((copy.prepare('SELECT id FROM runs ORDER BY recorded').all() as { id: string }[]).map((r) => r.id)).toEqual(['run-1-apply', 'run-2-apply', 'run-3-serve jit', 'run-4-jit']);
    copy.close();
  });

  it('a run recorded again (its finish) takes no second backup', async () => {
    const store = open();
    await applyRun(store, state(1));
    const second = await applyRun(store, state(2));
    await store.write(state(3), { lineage: 'lineage-1', serial: 2 });
    await store.recordRun({ ...second, outcome: 'succeeded', finishedAt: '2026-12-02T10:01:00.000Z' });
    expect(serialIn(backup)).toBe(1);
  });
});

describe('restoreBackup', () => {
  it('puts the backup\'s state back with a serial above both, keeps the replaced database aside, and keeps the history', async () => {
    const store = open();
    await applyRun(store, state(1, 3));
    await applyRun(store, state(2, 5));
    const outcome = await store.restoreBackup();
    expect(outcome).toEqual({ restored: { lineage: 'lineage-1', serial: 1, users: 3 }, replaced: { serial: 2, keptAs: `${file}.replaced` }, serial: 3, history: 'current' });
    expect(await open().read()).toEqual(read({ ...state(1, 3), serial: 3 }));
    expect(serialIn(`${file}.replaced`)).toBe(2);
    expect((await open().history()).runs.map((r) => r.id)).toEqual(['run-2-apply', 'run-1-apply']);
    // A plan saved against either generation is stale: the serial is new.
    await expect(open().write(state(3), { lineage: 'lineage-1', serial: 2 })).rejects.toThrow(/found lineage lineage-1 serial 3/);
    await open().write(state(4), { lineage: 'lineage-1', serial: 3 });
    expect((await open().read()).serial).toBe(4);
    expect((await open().read()).edited).toBe(false);
  });

  it('replaces a database that cannot be read: kept aside with its WAL; the history is then the backup\'s', async () => {
    const store = open();
    await applyRun(store, state(1, 3));
    await applyRun(store, state(2, 5));
    await store.close();
    await truncate(file, 3000);
    const damaged = await readFile(file);
    const error = await open().read().then(() => null, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(StateFormatError);
    expect(error!.message).toContain(`is damaged (database disk image is malformed); the state database cannot be read. The previous generation (serial 1) is kept in ${backup}: \`idplane state restore\` puts it back (keeping the damaged file as ${file}.replaced)`);
    const outcome = await open().restoreBackup();
    expect(outcome).toEqual({ restored: { lineage: 'lineage-1', serial: 1, users: 3 }, replaced: { serial: null, keptAs: `${file}.replaced` }, serial: 2, history: 'backup' });
    expect(await readFile(`${file}.replaced`)).toEqual(damaged);
    expect(await open().read()).toEqual(read({ ...state(1, 3), serial: 2 }));
    expect((await open().history()).runs.map((r) => r.id)).toEqual(['run-1-apply']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('puts the backup in place when the database is gone', async () => {
    const store = open();
    await applyRun(store, state(1));
    await applyRun(store, state(2));
    await store.close();
    await rm(file);
    expect(await open().restoreBackup()).toMatchObject({ replaced: null, serial: 2, history: 'backup' });
    expect((await open().read()).serial).toBe(2);
  });

  it('refuses, changing nothing, when there is no backup or the backup is damaged', async () => {
    const none = await open().restoreBackup().then(() => null, (e: unknown) => e as Error);
    expect(none).toBeInstanceOf(StateFormatError);
    expect(none!.message).toBe(`there is no ${backup} to restore: it is taken before each apply (and scheduled import) that changes the state`);
    const store = open();
    await applyRun(store, state(1));
    await applyRun(store, state(2));
    await store.close();
    await writeFile(backup, 'SQLite format 3\u0000 but then nothing a database holds');
    const before = await readFile(file);
    const damaged = await open().restoreBackup().then(() => null, (e: unknown) => e as Error);
    expect(damaged).toBeInstanceOf(StateFormatError);
    expect(damaged!.message).toMatch(/^the backup cannot be restored: .*state\.db\.backup is (damaged|not an SQLite database)/);
    expect(await readFile(file)).toEqual(before);
    expect(existsSync(`${file}.replaced`)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
