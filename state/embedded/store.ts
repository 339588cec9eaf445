/**
 * The embedded state backend: a folder (default .idplane/ beside the config) holding state.db, an SQLite
 * database through Node's built-in node:sqlite (schema.ts), its previous generation state.db.backup
 * (backup.ts), and, while a run holds it, lock.json (lock.ts). The database is opened on first use,
 * never by merely constructing the store, and created by the first operation that writes; a state of
 * the former format (state.ndjson) found then is migrated into it first (ndjson/migrate.ts).
 *
 * A write is one transaction that touches only the rows that changed since this store last read or
 * wrote (transactions.ts, state/snapshot.ts). A read first asks the meta row for the content's digest (one
 * tiny query): while it is the one this store last read or wrote, the state it returned or was given then
 * is returned again, so a long-running server never reads a million users twice; otherwise every row is
 * read in one read transaction. Operations on the connection run one at a time (a queue), so a read that
 * hands the event loop back in the middle of a million rows is never interleaved with a write.
 *
 * Edits made outside idplane (the sqlite3 shell, any tool) are counted by triggers and show in the digest
 * and as `edited`, as in PostgreSQL. Before the first write of a run that is not a JIT sign-in (which must
 * stay fast) or a restore, the database is backed up; `restoreBackup` puts that generation back. Every
 * SQLite error leaves as a state error naming the file and the reason (errors.ts); a damaged database's
 * error also says how to restore the backup.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { emptyState, type DirectoryState } from '../../reconciler/model.ts';
import type { Snapshot } from '../snapshot.ts';
import { StateFormatError, type ChangeRecord, type History, type HistoryQuery, type LockHandle, type LockInfo, type ReadOptions, type RestoreOutcome, type RunRecord, type StateRef, type StateStore, type UserEntry } from '../types.ts';
import { backupHeader, backupTo, restoreBackup } from './backup.ts';
import { isDamage, mayBeAccess, translate } from './errors.ts';
import { removeLeftovers, syncPath } from './files.ts';
import { insertChanges, readHistory, registerFunctions, upsertRun } from './history.ts';
import { LockFile } from './lock.ts';
import { finishMigration, migrateLegacy } from './ndjson/migrate.ts';
import { readUser } from './read-user.ts';
import { ensureSchema, openDatabase, STATE_FILE } from './schema.ts';
import { readMeta, readState, writeState } from './transactions.ts';
import { writeDelta } from './delta.ts';
import type { StateDelta } from '../../reconciler/state-delta.ts';

export interface EmbeddedStoreOptions {
  dir: string;
  /** Told when an abandoned lock is taken over, a former-format state is migrated, and the like. */
  notice?: (message: string) => void;
  /** Whether a run backs up the state before it writes; by default every run but JIT sign-ins and restores. */
  backsUp?: (run: RunRecord) => boolean;
}

/** Runs that take no backup: JIT sign-ins, which must stay fast, and state restore, which puts the backup back. */
const NO_BACKUP: ReadonlySet<string> = new Set(['jit', 'serve jit', 'state restore']);
export const backsUpByDefault = (run: RunRecord): boolean => !NO_BACKUP.has(run.command);

const rowsOf = (state: DirectoryState): number => state.users.length + state.links.length + [...state.imported.values()].reduce((n, app) => n + app.records.size, 0);

export class EmbeddedStore implements StateStore {
  readonly location: string;
  private readonly file: string;
  private readonly backupFile: string;
  private readonly locks: LockFile;
  private readonly options: EmbeddedStoreOptions;
  private db: DatabaseSync | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** What the database held after this store's last read or write, and the state it was. */
  private snapshot: Snapshot | null = null;
  private cached: DirectoryState | null = null;
  /** The last run backed up for (a run recorded as running again takes no second backup). */
  private backedUpFor: string | null = null;

  constructor(options: EmbeddedStoreOptions) {
    this.options = options;
    this.location = options.dir;
    this.file = join(options.dir, STATE_FILE);
    this.backupFile = `${this.file}.backup`;
    this.locks = new LockFile(options.dir, options.notice);
  }

  async read(options: ReadOptions = {}): Promise<DirectoryState> {
    return this.reading(async (db) => {
      if (!db) return emptyState();
      if (this.cached && this.cached.digest === readMeta(db).digest) {
        options.onProgress?.(rowsOf(this.cached), undefined, 'rows');
        return this.cached;
      }
      const { state, snapshot } = await readState(db, options.onProgress && ((rows) => options.onProgress!(rows, undefined, 'rows')));
      this.snapshot = snapshot;
      return (this.cached = state);
    });
  }

  async readUser(login: string): Promise<UserEntry | null> {
    return this.reading(async (db) => (db ? readUser(db, login) : null));
  }

  async write(next: DirectoryState, expected: StateRef, changes: Iterable<ChangeRecord> = []): Promise<void> {
    await this.writing(async (db) => {
      const { snapshot, digest } = await writeState(db, next, expected, this.snapshot, changes, this.location);
      this.snapshot = snapshot;
      this.cached = { ...next, digest };
    });
  }

