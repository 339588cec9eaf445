/**
 * The embedded state backend: a folder (default .idplane/ beside the config) holding state.ndjson and,
 * while a run holds it, lock.json. Writes go to a temporary file that is fsynced and renamed over the old
 * one, so a kill at any instant leaves either the previous or the new state, never a torn one. Each write
 * keeps the generation it replaces as state.ndjson.backup (a hard link: no copy of a big file), which
 * `idplane state restore` puts back when the state is damaged or a run went wrong, as Terraform keeps
 * terraform.tfstate.backup. The lock is created with O_EXCL; a lock whose process is gone on this same
 * host is taken over with a notice.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DirectoryState } from '../../reconciler/model.ts';
import { emptyState } from '../../reconciler/model.ts';
import { readFileChunks } from '../chunks.ts';
import { crashPoint } from '../crash-point.ts';
import { waitForLock } from '../lock-wait.ts';
import { LockHeldError, StaleStateError, StateFormatError, type ChangeRecord, type History, type HistoryQuery, type LockHandle, type LockInfo, type ReadOptions, type RestoreOutcome, type RunRecord, type StateRef, type StateStore } from '../types.ts';
import { decodeState, encodeState } from './codec.ts';
import { appendHistory, changeLines, commitLine, readHistory, runLine } from './history.ts';

export interface EmbeddedStoreOptions {
  dir: string;
  /** Told when an abandoned lock is taken over. */
  notice?: (message: string) => void;
}

export class EmbeddedStore implements StateStore {
  readonly location: string;
  private readonly file: string;
  private readonly lockFile: string;
  private readonly historyFile: string;
  private readonly backupFile: string;

  private readonly options: EmbeddedStoreOptions;

  constructor(options: EmbeddedStoreOptions) {
    this.options = options;
    this.location = options.dir;
    this.file = join(options.dir, 'state.ndjson');
    this.lockFile = join(options.dir, 'lock.json');
    this.historyFile = join(options.dir, 'history.ndjson');
    this.backupFile = `${this.file}.backup`;
  }

