/**
 * Migrating a state of the former ndjson format into SQLite on first use: nothing lost, a damaged file
 * refused with nothing migrated, a damaged previous generation skipped with a notice, leftover files
 * renamed after a kill, two processes at once, and a process killed mid-migration.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryState } from '../../../reconciler/model.ts';
import { asRead, change, run, sampleState } from '../../conformance-fixtures.ts';
import { StateFormatError, type ChangeRecord } from '../../types.ts';
import { EmbeddedStore } from '../store.ts';
import { legacyHistoryText, legacyStateText, type LegacyEntry } from './fixture.ts';

const STORE_MODULE = fileURLToPath(new URL('../store.ts', import.meta.url));

let root: string;
let dir: string;
const stores: EmbeddedStore[] = [];
const open = (notice?: (m: string) => void) => {
  const store = new EmbeddedStore({ dir, ...(notice ? { notice } : {}) });
  stores.push(store);
  return store;
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-migrate-'));
  dir = join(root, '.idplane');
  await mkdir(dir);
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(root, { recursive: true, force: true });
});

const runs = [run('r1', '2026-12-01T10:00:00.000Z', { outcome: 'succeeded', serialAfter: 1 }), run('r2', '2026-12-02T10:00:00.000Z', { outcome: 'partial', serialBefore: 1, serialAfter: 2 })];
const kept: ChangeRecord[] = [change('r1', 0, 'zoë.ångström@example.com'), change('r1', 1, 'user1@example.com', { kind: 'link', action: 'link', app: 'hr', key: '1002', attributes: null }), change('r2', 0, 'user2@example.com'), change('r2', 1, 'user2@example.com', { kind: 'account', action: 'create', app: 'crm', key: 'u2', outcome: 'failed', message: 'HTTP 500' })];

/** An old-format folder: the state (its header's token is w2), the previous generation, and a history with one uncommitted write. */
async function legacyFolder(state: DirectoryState, options: { backup?: DirectoryState | string } = {}): Promise<void> {
  await writeFile(join(dir, 'state.ndjson'), legacyStateText(state, 'w2'));
  if (options.backup !== undefined) await writeFile(join(dir, 'state.ndjson.backup'), typeof options.backup === 'string' ? options.backup : legacyStateText(options.backup, 'w1'));
  const entries: LegacyEntry[] = [
    { run: { ...runs[0]!, outcome: 'running', serialAfter: null } }, { change: kept[0]!, commit: 'w1' }, { change: kept[1]!, commit: 'w1' }, { commit: 'w1' },
    { run: runs[1]! }, { change: change('r2', 9, 'never-committed@example.com'), commit: 'w-lost' }, { change: kept[2]!, commit: 'w2' }, { change: kept[3]! },
    { run: runs[0]! },
  ];
  await writeFile(join(dir, 'history.ndjson'), legacyHistoryText(entries));
}