  async head(): Promise<StateRef & { digest: string | null }> {
    return this.reading(async (db) => {
      if (!db) return { lineage: null, serial: 0, digest: null };
      const { lineage, serial, digest } = readMeta(db);
      return { lineage, serial, digest };
    });
  }

  async writeDelta(delta: StateDelta, expected: StateRef, changes: Iterable<ChangeRecord> = [], run?: RunRecord): Promise<string> {
    return this.writing(async (db) => {
      // What this store read or wrote last is no longer what the database holds.
      this.snapshot = null;
      this.cached = null;
      return writeDelta(db, delta, expected, changes, run, this.location);
    });
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.writing(async (db) => {
      if (run.outcome === 'running' && this.backedUpFor !== run.id && (this.options.backsUp ?? backsUpByDefault)(run)) {
        this.backedUpFor = run.id;
        if (readMeta(db).lineage !== null) await backupTo(db, this.backupFile);
      }
      upsertRun(db, run);
    });
  }

  async journal(changes: Iterable<ChangeRecord>): Promise<void> {
    await this.writing(async (db) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        await insertChanges(db, changes);
        db.exec('COMMIT');
      } catch (error) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async history(query?: HistoryQuery): Promise<History> {
    return this.reading(async (db) => {
      if (!db) return { runs: [], changes: [] };
      db.exec('BEGIN');
      try {
        return readHistory(db, query);
      } finally {
        db.exec('COMMIT');
      }
    });
  }

  async restoreBackup(): Promise<RestoreOutcome> {
    return this.serially(async () => {
      this.closeDatabase();
      await mkdir(this.options.dir, { recursive: true });
      return restoreBackup(this.file, this.backupFile);
    });
  }

  async lock(request: Omit<LockInfo, 'id' | 'created'>, options: { waitMs?: number } = {}): Promise<LockHandle> {
    return this.locks.lock(request, options);
  }

  async forceUnlock(id: string): Promise<void> {
    await this.locks.forceUnlock(id);
  }

  async close(): Promise<void> {
    await this.serially(async () => this.closeDatabase());
  }

  private closeDatabase(): void {
    if (this.db?.isOpen) this.db.close();
    this.db = null;
    this.snapshot = null;
    this.cached = null;
  }

  /** Runs `fn` after every operation queued before it, with SQLite errors said as state errors. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn).catch(async (error: unknown) => {
      const writable = !mayBeAccess(error) || (await access(this.options.dir, constants.W_OK).then(() => true, () => false));
      const translated = translate(error, this.file, this.options.dir, writable);
      if (!isDamage(error)) throw translated;
      this.closeDatabase();
      throw await this.withRecovery(translated as StateFormatError);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** `fn` on the database, or on null when there is none yet (reads: nothing is created). */
  private reading<T>(fn: (db: DatabaseSync | null) => Promise<T>): Promise<T> {
    return this.serially(async () => fn(await this.existing()));
  }

  /** `fn` on the database, created when there is none yet. */
  private writing<T>(fn: (db: DatabaseSync) => Promise<T>): Promise<T> {
    return this.serially(async () => fn((await this.existing()) ?? (await this.connect(true))));
  }

  /** The database when there is one (a former-format state is migrated into one first), else null. */
  private async existing(): Promise<DatabaseSync | null> {
    if (this.db) return this.db;
    if (await present(this.file)) return this.connect(false);
    return (await migrateLegacy(this.options.dir, this.file, this.backupFile, this.options.notice)) ? this.connect(false) : null;
  }

  /** Opens the database file (`fresh`: creating it), checked and migrated to this schema version. */
  private async connect(fresh: boolean): Promise<DatabaseSync> {
    const dir = this.options.dir;
    if (fresh) await mkdir(dir, { recursive: true });
    const db = openDatabase(this.file);
    try {
      registerFunctions(db);
      ensureSchema(db, this.file);
      if (fresh) await syncPath(dir); // the new file's name, durable
      else await finishMigration(dir, readMeta(db).migratedFrom, this.options.notice);
      await removeLeftovers(dir);
    } catch (error) {
      db.close();
      throw error;
    }
    return (this.db = db);
  }

  /** A damaged-state error, saying how to get back to a whole state. */
  private async withRecovery(error: StateFormatError): Promise<StateFormatError> {
    const backup = await backupHeader(this.backupFile).catch(() => undefined);
    const how = backup
      ? ` The previous generation (serial ${backup.serial}) is kept in ${this.backupFile}: \`idplane state restore\` puts it back (keeping the damaged file as ${this.file}.replaced); the next plan then shows what the runs since need to redo.`
      : ` There is no usable ${this.backupFile} to restore from: put back a copy from your own backups, or move the damaged file aside and let the next apply rebuild the directory from the sources (links made by matching are found again; \`links:\` entries in the config hold).`;
    return new StateFormatError(`${error.message}.${how}`, { cause: error });
  }
}

const present = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
