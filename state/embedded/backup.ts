/**
 * The embedded store's previous generation: state.db.backup, an online backup (node:sqlite's backup(),
 * SQLite's backup API) of the whole database taken before a run writes (apply, scheduled imports; not JIT
 * sign-ins, which must stay fast). It is copied to a temporary file, turned into a single self-contained
 * file (rollback journal, no WAL beside it), fsynced and renamed into place, so the backup is always a
 * whole database: the previous one until the new one is complete.
 *
 * `restoreBackup` puts it back, under the lock the caller holds. When the current database can be read,
 * the whole of it is first kept as state.db.replaced (another online backup), then, in one transaction,
 * its state tables are replaced by the backup's and its meta row takes the backup's lineage, watermarks,
 * pipeline and edited flag with a serial above both (a plan saved against either is stale, never
 * misapplied); its history is kept. When it cannot be read (damaged, or not a database), it is kept
 * aside as state.db.replaced with its WAL, and a copy of the backup, with the new serial, takes its place
 * by a rename: the history is then the backup's, and the runs since are only in the file kept aside. A
 * missing or damaged backup is refused, changing nothing.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { backup, type DatabaseSync } from 'node:sqlite';
import { crashPoint, pausePoint } from '../crash-point.ts';
import { StateFormatError, type RestoreOutcome } from '../types.ts';
import { isDamage } from './errors.ts';
import { keepAside, syncPath, tempName } from './files.ts';
import { replaceTable } from './rows.ts';
import { ensureSchema, openDatabase, type StateTable } from './schema.ts';
import { readMeta } from './transactions.ts';

/** Pages copied per step of an online backup (4 MiB of 4 KiB pages). */
const BACKUP_RATE = 1024;

/** Copies the database of `db` to `target` with SQLite's online backup: the whole new file, or the old one. */
export async function backupTo(db: DatabaseSync, target: string): Promise<void> {
  const temp = tempName(target, 'tmp');
  try {
    await backup(db, temp, { rate: BACKUP_RATE });
    openDatabase(temp, { journal: 'delete' }).close();
    await syncPath(temp);
    crashPoint('backup');
    await pausePoint('backup');
    for (const suffix of ['-wal', '-shm']) await rm(`${target}${suffix}`, { force: true });
    await rename(temp, target);
    await syncPath(dirname(target));
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${temp}${suffix}`, { force: true });
  }
}

/** The backup's lineage, serial and user count, or null when there is no backup. Throws StateFormatError when it cannot be read. */
export async function backupHeader(file: string): Promise<{ lineage: string | null; serial: number; users: number } | null> {
  try {
    await stat(file);
  } catch {
    return null;
  }
  const copy = await checkedCopy(file);
  try {
    return header(copy.db);
  } finally {
    await copy.discard();
  }
}

function header(db: DatabaseSync): { lineage: string | null; serial: number; users: number } {
  const meta = readMeta(db);
  return { lineage: meta.lineage, serial: meta.serial, users: Number((db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n) };
}

/**
 * A private copy of the backup, checked (PRAGMA quick_check) and brought to this idplane's schema
 * version: the backup itself is never opened, so it never changes.
 */
async function checkedCopy(file: string): Promise<{ db: DatabaseSync; path: string; discard: () => Promise<void> }> {
  const path = tempName(file, 'tmp');
  let db: DatabaseSync | null = null;
  const discard = async () => {
    if (db?.isOpen) db.close();
    for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${path}${suffix}`, { force: true });
  };
  try {
    await copyFile(file, path);
    db = openDatabase(path);
    ensureSchema(db, file);
    const problems = (db.prepare('PRAGMA quick_check').all() as { quick_check: string }[]).map((r) => r.quick_check);
    if (problems[0] !== 'ok') throw new StateFormatError(`${file} is damaged (${problems.slice(0, 3).join('; ')})`);
    return { db, path, discard };
  } catch (error) {
    await discard();
    if (error instanceof StateFormatError || isDamage(error)) throw new StateFormatError(`the backup cannot be restored: ${error instanceof StateFormatError ? error.message : `${file} is damaged (${(error as Error).message})`}`, { cause: error });
    throw error;
  }
}

