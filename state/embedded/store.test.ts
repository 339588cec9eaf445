import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, type DirectoryState } from '../../reconciler/model.ts';
import { LockHeldError, StaleStateError, StateFormatError, type LockInfo } from '../types.ts';
import { EmbeddedStore } from './store.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STORE_MODULE = fileURLToPath(new URL('./store.ts', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-store-'));
  dir = join(root, '.idplane');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function state(serial: number, lineage: string | null = 'lineage-1', users = 2): DirectoryState {
  return {
    lineage,
    serial,
    users: Array.from({ length: users }, (_, i) => ({
      id: `u${i}`, login: `user${i}@example.com`, status: 'ACTIVE' as const,
      profile: { name: `Zoë ${i}`, note: 'multi\nline', serial }, profileSource: 'hr', roles: i === 0 ? ['admin'] : [],
    })),
    links: [{ app: 'hr', key: '1001', userId: 'u0' }],
    imported: new Map([['hr', { columns: ['first_name', 'note'], records: new Map([['1001', { values: '["Zoë","a\\nb"]', disabled: false }]]) }]]),
    watermarks: { hr: `2024-06-0${serial % 10}` },
    pipeline: 'sha256:p', edited: false, digest: null,
  };
}

/** What a read gives for a written state: the same, with the digest of the stored content. */
const read = (written: DirectoryState) => ({ ...written, digest: expect.stringMatching(/^sha256:/) as unknown as string });

const request = { operation: 'apply', who: 'alice', host: hostname(), pid: process.pid };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

