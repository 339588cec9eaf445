/**
 * The embedded store's SQLite database (.idplane/state.db, through Node's built-in node:sqlite): its
 * tables, how a connection to it is opened, and its versions. The file is marked as idplane's with
 * PRAGMA application_id and versioned with PRAGMA user_version; `ensureSchema` brings an older file up to
 * the last version in one transaction (BEGIN IMMEDIATE, so two processes starting at once apply it once),
 * and refuses, changing nothing, a file of another application or from a newer idplane.
 *
 * Tables (STRICT), as of version 1:
 *   meta          one row: lineage, serial, watermarks (JSON), write_token (new random value on every write),
 *                 pipeline, edited (the last write said the content may differ from what idplane wrote),
 *                 outside_writes (rows of the state tables changed outside idplane, counted by triggers),
 *                 sealed_writes (outside_writes as of the last write that checked every user), writing (1
 *                 only inside idplane's own write transaction), migrated_from (the file a migration read)
 *   users         ord (the position in the state's user list: the rowid, so reading in order is a plain
 *                 scan), record (the user as JSON, exactly as idplane holds it), and id and login, generated
 *                 from the record (so an edit of the record keeps them true), indexed for lookups
 *   links         ord (rowid), app, key (unique together), user_id (indexed: a user's accounts)
 *   imported      app, key (unique together), disabled, vals (the packed values, reconciler/records.ts, kept
 *                 byte for byte as idplane made them)
 *   app_columns   app, columns (JSON array): the column order of the app's packed values
 *   runs          one row per run (recorded: the order first recorded, which breaks ties of start times;
 *                 a later record of the same id updates it), indexed by start time
 *   changes       the journal, in append order (id), indexed by run and seq and by login
 *
 * Triggers on users, links, imported and app_columns count every row changed while meta.writing is 0
 * (a `sqlite3` session, any tool) into meta.outside_writes, and one on meta counts edits of its own
 * fields the same way. Indexes and triggers of a state table are built again after a bulk load
 * (`STATE_TABLES`), so a million-row load pays a sort, not a trigger and an index insertion per row.
 */
import { DatabaseSync } from 'node:sqlite';
import { StateFormatError } from '../types.ts';

/** "idp1": the mark of an idplane state database. */
export const APPLICATION_ID = 0x69647031;

export const STATE_FILE = 'state.db';

/**
 * How long a statement waits for another connection's write transaction before failing. Runs that
 * write hold the state lock (lock.ts), so this is only ever another process's migration or a plan's
 * brief read.
 */
const BUSY_TIMEOUT_MS = 30_000;

/** The page size of a new database file. */
export const PAGE_SIZE = 16_384;

export type StateTable = 'users' | 'links' | 'imported' | 'app_columns';

/** A table idplane may replace wholesale: how to make it, then its indexes and triggers. */
interface TableDefinition {
  create: string;
  indexes: string[];
}

const watched = (table: StateTable): string[] => (['INSERT', 'UPDATE', 'DELETE'] as const).map((event) =>
  `CREATE TRIGGER ${table}_outside_${event.toLowerCase()} AFTER ${event} ON ${table} WHEN (SELECT writing FROM meta) = 0
   BEGIN UPDATE meta SET outside_writes = outside_writes + 1; END`);

export const STATE_TABLES: Record<StateTable, TableDefinition & { triggers: string[] }> = {
  users: {
    create: `CREATE TABLE users (
      ord INTEGER PRIMARY KEY, record TEXT NOT NULL,
      id TEXT NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.id')) STORED,
      login TEXT NOT NULL GENERATED ALWAYS AS (json_extract(record, '$.login')) STORED) STRICT`,
    indexes: ['CREATE UNIQUE INDEX users_id ON users (id)', 'CREATE INDEX users_login ON users (login COLLATE NOCASE)'],
    triggers: watched('users'),
  },
  links: {
    create: 'CREATE TABLE links (ord INTEGER PRIMARY KEY, app TEXT NOT NULL, key TEXT NOT NULL, user_id TEXT NOT NULL) STRICT',
    indexes: ['CREATE UNIQUE INDEX links_key ON links (app, key)', 'CREATE INDEX links_user ON links (user_id)'],
    triggers: watched('links'),
  },
  imported: {
    create: 'CREATE TABLE imported (app TEXT NOT NULL, key TEXT NOT NULL, disabled INTEGER NOT NULL, vals TEXT NOT NULL) STRICT',
    indexes: ['CREATE UNIQUE INDEX imported_key ON imported (app, key)'],
    triggers: watched('imported'),
  },
  app_columns: {
    create: 'CREATE TABLE app_columns (app TEXT PRIMARY KEY, columns TEXT NOT NULL) STRICT',
    indexes: [],
    triggers: watched('app_columns'),
  },
};

/** Every statement that makes a state table, in order. */
export const tableStatements = (table: StateTable): string[] => [STATE_TABLES[table].create, ...STATE_TABLES[table].indexes, ...STATE_TABLES[table].triggers];