describe('migrating a state.ndjson into SQLite on first use', () => {
  it('keeps everything: the directory, its flags and serial, every run and committed change, and the previous generation', async () => {
    const state = { ...sampleState(2), edited: true };
    await legacyFolder(state, { backup: sampleState(1) });
    const notices: string[] = [];
    const store = open((m) => notices.push(m));
    expect(await store.read()).toEqual(asRead(state));
    expect(notices).toEqual([`migrated the embedded state to SQLite: ${join(dir, 'state.db')} now holds 3 users and 2 recorded runs (4 changes), and ${join(dir, 'state.db.backup')} the previous generation; the former files are kept as state.ndjson.migrated, history.ndjson.migrated, state.ndjson.backup.migrated (nothing reads them any more)`]);
    expect((await readdir(dir)).sort()).toEqual(['history.ndjson.migrated', 'state.db', 'state.db-shm', 'state.db-wal', 'state.db.backup', 'state.ndjson.backup.migrated', 'state.ndjson.migrated']);
    const other = open();
    expect(await other.read()).toEqual(asRead(state));
    expect(await other.history()).toEqual({ runs: [runs[1], runs[0]], changes: kept });
    // The previous generation is what `state restore` puts back.
    expect(await other.restoreBackup()).toMatchObject({ restored: { lineage: 'lineage-a', serial: 1, users: 3 }, serial: 3, history: 'current' });
    expect((await open().read()).users).toEqual(sampleState(1).users);
  });

  it('reads a hand-edited file as edited, and a history without a state file as an empty state with its runs', async () => {
    const text = legacyStateText(sampleState(4)).replace('"department":"Engineering"', '"department":"Hand edited"');
    await writeFile(join(dir, 'state.ndjson'), text);
    expect(await open().read()).toMatchObject({ serial: 4, edited: true });
    await rm(join(dir), { recursive: true });
    await mkdir(dir);
    await writeFile(join(dir, 'history.ndjson'), legacyHistoryText([{ run: runs[0]! }, { change: kept[0]! }]));
    expect(await open().read()).toMatchObject({ lineage: null, serial: 0, users: [] });
    expect((await open().history()).runs).toEqual([runs[0]]);
  });

  it('refuses a damaged state file with the line and how to recover, migrating nothing', async () => {
    const text = legacyStateText(sampleState(2));
    await legacyFolder(sampleState(2), { backup: sampleState(1) });
    await writeFile(join(dir, 'state.ndjson'), text.split('\n').slice(0, 3).join('\n') + '\n');
    const before = (await readdir(dir)).sort();
    const error = await open().read().then(() => null, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(StateFormatError);
    const file = join(dir, 'state.ndjson');
    expect(error!.message).toBe(`${file}: truncated (no end marker); the state file is damaged. The embedded state was not migrated to SQLite, and nothing was changed. Its previous generation (serial 1) is whole: keep the damaged file and put that one in its place (mv ${file} ${file}.damaged && cp ${file}.backup ${file}), then run again; the next plan shows what the runs since need to redo.`);
    await expect(open().write(sampleState(3), { lineage: 'lineage-a', serial: 2 })).rejects.toThrow(/not migrated/);
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('migrates the state when only its previous generation is damaged, saying so', async () => {
    await legacyFolder(sampleState(2), { backup: 'not a state\n' });
    const notices: string[] = [];
    expect((await open((m) => notices.push(m)).read()).serial).toBe(2);
    expect(notices[0]).toMatch(/state\.ndjson\.backup cannot be read \(.*missing header.*\); the migrated state has no previous generation until the next apply keeps one$/);
    expect(existsSync(join(dir, 'state.db.backup'))).toBe(false);
    expect(await readFile(join(dir, 'state.ndjson.backup.migrated'), 'utf8')).toBe('not a state\n');
  });

  it('finishes the renames a killed migration left: old files beside a migrated state.db go aside', async () => {
    await legacyFolder(sampleState(2));
    await open().read();
    for (const store of stores.splice(0)) await store.close();
    await writeFile(join(dir, 'state.ndjson'), await readFile(join(dir, 'state.ndjson.migrated')));
    const notices: string[] = [];
    expect((await open((m) => notices.push(m)).read()).serial).toBe(2);
    expect(notices).toEqual([`finished migrating the embedded state to SQLite (${join(dir, 'state.ndjson')} was migrated before); the former files are kept as state.ndjson.migrated (nothing reads them any more)`]);
    expect(existsSync(join(dir, 'state.ndjson'))).toBe(false);
  });
});

describe('migrating in two processes at once, or killed', () => {
  /** A process that opens the store, reads, and prints what it read. */
  async function reader(env: Record<string, string> = {}, onPaused?: (pid: number) => void): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
    const script = join(root, 'reader.mts');
    await writeFile(script, `import { EmbeddedStore } from ${JSON.stringify(pathToFileURL(STORE_MODULE).href)};
const store = new EmbeddedStore({ dir: process.argv[2], notice: (m) => process.stderr.write(m + '\\n') });
const state = await store.read();
const history = await store.history({ limit: 100 });
process.stdout.write(JSON.stringify({ serial: state.serial, users: state.users.length, runs: history.runs.length, changes: history.changes.length }));
await store.close();
`);
    const child = spawn(process.execPath, [script, dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (onPaused && err.includes('paused at migration')) onPaused(child.pid!);
    });
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    return { code, signal, out, err };
  }

  const expected = JSON.stringify({ serial: 2, users: 3, runs: 2, changes: 4 });

  it('exactly one migration is put in place; the other process uses it, nothing doubled', async () => {
    await legacyFolder(sampleState(2), { backup: sampleState(1) });
    let second: Promise<Awaited<ReturnType<typeof reader>>> | null = null;
    // The first process stops with its database built, not yet in place; the second migrates meanwhile.
    const first = reader({ IDPLANE_PAUSE_AT: 'migration' }, (pid) => {
      second ??= reader().then((result) => {
        process.kill(pid, 'SIGUSR2');
        return result;
      });
    });
    const a = await first;
    const b = await second!;
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    expect([a.out, b.out]).toEqual([expected, expected]);
    expect(b.err).toMatch(/^migrated the embedded state to SQLite/);
    expect(a.err).not.toMatch(/migrated the embedded state/);
    expect((await readdir(dir)).sort()).toEqual(['history.ndjson.migrated', 'state.db', 'state.db.backup', 'state.ndjson.backup.migrated', 'state.ndjson.migrated']);
  });

  it('a migration killed before its database is in place changes nothing; the next one migrates', async () => {
    await legacyFolder(sampleState(2), { backup: sampleState(1) });
    const killed = await reader({ IDPLANE_CRASH_AT: 'migration' });
    expect(killed.signal).toBe('SIGKILL');
    const files = await readdir(dir);
    expect(files.filter((f) => !f.includes('.migrating'))).toEqual(expect.arrayContaining(['state.ndjson', 'history.ndjson', 'state.ndjson.backup']));
    expect(files).not.toContain('state.db');
    const again = await reader();
    expect(again.out).toBe(expected);
    // The killed process's private files are gone too.
    expect((await readdir(dir)).sort()).toEqual(['history.ndjson.migrated', 'state.db', 'state.db.backup', 'state.ndjson.backup.migrated', 'state.ndjson.migrated']);
  });
});