  async read(options: ReadOptions = {}): Promise<DirectoryState> {
    let size: number;
    try {
      size = (await stat(this.file)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw error;
    }
    try {
      return await decodeState(counted(readFileChunks(this.file), size, options.onProgress), this.file);
    } catch (error) {
      if (error instanceof StateFormatError) throw await this.withRecovery(error);
      throw error;
    }
  }

  /** A damaged-state error, saying how to get back to a whole state. */
  private async withRecovery(error: StateFormatError): Promise<StateFormatError> {
    const backup = await headerOf(this.backupFile).catch(() => null);
    const how = backup
      ? ` The previous generation (serial ${backup.serial}) is kept in ${this.backupFile}: \`idplane state restore\` puts it back (keeping the damaged file as ${this.file}.replaced); the next plan then shows what the runs since need to redo.`
      : ` There is no ${this.backupFile} to restore from: put back a copy from your own backups, or move the damaged file aside and let the next apply rebuild the directory from the sources (links made by matching are found again; \`links:\` entries in the config hold).`;
    return new StateFormatError(`${error.message}.${how}`, { cause: error });
  }

  async restoreBackup(): Promise<RestoreOutcome> {
    let backup: DirectoryState;
    try {
      backup = await decodeState(readFileChunks(this.backupFile), this.backupFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StateFormatError(`there is no ${this.backupFile} to restore: it is made by the second write of a state`);
      if (error instanceof StateFormatError) throw new StateFormatError(`the backup cannot be restored: ${error.message}`, { cause: error });
      throw error;
    }
    // A state damaged beyond its header is replaced all the same.
    const current = await headerOf(this.file).catch(() => null);
    const serial = Math.max(current?.serial ?? 0, backup.serial) + 1;
    const commit = randomUUID();
    const temp = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
    const keptAs = `${this.file}.replaced`;
    let replaced = false;
    try {
      const handle = await open(temp, 'w');
      try {
        // A new serial above both: a plan made against either generation is stale, never misapplied.
        for (const chunk of encodeState({ ...backup, serial, edited: false }, commit)) await handle.write(chunk);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(this.file, keptAs);
        replaced = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncDir(this.options.dir);
    return {
      restored: { lineage: backup.lineage, serial: backup.serial, users: backup.users.length },
      replaced: replaced ? { serial: current?.serial ?? null, keptAs } : null,
      serial,
    };
  }

  async write(next: DirectoryState, expected: StateRef, changes: Iterable<ChangeRecord> = []): Promise<void> {
    const current = await this.readHeader();
    if (current.lineage !== expected.lineage || current.serial !== expected.serial) throw new StaleStateError(expected, current);
    await mkdir(this.options.dir, { recursive: true });
    // Journal first, tagged with this write's token; the entries count once the state holding the token is in place.
    const commit = randomUUID();
    // The previous write's commit line may be missing if its process died right after its rename.
    const journaled = await appendHistory(this.historyFile, concat(current.commit ? [commitLine(current.commit)] : [], changeLines(changes, commit)), current.commit ? 1 : 0);
    // A name of its own per call: two writes in one process must not write into the same file.
    const temp = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
    try {
      const handle = await open(temp, 'w');
      try {
        for (const chunk of encodeState(next, commit)) await handle.write(chunk);
        await handle.sync();
        crashPoint('state-write');
      } finally {
        await handle.close();
      }
      await this.keepBackup();
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncDir(this.options.dir);
    if (journaled > 0) await appendHistory(this.historyFile, [commitLine(commit)]);
  }

  /**
   * The current state, if any, becomes state.ndjson.backup: hard-linked under a temporary name and
   * renamed into place, so the backup is always a whole file (a copy where links are not supported).
   */
  private async keepBackup(): Promise<void> {
    const temp = `${this.backupFile}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await link(this.file, temp);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // the first write: nothing to keep
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EOPNOTSUPP') throw error;
      await copyFile(this.file, temp);
    }
    await rename(temp, this.backupFile);
  }

  async recordRun(run: RunRecord): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    await appendHistory(this.historyFile, [runLine(run)]);
  }

  async journal(changes: Iterable<ChangeRecord>): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    await appendHistory(this.historyFile, changeLines(changes));
  }

  async history(query?: HistoryQuery): Promise<History> {
    return readHistory(this.historyFile, (await this.readHeader()).commit, query);
  }

  async close(): Promise<void> {}

  async lock(request: Omit<LockInfo, 'id' | 'created'>, options: { waitMs?: number } = {}): Promise<LockHandle> {
    return waitForLock(() => this.tryLock(request), options.waitMs ?? 0);
  }

  private async tryLock(request: Omit<LockInfo, 'id' | 'created'>): Promise<LockHandle> {
    await mkdir(this.options.dir, { recursive: true });
    const info: LockInfo = { ...request, id: randomUUID(), created: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      // Write the holder to a private file, then hard-link it into place: link() fails if the lock
      // exists, so the lock appears atomically with its content and is never seen empty.
      // Named by the lock id: two lock() calls in one process must not share (and overwrite) it.
      const temp = `${this.lockFile}.${process.pid}.${info.id}.tmp`;
      await writeFile(temp, JSON.stringify(info, null, 2) + '\n');
      try {
        await link(temp, this.lockFile);
        return { info, release: () => this.releaseIf(info.id) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = await this.readLock();
        if (holder && holder.host === hostname() && !processAlive(holder.pid) && attempt === 0) {
          this.options.notice?.(`taking over the lock ${holder.id} left by ${holder.operation} (pid ${holder.pid}, no longer running)`);
          await rm(this.lockFile, { force: true });
          continue;
        }
        if (!holder) {
          if (attempt === 0) continue; // released between our open and read
          throw new StateFormatError(`${this.lockFile} exists but cannot be read; remove it if no idplane run is active`);
        }
        throw new LockHeldError(holder, this.location);
      } finally {
        await rm(temp, { force: true });
      }
    }
    throw new StateFormatError(`could not take the lock at ${this.lockFile}`);
  }

  async forceUnlock(id: string): Promise<void> {
    const holder = await this.readLock();
    if (!holder) throw new StateFormatError(`no lock is held at ${this.location}`);
    if (holder.id !== id) throw new StateFormatError(`the lock at ${this.location} has id ${holder.id}, not ${id}`);
    await rm(this.lockFile, { force: true });
  }

  private async releaseIf(id: string): Promise<void> {
    const holder = await this.readLock();
    if (holder?.id === id) await rm(this.lockFile, { force: true });
  }

  private async readLock(): Promise<LockInfo | null> {
    try {
      return JSON.parse(await readFile(this.lockFile, 'utf8')) as LockInfo;
    } catch {
      return null;
    }
  }

  /** Lineage and serial from the first line only, without loading the directory. */
  private async readHeader(): Promise<{ lineage: string | null; serial: number; commit: string | null }> {
    try {
      return (await headerOf(this.file)) ?? { lineage: null, serial: 0, commit: null };
    } catch (error) {
      if (error instanceof StateFormatError) throw await this.withRecovery(error);
      throw error;
    }
  }
}

/** A state file's header line (lineage, serial, commit token); null when there is no such file. */
async function headerOf(file: string): Promise<{ lineage: string | null; serial: number; commit: string | null } | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    // Up to the first line break, however long the header is (it holds a watermark per app).
    const parts: Buffer[] = [];
    for (let position = 0; ;) {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      const chunk = buffer.subarray(0, bytesRead);
      const end = chunk.indexOf(0x0a);
      parts.push(end === -1 ? chunk : chunk.subarray(0, end));
      if (end !== -1 || bytesRead === 0) break;
      position += bytesRead;
    }
    const header = JSON.parse(Buffer.concat(parts).toString('utf8')) as { lineage: string | null; serial: number; commit?: string };
    if (typeof header?.serial !== 'number') throw new Error('no serial');
    return { lineage: header.lineage, serial: header.serial, commit: header.commit ?? null };
  } catch {
    throw new StateFormatError(`${file}: cannot read the header; the state file is damaged`);
  } finally {
    await handle.close();
  }
}

function* concat<T>(first: Iterable<T>, second: Iterable<T>): Generator<T> {
  yield* first;
  yield* second;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The chunks, telling `onProgress` the bytes read so far after each. */
async function* counted(chunks: AsyncIterable<Buffer>, size: number, onProgress: ReadOptions['onProgress']): AsyncGenerator<Buffer> {
  let read = 0;
  for await (const chunk of chunks) {
    read += chunk.length;
    yield chunk;
    onProgress?.(read, size, 'bytes');
  }
}