/** The journal's indexes: by run (and seq), and by login without regard to ASCII case. */
export const JOURNAL_INDEXES = {
  drop: ['DROP INDEX changes_run', 'DROP INDEX changes_login'],
  create: ['CREATE INDEX changes_run ON changes (run_id, seq)', 'CREATE INDEX changes_login ON changes (login COLLATE NOCASE)'],
} as const;

export interface Migration {
  version: number;
  description: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'state, history and outside-edit detection',
    statements: [
      `CREATE TABLE meta (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1), lineage TEXT, serial INTEGER NOT NULL DEFAULT 0,
        watermarks TEXT NOT NULL DEFAULT '{}', write_token TEXT, pipeline TEXT, edited INTEGER NOT NULL DEFAULT 0,
        outside_writes INTEGER NOT NULL DEFAULT 0, sealed_writes INTEGER NOT NULL DEFAULT 0,
        writing INTEGER NOT NULL DEFAULT 0, migrated_from TEXT) STRICT`,
      'INSERT INTO meta (singleton) VALUES (1)',
      `CREATE TRIGGER meta_outside_update AFTER UPDATE OF lineage, serial, watermarks, write_token, pipeline, edited, sealed_writes ON meta
       WHEN old.writing = 0 AND new.writing = 0 BEGIN UPDATE meta SET outside_writes = outside_writes + 1; END`,
      ...(['users', 'links', 'imported', 'app_columns'] as const).flatMap(tableStatements),
      `CREATE TABLE runs (
        recorded INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, command TEXT NOT NULL, who TEXT NOT NULL, host TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, config_fingerprint TEXT NOT NULL, git_commit TEXT,
        serial_before INTEGER NOT NULL, serial_after INTEGER, summary TEXT, outcome TEXT NOT NULL, message TEXT) STRICT`,
      'CREATE INDEX runs_started ON runs (started_at DESC, recorded)',
      `CREATE TABLE changes (
        id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, kind TEXT NOT NULL,
        action TEXT NOT NULL, user_id TEXT NOT NULL, login TEXT NOT NULL, app TEXT, key TEXT, attributes TEXT,
        outcome TEXT NOT NULL, message TEXT) STRICT`,
      ...JOURNAL_INDEXES.create,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * A connection to the database at `path`, in WAL mode (readers never wait for the writer, and a
 * write is one append to the log). synchronous = FULL: the log is fsynced at every commit, so a
 * committed write survives a power loss or an OS crash, not only a SIGKILL (NORMAL, the usual WAL
 * setting, may lose the last commits on power loss: an acknowledged apply whose targets were already
 * written would then be forgotten, and pushed again). `readOnly`: for looking into a file that must not
 * change. `journal: 'delete'`: a self-contained file with no WAL beside it once closed (a backup).
 */
export function openDatabase(path: string, options: { readOnly?: boolean; journal?: 'wal' | 'delete' } = {}): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS, readOnly: options.readOnly === true, enableForeignKeyConstraints: false });
  try {
    if (!options.readOnly) {
      // 16 KiB pages for a new file (an existing one keeps its own): a bulk load and its checkpoint
      // write a third fewer WAL frames, and a record of a few hundred bytes rarely straddles pages.
      db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
      db.exec(`PRAGMA journal_mode = ${options.journal === 'delete' ? 'DELETE' : 'WAL'}`);
      db.exec('PRAGMA synchronous = FULL');
      // A bulk write grows the log to its size; after the checkpoint the file shrinks back to this.
      db.exec('PRAGMA journal_size_limit = 67108864');
    }
    db.exec('PRAGMA cache_size = -65536');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

const pragma = (db: DatabaseSync, name: string): number => Number((db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[name]);

/** Checks that the file is an idplane state of a version this code reads, and applies the pending migrations. */
export function ensureSchema(db: DatabaseSync, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations[migrations.length - 1]!.version;
  if (check(db, file, latest) === latest) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    // Another process may have migrated it while we waited for the write lock.
    const version = check(db, file, latest);
    for (const migration of migrations) {
      if (migration.version <= version) continue;
      for (const statement of migration.statements) db.exec(statement);
      db.exec(`PRAGMA user_version = ${migration.version}`);
    }
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** The file's schema version; refuses another application's database and a newer idplane's. */
function check(db: DatabaseSync, file: string, latest: number): number {
  const application = pragma(db, 'application_id');
  const version = pragma(db, 'user_version');
  if (application !== APPLICATION_ID) {
    const tables = Number((db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n);
    if (application !== 0 || version !== 0 || tables > 0) {
      throw new StateFormatError(`${file} is an SQLite database, but not an idplane state (application_id ${application}); move it away, or point state.path elsewhere`);
    }
  }
  if (version > latest) {
    throw new StateFormatError(`${file} has schema version ${version}, newer than this idplane understands (${latest}): it was written by a newer idplane; upgrade idplane`);
  }
  return version;
}
