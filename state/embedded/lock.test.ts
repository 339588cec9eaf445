/**
 * The embedded store's lock file: holder information, exclusivity within and across stores, release,
 * force-unlock by id, and taking over the lock of a process of this host that is gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockHeldError, StateFormatError, type LockInfo } from '../types.ts';
import { EmbeddedStore } from './store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-lock-'));
  dir = join(root, '.idplane');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

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

describe('EmbeddedStore lock', () => {
  it('takes the lock and writes the holder to lock.json, without opening the database', async () => {
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
