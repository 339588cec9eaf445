/**
 * The embedded store's lock: lock.json in the state folder, made with link() (which fails if the file
 * exists), so the lock appears atomically with its content and is never seen empty. It names the holder
 * (operation, who, host, pid, since when, id). A lock whose process is gone on this same host is taken
 * over with a notice; a lock of another host, or of a live process, is reported as LockHeldError.
 * `release` removes the file only while it is still this lock (a lock taken after a force-unlock is
 * never released by the old holder); `forceUnlock(id)` removes it when the id matches.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { waitForLock } from '../lock-wait.ts';
import { LockHeldError, StateFormatError, type LockHandle, type LockInfo } from '../types.ts';

export class LockFile {
  private readonly file: string;
  private readonly dir: string;
  private readonly notice: ((message: string) => void) | undefined;

  constructor(dir: string, notice?: (message: string) => void) {
    this.dir = dir;
    this.file = join(dir, 'lock.json');
    this.notice = notice;
  }

  async lock(request: Omit<LockInfo, 'id' | 'created'>, options: { waitMs?: number } = {}): Promise<LockHandle> {
    return waitForLock(() => this.tryLock(request), options.waitMs ?? 0);
  }

  private async tryLock(request: Omit<LockInfo, 'id' | 'created'>): Promise<LockHandle> {
    await mkdir(this.dir, { recursive: true });
    const info: LockInfo = { ...request, id: randomUUID(), created: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      // The holder goes to a private file, hard-linked into place. Named by the lock id: two lock()
      // calls in one process must not share (and overwrite) it.
      const temp = `${this.file}.${process.pid}.${info.id}.tmp`;
      await writeFile(temp, JSON.stringify(info, null, 2) + '\n');
      try {
        await link(temp, this.file);
        return { info, release: () => this.releaseIf(info.id) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await this.holder();
        if (holder && holder.host === hostname() && !processAlive(holder.pid) && attempt === 0) {
          this.notice?.(`taking over the lock ${holder.id} left by ${holder.operation} (pid ${holder.pid}, no longer running)`);
          await rm(this.file, { force: true });
          continue;
        }
        if (!holder) {
          if (attempt === 0) continue; // released between our link and our read
          throw new StateFormatError(`${this.file} exists but cannot be read; remove it if no idplane run is active`);
        }
        throw new LockHeldError(holder, this.dir);
      } finally {
        await rm(temp, { force: true });
      }
    }
    throw new StateFormatError(`could not take the lock at ${this.file}`);
  }

  async forceUnlock(id: string): Promise<void> {
    const holder = await this.holder();
    if (!holder) throw new StateFormatError(`no lock is held at ${this.dir}`);
    if (holder.id !== id) throw new StateFormatError(`the lock at ${this.dir} has id ${holder.id}, not ${id}`);
    await rm(this.file, { force: true });
  }

  private async releaseIf(id: string): Promise<void> {
    const holder = await this.holder();
    if (holder?.id === id) await rm(this.file, { force: true });
  }

  /** Who holds the lock, or null when nobody does (or the file cannot be read). */
  async holder(): Promise<LockInfo | null> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as LockInfo;
    } catch {
      return null;
    }
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
