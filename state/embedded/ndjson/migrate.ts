/**
 * The move of an embedded state of the former format (state.ndjson, history.ndjson and
 * state.ndjson.backup in the state folder) into SQLite, on first use, with nothing lost: users, links,
 * imported records with their column lists, watermarks, lineage, serial, pipeline fingerprint and edited
 * flag (the state's own, or set because the file was edited by hand), every run and every change of a
 * committed write, and the previous generation, which becomes state.db.backup.
 *
 * Atomic: the new database is built in a private file beside the old ones, fsynced, and put in place
 * with link(), which fails if state.db exists; nothing is changed before that. A damaged state file is
 * refused with the decoder's error (naming the line) and how to recover, and nothing is migrated. Two
 * processes migrating at once both build a file, and exactly one is put in place: the other finds
 * state.db there and drops its own. Once state.db is in place the old files are renamed aside with the
 * suffix .migrated (never deleted), and a notice says so; a process killed between the two finishes the
 * renames on the next open (`finishMigration`, told by meta.migrated_from).
 */
import { link, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { DirectoryState } from '../../../reconciler/model.ts';
import { readFileChunks } from '../../chunks.ts';
import { crashPoint, pausePoint } from '../../crash-point.ts';
import { StateFormatError } from '../../types.ts';
import { changeInserter, registerFunctions, upsertRun } from '../history.ts';
import { syncPath, tempName } from '../files.ts';
import { ensureSchema, openDatabase } from '../schema.ts';
import { writeState } from '../transactions.ts';
import { decodeStateFile } from './decode.ts';
import { eachLegacyChange, readLegacyRuns } from './history.ts';

export const LEGACY_FILES = ['state.ndjson', 'history.ndjson', 'state.ndjson.backup'] as const;

const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/**
 * Migrates the former files of `dir` into `file` (state.db) when there are any and `file` does not exist
 * yet; returns whether it did (or another process did meanwhile).
 */
export async function migrateLegacy(dir: string, file: string, backupFile: string, notice?: (message: string) => void): Promise<boolean> {
  const stateFile = join(dir, 'state.ndjson');
  const historyFile = join(dir, 'history.ndjson');
  if (!(await exists(stateFile)) && !(await exists(historyFile))) return false;
  const decoded = await decode(stateFile, `${stateFile}.backup`);
  const temp = tempName(file, 'migrating');
  const backupTemp = tempName(backupFile, 'migrating');
  try {
    const summary = await build(temp, decoded.state, stateFile, async (db) => {
      const { runs, committed } = await readLegacyRuns(historyFile, decoded.commit);
      for (const run of runs) upsertRun(db, run);
      const journal = changeInserter(db);
      // The file is read in chunks with turns of the event loop between them: no pause needed per row.
      const changes = await eachLegacyChange(historyFile, committed, (c) => void journal.add(c));
      journal.flush();
      return { runs: runs.length, changes };
    });
    const backup = await decodeBackup(`${stateFile}.backup`, notice);
    if (backup) await build(backupTemp, backup, `${stateFile}.backup`, async () => ({ runs: 0, changes: 0 }));
    crashPoint('migration');
    await pausePoint('migration');
    if (backup) await placeIfAbsent(backupTemp, backupFile);
    if (!(await placeIfAbsent(temp, file))) return true; // another process migrated first
    await syncPath(dir);
    await renameAside(dir, notice, `migrated the embedded state to SQLite: ${file} now holds ${decoded.state?.users.length ?? 0} users and ${summary.runs} recorded runs (${summary.changes} changes)${backup ? `, and ${backupFile} the previous generation` : ''}`);
    return true;
  } finally {
    for (const path of [temp, backupTemp]) for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${path}${suffix}`, { force: true });
  }
}

/** When state.db was put in place by a migration, renames aside the old files a killed migration left. */
export async function finishMigration(dir: string, migratedFrom: string | null, notice?: (message: string) => void): Promise<void> {
  if (migratedFrom === null) return;
  const left = [];
  for (const name of LEGACY_FILES) if (await exists(join(dir, name))) left.push(name);
  if (left.length > 0) await renameAside(dir, notice, `finished migrating the embedded state to SQLite (${migratedFrom} was migrated before)`);
}

async function renameAside(dir: string, notice: ((message: string) => void) | undefined, what: string): Promise<void> {
  const moved: string[] = [];
  for (const name of LEGACY_FILES) {
    try {
      await rename(join(dir, name), join(dir, `${name}.migrated`));
      moved.push(`${name}.migrated`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  await syncPath(dir);
  if (moved.length > 0) notice?.(`${what}; the former files are kept as ${moved.join(', ')} (nothing reads them any more)`);
}

/** The state file, decoded; refused with how to recover when it is damaged. No state file: the empty state. */
async function decode(stateFile: string, backupFile: string): Promise<{ state: DirectoryState | null; commit: string | null }> {
  if (!(await exists(stateFile))) return { state: null, commit: null };
  try {
    return await decodeStateFile(readFileChunks(stateFile), stateFile);
  } catch (error) {
    if (!(error instanceof StateFormatError)) throw error;
    const backup = await decodeStateFile(readFileChunks(backupFile), backupFile).catch(() => null);
    const how = backup
      ? ` Its previous generation (serial ${backup.state.serial}) is whole: keep the damaged file and put that one in its place (mv ${stateFile} ${stateFile}.damaged && cp ${backupFile} ${stateFile}), then run again; the next plan shows what the runs since need to redo.`
      : ' Put back a copy from your own backups, or move the file aside and let the next apply rebuild the directory from the sources.';
    throw new StateFormatError(`${error.message}. The embedded state was not migrated to SQLite, and nothing was changed.${how}`, { cause: error });
  }
}

async function decodeBackup(backupFile: string, notice?: (message: string) => void): Promise<DirectoryState | null> {
  if (!(await exists(backupFile))) return null;
  try {
    return (await decodeStateFile(readFileChunks(backupFile), backupFile)).state;
  } catch (error) {
    if (!(error instanceof StateFormatError)) throw error;
    notice?.(`${backupFile} cannot be read (${error.message}); the migrated state has no previous generation until the next apply keeps one`);
    return null;
  }
}

/** Builds a complete database in the private file `path` (state, then `more`), fsynced and closed. */
async function build(path: string, state: DirectoryState | null, from: string, more: (db: DatabaseSync) => Promise<{ runs: number; changes: number }>): Promise<{ runs: number; changes: number }> {
  const db = openDatabase(path, { journal: 'delete' });
  try {
    registerFunctions(db);
    // A private file until it is put in place: a crash mid-build leaves a file nobody reads.
    db.exec('PRAGMA synchronous = OFF');
    ensureSchema(db, path);
    if (state) await writeState(db, state, { lineage: null, serial: 0 }, null, [], path);
    db.exec('BEGIN IMMEDIATE');
    const summary = await more(db);
    db.prepare('UPDATE meta SET migrated_from = ?').run(from);
    db.exec('COMMIT');
    return summary;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    db.close();
  }
}

/** Puts `temp` in place as `target` unless `target` exists; false when it did. */
async function placeIfAbsent(temp: string, target: string): Promise<boolean> {
  await syncPath(temp);
  try {
    await link(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