/** The pid of a process that has exited (a short-lived child). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  expect(child.status).toBe(0);
  return child.pid!;
}

describe('EmbeddedStore read/write', () => {
  it('reads the empty state when the folder does not exist, without creating it', async () => {
    const store = new EmbeddedStore({ dir });
    expect(await store.read()).toEqual(emptyState());
    expect(existsSync(dir)).toBe(false);
    expect(store.location).toBe(dir);
  });

  it('writes the state (creating the folder) and reads it back', async () => {
    const store = new EmbeddedStore({ dir: join(dir, 'nested') });
    const first = state(1);
    await store.write(first, { lineage: null, serial: 0 });
    expect(await store.read()).toEqual(read(first));
    expect(await new EmbeddedStore({ dir: join(dir, 'nested') }).read()).toEqual(read(first));

    const second = state(2, 'lineage-1', 5);
    await store.write(second, { lineage: 'lineage-1', serial: 1 });
    expect(await store.read()).toEqual(read(second));
  });

  it('checks the serial of a state whose header is long (many watermarks)', async () => {
    const store = new EmbeddedStore({ dir });
    const watermarks = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`app-${i}`, `2024-06-01T12:00:00.000Z#${'é'.repeat(20)}`]));
    const first = { ...state(1), watermarks };
    await store.write(first, { lineage: null, serial: 0 });
    expect((await readFile(join(dir, 'state.ndjson'))).indexOf(0x0a)).toBeGreaterThan(64 * 1024);
    const second = { ...state(2), watermarks: { ...watermarks, hr: 'next' } };
    await store.write(second, { lineage: 'lineage-1', serial: 1 });
    expect(await store.read()).toEqual(read(second));
    const stale = await rejection(store.write(state(3), { lineage: 'lineage-1', serial: 1 }));
    expect(stale).toBeInstanceOf(StaleStateError);
  });

  it('leaves no temporary file behind', async () => {
    const store = new EmbeddedStore({ dir });
    await store.write(state(1), { lineage: null, serial: 0 });
    await store.write(state(2), { lineage: 'lineage-1', serial: 1 });
    expect((await readdir(dir)).sort()).toEqual(['state.ndjson', 'state.ndjson.backup']);
  });

  it('refuses a write against a stale serial and leaves the file as it was', async () => {
    const store = new EmbeddedStore({ dir });
    await store.write(state(1), { lineage: null, serial: 0 });
    await store.write(state(2), { lineage: 'lineage-1', serial: 1 });
    const before = await readFile(join(dir, 'state.ndjson'));

    const error = await rejection(store.write(state(2, 'lineage-1', 9), { lineage: 'lineage-1', serial: 1 }));
    expect(error).toBeInstanceOf(StaleStateError);
    expect((error as StaleStateError).code).toBe('STALE_STATE');
    expect(error.message).toBe('the state moved since it was read (expected lineage lineage-1 serial 1, found lineage lineage-1 serial 2)');
    expect(await readFile(join(dir, 'state.ndjson'))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['state.ndjson', 'state.ndjson.backup']);
  });

  it('refuses a write against another lineage, and a first write when a state exists', async () => {
    const store = new EmbeddedStore({ dir });
    await store.write(state(1), { lineage: null, serial: 0 });
    const before = await readFile(join(dir, 'state.ndjson'));

    const other = await rejection(store.write(state(2, 'lineage-2'), { lineage: 'lineage-2', serial: 1 }));
    expect(other).toBeInstanceOf(StaleStateError);
    expect(other.message).toBe('the state moved since it was read (expected lineage lineage-2 serial 1, found lineage lineage-1 serial 1)');

    const fresh = await rejection(store.write(state(1, 'lineage-3'), { lineage: null, serial: 0 }));
    expect(fresh).toBeInstanceOf(StaleStateError);
    expect(fresh.message).toBe('the state moved since it was read (expected lineage none serial 0, found lineage lineage-1 serial 1)');

    expect(await readFile(join(dir, 'state.ndjson'))).toEqual(before);
  });

  it('refuses a write expecting a state when there is none', async () => {
    const store = new EmbeddedStore({ dir });
    const error = await rejection(store.write(state(4), { lineage: 'lineage-1', serial: 3 }));
    expect(error).toBeInstanceOf(StaleStateError);
    expect(error.message).toBe('the state moved since it was read (expected lineage lineage-1 serial 3, found lineage none serial 0)');
    expect(existsSync(join(dir, 'state.ndjson'))).toBe(false);
  });

  it('does not tear the file when two writes of one process overlap', async () => {
    const store = new EmbeddedStore({ dir });
    const a = state(1, 'lineage-a', 30_000);
    const b = state(1, 'lineage-b', 20_000);
    await Promise.allSettled([store.write(a, { lineage: null, serial: 0 }), store.write(b, { lineage: null, serial: 0 })]);
    const read = await store.read();
    expect([30_000, 20_000]).toContain(read.users.length);
    expect(read).toEqual({ ...(read.lineage === 'lineage-a' ? a : b), digest: read.digest });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a damaged state file on read, and refuses to write over a damaged header', async () => {
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'state.ndjson');
    const store = new EmbeddedStore({ dir });
    await store.write(state(1), { lineage: null, serial: 0 });
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.split('\n').slice(0, -2).join('\n') + '\n');
    const truncated = await rejection(store.read());
    expect(truncated).toBeInstanceOf(StateFormatError);
    expect(truncated.message).toMatch(new RegExp(`^${escape(file)}: truncated \\(no end marker\\); the state file is damaged\\. There is no ${escape(file)}\\.backup to restore from`));

    await writeFile(file, 'not json\n');
    const damaged = await rejection(store.write(state(2), { lineage: 'lineage-1', serial: 1 }));
    expect(damaged).toBeInstanceOf(StateFormatError);
    expect(damaged.message).toMatch(new RegExp(`^${escape(file)}: cannot read the header; the state file is damaged\\. `));
    expect(await readFile(file, 'utf8')).toBe('not json\n');
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('EmbeddedStore backup and restore', () => {
  it('keeps the generation each write replaces as state.ndjson.backup, a whole state', async () => {
    const store = new EmbeddedStore({ dir });
    await store.write(state(1), { lineage: null, serial: 0 });
    expect(existsSync(join(dir, 'state.ndjson.backup'))).toBe(false);
    const first = await readFile(join(dir, 'state.ndjson'));
    await store.write(state(2), { lineage: 'lineage-1', serial: 1 });
    expect(await readFile(join(dir, 'state.ndjson.backup'))).toEqual(first);
    const second = await readFile(join(dir, 'state.ndjson'));
    await store.write(state(3), { lineage: 'lineage-1', serial: 2 });
    expect(await readFile(join(dir, 'state.ndjson.backup'))).toEqual(second);
    // A refused write keeps the backup as it was.
    await rejection(store.write(state(9), { lineage: 'lineage-1', serial: 1 }));
    expect(await readFile(join(dir, 'state.ndjson.backup'))).toEqual(second);
  });

  it('says how to recover a damaged state, and restores the backup under a new serial', async () => {
    const store = new EmbeddedStore({ dir });
    const file = join(dir, 'state.ndjson');
    await store.write(state(1), { lineage: null, serial: 0 });
    await store.write(state(2), { lineage: 'lineage-1', serial: 1 });
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, Math.floor(text.length / 2)));

    const damaged = await rejection(store.read());
    expect(damaged).toBeInstanceOf(StateFormatError);
    expect(damaged.message).toContain(`The previous generation (serial 1) is kept in ${file}.backup: \`idplane state restore\` puts it back`);

    const outcome = await store.restoreBackup();
    expect(outcome).toEqual({ restored: { lineage: 'lineage-1', serial: 1, users: 2 }, replaced: { serial: 2, keptAs: `${file}.replaced` }, serial: 3 });
    expect(await readFile(`${file}.replaced`, 'utf8')).toBe(text.slice(0, Math.floor(text.length / 2)));
    // The backup's content, with a serial above both: a plan made against either is stale.
    expect(await store.read()).toEqual(read({ ...state(1), serial: 3 }));
    await store.write(state(4), { lineage: 'lineage-1', serial: 3 });
    expect((await store.read()).serial).toBe(4);
  });

  it('restores over a state whose header is unreadable', async () => {
    const store = new EmbeddedStore({ dir });
    const file = join(dir, 'state.ndjson');
    await store.write(state(5), { lineage: null, serial: 0 });
    await store.write(state(6), { lineage: 'lineage-1', serial: 5 });
    await writeFile(file, 'garbage');
    const outcome = await store.restoreBackup();
    expect(outcome).toEqual({ restored: { lineage: 'lineage-1', serial: 5, users: 2 }, replaced: { serial: null, keptAs: `${file}.replaced` }, serial: 6 });
    expect((await store.read()).serial).toBe(6);
  });

  it('refuses, changing nothing, when there is no backup or the backup is damaged', async () => {
    const store = new EmbeddedStore({ dir });
    const file = join(dir, 'state.ndjson');
    const none = await rejection(store.restoreBackup());
    expect(none).toBeInstanceOf(StateFormatError);
    expect(none.message).toBe(`there is no ${file}.backup to restore: it is made by the second write of a state`);

    await store.write(state(1), { lineage: null, serial: 0 });
    await store.write(state(2), { lineage: 'lineage-1', serial: 1 });
    await writeFile(`${file}.backup`, '{"format":"idplane-state"');
    const before = await readFile(file);
    const damaged = await rejection(store.restoreBackup());
    expect(damaged).toBeInstanceOf(StateFormatError);
    expect(damaged.message).toMatch(/^the backup cannot be restored: /);
    expect(await readFile(file)).toEqual(before);
    expect(existsSync(`${file}.replaced`)).toBe(false);
  });
});

describe('EmbeddedStore lock', () => {
  it('takes the lock and writes the holder to lock.json', async () => {
    const store = new EmbeddedStore({ dir });
    const handle = await store.lock(request);
    expect(handle.info).toMatchObject(request);
    expect(handle.info.id).toMatch(UUID);
    expect(new Date(handle.info.created).toISOString()).toBe(handle.info.created);
    expect(JSON.parse(await readFile(join(dir, 'lock.json'), 'utf8'))).toEqual(handle.info);
    expect(await readdir(dir)).toEqual(['lock.json']);
    await handle.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second lock while held, naming operation, who, host, pid and lock id', async () => {
    const store = new EmbeddedStore({ dir });
    const first = await store.lock({ operation: 'apply', who: 'alice', host: hostname(), pid: process.pid });
    const error = await rejection(new EmbeddedStore({ dir }).lock({ operation: 'plan', who: 'bob', host: hostname(), pid: process.pid }));
    expect(error).toBeInstanceOf(LockHeldError);
    const held = error as LockHeldError;
    expect(held.code).toBe('LOCK_HELD');
    expect(held.holder).toEqual(first.info);
    expect(held.message).toBe(
      `the state at ${dir} is locked by alice@${hostname()} (pid ${process.pid}) for apply since ${first.info.created}; ` +
      `lock id ${first.info.id}. If that run is gone, release it with: idplane force-unlock ${first.info.id}`,
    );
    expect(JSON.parse(await readFile(join(dir, 'lock.json'), 'utf8'))).toEqual(first.info);
    expect(await readdir(dir)).toEqual(['lock.json']);
  });

  it('can be taken again after release; a release is idempotent', async () => {
    const store = new EmbeddedStore({ dir });
    const first = await store.lock(request);
    await first.release();
    await first.release();
    const second = await store.lock({ ...request, operation: 'import' });
    expect(second.info.id).not.toBe(first.info.id);
    expect(JSON.parse(await readFile(join(dir, 'lock.json'), 'utf8'))).toEqual(second.info);
  });

  it('does not release a lock that another run took after a force-unlock', async () => {
    const store = new EmbeddedStore({ dir });
    const stale = await store.lock(request);
    await store.forceUnlock(stale.info.id);
    const current = await store.lock({ ...request, who: 'bob' });
    await stale.release();
    expect(JSON.parse(await readFile(join(dir, 'lock.json'), 'utf8'))).toEqual(current.info);
  });

  it('force-unlock refuses a wrong id and releases with the right one', async () => {
    const store = new EmbeddedStore({ dir });
    const handle = await store.lock(request);
    const wrong = await rejection(store.forceUnlock('not-the-id'));
    expect(wrong).toBeInstanceOf(StateFormatError);
    expect(wrong.message).toBe(`the lock at ${dir} has id ${handle.info.id}, not not-the-id`);
    expect(existsSync(join(dir, 'lock.json'))).toBe(true);

    await store.forceUnlock(handle.info.id);
    expect(existsSync(join(dir, 'lock.json'))).toBe(false);
    const none = await rejection(store.forceUnlock(handle.info.id));
    expect(none.message).toBe(`no lock is held at ${dir}`);
    const again = await store.lock(request);
    expect(again.info.id).not.toBe(handle.info.id);
  });

  it('gives the lock to exactly one of several concurrent lock() calls of one process', async () => {
    const store = new EmbeddedStore({ dir });
    const results = await Promise.allSettled(['a', 'b', 'c', 'd'].map((operation) => store.lock({ ...request, operation })));
    const won = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const lost = results.filter((r) => r.status === 'rejected').map((r) => r.reason as Error);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(3);
    for (const error of lost) {
      expect(error).toBeInstanceOf(LockHeldError);
      expect((error as LockHeldError).holder).toEqual(won[0]!.info);
    }
    expect(JSON.parse(await readFile(join(dir, 'lock.json'), 'utf8'))).toEqual(won[0]!.info);
    expect(await readdir(dir)).toEqual(['lock.json']);
    await won[0]!.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock left by a process of this host that is gone, with a notice', async () => {
    await mkdir(dir, { recursive: true });
    const pid = deadPid();
    const abandoned: LockInfo = { id: 'abandoned-id', operation: 'apply', who: 'carol', host: hostname(), pid, created: '2024-01-01T00:00:00.000Z' };
    await writeFile(join(dir, 'lock.json'), JSON.stringify(abandoned));
    const notices: string[] = [];
    const store = new EmbeddedStore({ dir, notice: (m) => notices.push(m) });
    const handle = await store.lock(request);
    expect(notices).toEqual([`taking over the lock abandoned-id left by apply (pid ${pid}, no longer running)`]);
    expect(JSON.parse(await readFile(join(dir, 'lock.json'), 'utf8'))).toEqual(handle.info);
    expect(await readdir(dir)).toEqual(['lock.json']);
  });

  it('does not take over a lock whose process is alive', async () => {
    await mkdir(dir, { recursive: true });
    const alive: LockInfo = { id: 'alive-id', operation: 'apply', who: 'carol', host: hostname(), pid: process.pid, created: '2024-01-01T00:00:00.000Z' };
    const text = JSON.stringify(alive);
    await writeFile(join(dir, 'lock.json'), text);
    const notices: string[] = [];
    const error = await rejection(new EmbeddedStore({ dir, notice: (m) => notices.push(m) }).lock(request));
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holder).toEqual(alive);
    expect(notices).toEqual([]);
    expect(await readFile(join(dir, 'lock.json'), 'utf8')).toBe(text);
  });

  it('does not take over a lock of another host, even if that pid is not running here', async () => {
    await mkdir(dir, { recursive: true });
    const remote: LockInfo = { id: 'remote-id', operation: 'apply', who: 'carol', host: `not-${hostname()}`, pid: deadPid(), created: '2024-01-01T00:00:00.000Z' };
    await writeFile(join(dir, 'lock.json'), JSON.stringify(remote));
    const notices: string[] = [];
    const error = await rejection(new EmbeddedStore({ dir, notice: (m) => notices.push(m) }).lock(request));
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holder).toEqual(remote);
    expect(notices).toEqual([]);
  });

  it('refuses (without removing it) a lock file that cannot be read', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'lock.json'), '{ not json');
    const error = await rejection(new EmbeddedStore({ dir }).lock(request));
    expect(error).toBeInstanceOf(StateFormatError);
    expect(error.message).toBe(`${join(dir, 'lock.json')} exists but cannot be read; remove it if no idplane run is active`);
    expect(await readFile(join(dir, 'lock.json'), 'utf8')).toBe('{ not json');
  });
});

describe('EmbeddedStore crash safety', () => {
  const USERS = 20_000;
  const KILLS = 10;

  /** A writer that loops forever: each write is the other of two versions, serial + 1. */
  function writerScript(): string {
    return `
import { EmbeddedStore } from ${JSON.stringify(pathToFileURL(STORE_MODULE).href)};
const [dir, count] = [process.argv[2], Number(process.argv[3])];
const store = new EmbeddedStore({ dir });
function make(lineage, serial) {
  const version = serial % 2;
  const users = new Array(count);
  for (let i = 0; i < count; i++) {
    users[i] = {
      id: 'u' + i, login: 'user' + i + '@example.com', status: version ? 'ACTIVE' : 'SUSPENDED',
      profile: { version, name: (version ? 'Zoë Müller ' : 'Jürgen Ñandú ') + i, note: 'line\\nbreak ' + serial },
      profileSource: 'hr', roles: version ? ['admin'] : [],
    };
  }
  const imported = new Map([['hr', { columns: ['version'], records: new Map([['k', { values: JSON.stringify([String(version)]), disabled: false }]]) }]]);
  return { lineage, serial, users, links: [{ app: 'hr', key: 'k', userId: 'u0' }], imported, watermarks: {}, pipeline: null, edited: false, digest: null };
}
const current = await store.read();
let at = { lineage: current.lineage, serial: current.serial };
process.stdout.write('ready ' + at.serial + '\\n');
for (;;) {
  const next = make(at.lineage ?? 'crash-lineage', at.serial + 1);
  await store.write(next, at);
  at = { lineage: next.lineage, serial: next.serial };
  process.stdout.write('wrote ' + at.serial + '\\n');
}
`;
  }

  /** Starts the writer, kills it with SIGKILL `delay` ms after it is ready; returns the last serial it reported written. */
  async function runAndKill(script: string, delay: number): Promise<{ acked: number; started: number }> {
    const child = spawn(process.execPath, [script, dir, String(USERS)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const closed = once(child, 'close');
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer not ready after 10 s; stderr: ${err}`)), 10_000);
      const check = () => {
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', check);
      child.on('exit', (code) => reject(new Error(`writer exited early (${code}); stderr: ${err}`)));
    });
    try {
      await ready;
      await new Promise((resolve) => setTimeout(resolve, delay));
      expect(child.exitCode).toBeNull(); // still writing: no crash of its own
      child.kill('SIGKILL');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await closed;
    }
    expect(child.signalCode).toBe('SIGKILL');
    const started = Number(/^ready (\d+)$/m.exec(out)![1]);
    const writes = [...out.matchAll(/^wrote (\d+)$/gm)].map((m) => Number(m[1]));
    return { acked: writes.length > 0 ? writes.at(-1)! : started, started };
  }

  it('never leaves a torn state when the writer is killed at random moments', async () => {
    const script = join(root, 'writer.mts');
    await writeFile(script, writerScript());
    const store = new EmbeddedStore({ dir });
    let expectedSerial = 0;
    let completedWrites = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const delay = 20 + Math.floor(Math.random() * 281);
      const { acked, started } = await runAndKill(script, delay);
      expect(started).toBe(expectedSerial);
      completedWrites += acked - started;

      const read = await store.read();
      // Every acknowledged write is there; at most the one in flight (renamed, not yet reported) is too.
      expect([acked, acked + 1]).toContain(read.serial);
      expect(read.lineage).toBe(read.serial === 0 ? null : 'crash-lineage');
      if (read.serial > 0) {
        const version = read.serial % 2;
        expect(read.users).toHaveLength(USERS);
        let wrong = 0;
        read.users.forEach((u, i) => {
          if (u.id !== `u${i}` || u.profile.version !== version || u.status !== (version ? 'ACTIVE' : 'SUSPENDED') || u.profile.note !== `line\nbreak ${read.serial}`) wrong++;
        });
        expect(wrong).toBe(0);
        expect(read.links).toEqual([{ app: 'hr', key: 'k', userId: 'u0' }]);
        expect(read.imported).toEqual(new Map([['hr', { columns: ['version'], records: new Map([['k', { values: JSON.stringify([String(version)]), disabled: false }]]) }]]));
        expect(read.edited).toBe(false);
        const text = await readFile(join(dir, 'state.ndjson'), 'utf8');
        expect(text).toMatch(new RegExp(`\\n\\{"t":"end","records":${USERS + 2},"digest":"sha256:[0-9a-f]{64}"\\}\\n$`));
      }
      expectedSerial = read.serial;
    }
    // The run must have exercised the store: writes completed between the kills.
    expect(completedWrites).toBeGreaterThan(0);
    expect(expectedSerial).toBeGreaterThan(0);
  }, 40_000);
});