/** The current database, when it opens and passes PRAGMA quick_check; null when it is missing or damaged. */
async function readable(file: string): Promise<DatabaseSync | null> {
  try {
    await stat(file);
  } catch {
    return null;
  }
  let db: DatabaseSync | null = null;
  try {
    db = openDatabase(file);
    ensureSchema(db, file);
    const [first] = db.prepare('PRAGMA quick_check(1)').all() as { quick_check: string }[];
    if (first?.quick_check === 'ok') return db;
  } catch (error) {
    // Damaged is what a restore is for; a newer idplane's file, or another application's, is not replaced.
    if (!isDamage(error)) {
      db?.close();
      throw error;
    }
  }
  db?.close();
  return null;
}

/** The serial of a damaged database, if its meta row can still be read. */
function serialOf(file: string): number | null {
  let db: DatabaseSync | null = null;
  try {
    db = openDatabase(file, { readOnly: true });
    return readMeta(db).serial;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

const TABLES: readonly StateTable[] = ['users', 'links', 'imported', 'app_columns'];
const COLUMNS: Record<StateTable, string> = { users: 'ord, record', links: 'ord, app, key, user_id', imported: 'app, key, disabled, vals', app_columns: 'app, columns' };

/** Puts the backup `backupFile` back as the state `file`; see the header. */
export async function restoreBackup(file: string, backupFile: string): Promise<RestoreOutcome> {
  const keptAs = `${file}.replaced`;
  const copy = await checkedCopy(backupFile).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StateFormatError(`there is no ${backupFile} to restore: it is taken before each apply (and scheduled import) that changes the state`);
    throw error;
  });
  try {
    const restored = header(copy.db);
    const backupMeta = readMeta(copy.db);
    const current = await readable(file);
    if (current) {
      try {
        const replaced = { serial: readMeta(current).serial, keptAs };
        const serial = Math.max(replaced.serial, restored.serial) + 1;
        await backupTo(current, keptAs);
        current.prepare('ATTACH DATABASE ? AS backup').run(copy.path);
        try {
          current.exec('BEGIN IMMEDIATE');
          try {
            current.exec('UPDATE meta SET writing = 1');
            for (const table of TABLES) await replaceTable(current, table, async () => current.exec(`INSERT INTO main.${table} (${COLUMNS[table]}) SELECT ${COLUMNS[table]} FROM backup.${table}`));
            seal(current, backupMeta, serial);
            current.exec('COMMIT');
          } catch (error) {
            if (current.isTransaction) current.exec('ROLLBACK');
            throw error;
          }
        } finally {
          current.exec('DETACH DATABASE backup');
        }
        return { restored, replaced, serial, history: 'current' };
      } finally {
        current.close();
      }
    }
    // The current file cannot be read: the backup's copy takes its place, and the file is kept aside.
    const before = serialOf(file);
    const serial = Math.max(before ?? 0, restored.serial) + 1;
    copy.db.exec('BEGIN IMMEDIATE');
    copy.db.exec('UPDATE meta SET writing = 1');
    seal(copy.db, backupMeta, serial);
    copy.db.exec('COMMIT');
    copy.db.close(); // checkpoints: the file is whole, with no WAL beside it
    await syncPath(copy.path);
    const kept = await keepAside(file, keptAs);
    await rename(copy.path, file);
    await syncPath(dirname(file));
    return { restored, replaced: kept ? { serial: before, keptAs } : null, serial, history: 'backup' };
  } finally {
    await copy.discard();
  }
}

/** Ends the restore's transaction work on the meta row: the backup's fields, the new serial, a new token. */
function seal(db: DatabaseSync, meta: ReturnType<typeof readMeta>, serial: number): void {
  db.prepare(`UPDATE meta SET lineage = ?, serial = ?, watermarks = ?, pipeline = ?, edited = ?, write_token = ?,
      sealed_writes = CASE WHEN ? THEN sealed_writes ELSE outside_writes END, writing = 0`)
    .run(meta.lineage, serial, JSON.stringify(meta.watermarks), meta.pipeline, meta.edited ? 1 : 0, randomUUID(), meta.edited ? 1 : 0);
}
