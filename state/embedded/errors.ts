/**
 * What an error of the embedded store means, said with the place and the reason: a file that is not a
 * database or is damaged becomes a StateFormatError (the store adds how to restore); a folder or file
 * that cannot be written (SQLite's, or the file system's EACCES, EPERM, EROFS), a full disk, a database
 * another process keeps busy, a StateAccessError. A unique key stored twice (a next state with a
 * duplicate, which the write refuses) becomes a StateFormatError. Every other error is returned
 * unchanged. `writable`: whether the state folder may be written, when the caller checked (a WAL
 * database cannot even be read in a folder that is not).
 */
import { StateAccessError, StateFormatError } from '../types.ts';
import { DamagedRecordError } from '../record-check.ts';

interface SqliteError extends Error {
  code: 'ERR_SQLITE_ERROR';
  /** The extended result code; its low byte is the primary one. */
  errcode: number;
}

export const isSqliteError = (error: unknown): error is SqliteError =>
  error instanceof Error && (error as { code?: unknown }).code === 'ERR_SQLITE_ERROR' && typeof (error as { errcode?: unknown }).errcode === 'number';

/** SQLITE_CORRUPT and SQLITE_NOTADB: the file is not (or no longer) a whole database. */
export const isDamage = (error: unknown): boolean => error instanceof DamagedRecordError || (isSqliteError(error) && [11, 26].includes(error.errcode & 0xff));

/** Whether `error` may mean the folder cannot be written (the caller then checks, and says so). */
export function mayBeAccess(error: unknown): boolean {
  if (isSqliteError(error)) return [8, 14].includes(error.errcode & 0xff);
  return FILE_SYSTEM.has(String((error as { code?: unknown }).code));
}

const FILE_SYSTEM = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC']);

/** `error` as the state error it means for the database `file` in the folder `dir`. */
export function translate(error: unknown, file: string, dir: string, writable = true): unknown {
  if (!writable && mayBeAccess(error)) {
    return new StateAccessError(`cannot use the state at ${file}: the folder ${dir} is read-only (the state database writes beside its file, its write-ahead log, even to read)`, { cause: error });
  }
  if (!isSqliteError(error)) {
    const code = String((error as { code?: unknown }).code);
    if (!FILE_SYSTEM.has(code)) return error;
    return new StateAccessError(`cannot write the state in ${dir}: ${code === 'ENOSPC' ? 'the disk is full' : 'permission denied'} (${(error as Error).message})`, { cause: error });
  }
  const primary = error.errcode & 0xff;
  switch (primary) {
    case 11: return new StateFormatError(`${file} is damaged (${error.message}); the state database cannot be read`, { cause: error });
    case 26: return new StateFormatError(`${file} is not an SQLite database (${error.message}); it is not an idplane state, or it is damaged`, { cause: error });
    case 8: return new StateAccessError(`cannot write the state at ${file}: ${readOnlyReason(error.errcode)}`, { cause: error });
    case 3: case 23: return new StateAccessError(`cannot use the state at ${file}: permission denied (${error.message})`, { cause: error });
    case 14: return new StateAccessError(`cannot open the state at ${file}: ${error.message} (does the folder ${dir} exist, and may this user write there?)`, { cause: error });
    case 13: return new StateAccessError(`cannot write the state at ${file}: the disk is full; nothing of this write was stored`, { cause: error });
    case 5: case 6: return new StateAccessError(`the state at ${file} is busy: another process has kept a write transaction open too long (${error.message}); try again`, { cause: error });
    case 10: return new StateAccessError(`cannot use the state at ${file}: an I/O error (${error.message})`, { cause: error });
    case 19: return new StateFormatError(`the state cannot be stored in ${file}: ${error.message} (the same key twice)`, { cause: error });
    default: return error;
  }
}

function readOnlyReason(errcode: number): string {
  return errcode === 1032 ? 'the file was moved or replaced while open' : 'the file is read-only'; // 1032: SQLITE_READONLY_DBMOVED
}
