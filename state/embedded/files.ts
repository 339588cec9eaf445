/**
 * File operations of the embedded store that make its file swaps durable and tidy: fsync of a file and
 * of a folder (so a rename survives a power loss), a private temporary name beside a file (carrying the
 * pid, so leftovers of a killed process are recognised), moving a database file aside together with its
 * WAL (never leaving a log behind that SQLite would replay into another file of the same name), and
 * removing the temporary files of processes of this host that are gone.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from './lock.ts';

/** fsync of a file, or of a folder (its entries: a rename or a new file in it). */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A name beside `path` for a file this process writes before it puts it in place. */
export const tempName = (path: string, kind: 'tmp' | 'migrating'): string => `${path}.${process.pid}.${randomUUID()}.${kind}`;

const TEMP = /\.(\d+)\.[0-9a-f-]{36}\.(tmp|migrating)(-wal|-shm|-journal)?$/;

/** Removes temporary files in `dir` left by processes that are gone (killed mid-backup or mid-migration). */
export async function removeLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = TEMP.exec(name);
    if (match && !processAlive(Number(match[1]))) await rm(join(dir, name), { force: true });
  }
}

const exists = (error: unknown): boolean => (error as NodeJS.ErrnoException).code !== 'ENOENT';

/**
 * Keeps the database `file` (and its WAL) as `keptAs`, replacing what was kept there, and removes the
 * original's WAL and shared memory: the caller then puts another file in its place with a rename, so
 * `file` itself is never missing. Returns whether there was a file to keep.
 */
export async function keepAside(file: string, keptAs: string): Promise<boolean> {
  for (const suffix of ['', '-wal', '-shm']) await rm(`${keptAs}${suffix}`, { force: true });
  try {
    await link(file, keptAs);
  } catch (error) {
    if (!exists(error)) return false;
    throw error;
  }
  try {
    await rename(`${file}-wal`, `${keptAs}-wal`);
  } catch (error) {
    if (exists(error)) throw error;
  }
  await rm(`${file}-shm`, { force: true });
  return true;
}
