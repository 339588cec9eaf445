/**
 * Rows of the embedded store's state tables, both ways, on a node:sqlite connection inside the caller's
 * transaction. A write follows the changed-rows plan (state/snapshot.ts): a table planned as a
 * replacement is dropped, made again and loaded 64 rows per INSERT (BulkInsert), its indexes and
 * triggers built after the load (schema.ts); a table planned as a diff gets only its deletes, updates and
 * inserts, each update and delete checked to touch exactly the row it names (the plan relies on the database holding
 * exactly the snapshot). Reads return the exact in-memory records the reconciler works on: a user is the
 * record's JSON parsed once, an imported record's packed values the text stored, never parsed. Both
 * hand the event loop back every YIELD_ROWS rows, so a server stays responsive during a million-row
 * read or write (the store runs one operation at a time per connection).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { UserRecord } from '../../schemas/generated/plan.ts';
import type { AppRecords, DirectoryState, ImportedRecord, StoredLink } from '../../reconciler/model.ts';
import type { Ordered, StoredApp, WritePlan } from '../snapshot.ts';
import { StateFormatError } from '../types.ts';
import { parsedUser } from '../record-check.ts';
import { STATE_TABLES, type StateTable } from './schema.ts';

export const YIELD_ROWS = 50_000;

/** Lets other work of the process run (a server answering requests) in the middle of a long loop. */
export const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Empties `table` by making it again, loads it with `load`, then builds its indexes and triggers. */
export async function replaceTable(db: DatabaseSync, table: StateTable, load: () => Promise<void>): Promise<void> {
  const definition = STATE_TABLES[table];
  db.exec(`DROP TABLE ${table}`);
  db.exec(definition.create);
  await load();
  for (const statement of [...definition.indexes, ...definition.triggers]) db.exec(statement);
}

export type SqlValue = string | number | null;

/** Rows one multi-row INSERT carries: few enough to stay under SQLite's 32,766 parameters at any width. */
export const BULK_ROWS = 64;

/**
 * Inserts rows BULK_ROWS at a time through one multi-row `INSERT ... VALUES (...), (...)`: a call into
 * SQLite (and a statement step) per 64 rows instead of per row, which halves the cost of a bulk load;
 * the rows left at the end go one by one. `add` binds a row's values onto the pending ones; `flush`
 * writes what is pending. Pauses every YIELD_ROWS rows, as the other loops here do.
 */
export class BulkInsert<T> {
  private readonly many: StatementSync;
  private readonly one: StatementSync;
  private readonly values: SqlValue[] = [];
  private readonly bind: (row: T, into: SqlValue[]) => void;
  private pending = 0;
  private written = 0;

  constructor(db: DatabaseSync, head: string, width: number, bind: (row: T, into: SqlValue[]) => void, tail = '') {
    this.bind = bind;
    const row = `(${new Array<string>(width).fill('?').join(', ')})`;
    this.many = db.prepare(`${head} VALUES ${new Array<string>(BULK_ROWS).fill(row).join(', ')}${tail}`);
    this.one = db.prepare(`${head} VALUES ${row}${tail}`);
  }

  /** Adds one row; every YIELD_ROWS rows returns a promise to await (the event loop's turn), else nothing. */
  add(row: T): Promise<void> | undefined {
    this.bind(row, this.values);
    if (++this.pending === BULK_ROWS) {
      this.many.run(...this.values);
      this.values.length = 0;
      this.pending = 0;
    }
    return ++this.written % YIELD_ROWS === 0 ? pause() : undefined;
  }

  /** Writes the rows still pending; returns how many rows were added in all. */
  flush(): number {
    const width = this.values.length / Math.max(this.pending, 1);
    for (let i = 0; i < this.pending; i++) this.one.run(...this.values.slice(i * width, (i + 1) * width));
    this.values.length = 0;
    this.pending = 0;
    return this.written;
  }

  /** Adds every row of `rows`, then flushes. */
  async all(rows: Iterable<T>): Promise<number> {
    for (const row of rows) {
      const turn = this.add(row);
      if (turn) await turn;
    }
    return this.flush();
  }
}

/** Runs `statement` for each of `rows`, refusing to go on when one does not touch exactly one row. */
async function exactly<T>(db: DatabaseSync, statement: StatementSync, rows: readonly T[], bind: (row: T) => (string | number)[], what: string): Promise<void> {
  for (let i = 0; i < rows.length; i++) {
    if (statement.run(...bind(rows[i]!)).changes !== 1) {
      throw new StateFormatError(`${db.location() ?? 'the state database'}: the ${what} to change is not stored as this store last saw it; nothing was written`);
    }
    if ((i + 1) % YIELD_ROWS === 0) await pause();
  }
}

const flag = (r: ImportedRecord): number => (r.disabled ? 1 : 0);

/** Writes the rows `plan` says `next` needs. */
export async function writeRows(db: DatabaseSync, next: DirectoryState, plan: WritePlan): Promise<void> {
  const users = () => new BulkInsert<{ value: UserRecord; ord: number }>(db, 'INSERT INTO users (ord, record)', 2, ({ value, ord }, v) => v.push(ord, JSON.stringify(value)));
  if (plan.users.mode === 'replace') {
    // By position: a million users need no million row objects.
    await replaceTable(db, 'users', async () => {
      await new BulkInsert<number>(db, 'INSERT INTO users (ord, record)', 2, (ord, v) => v.push(ord, JSON.stringify(next.users[ord]))).all(next.users.keys());
    });
  } else {
    await exactly(db, db.prepare('DELETE FROM users WHERE id = ?'), plan.users.deletes, (u) => [u.id], 'user');
    await exactly(db, db.prepare('UPDATE users SET record = ? WHERE ord = ?'), plan.users.updates, ({ value, ord }) => [JSON.stringify(value), ord], 'user');
    await users().all(plan.users.inserts);
  }
  const links = () => new BulkInsert<{ value: StoredLink; ord: number }>(db, 'INSERT INTO links (ord, app, key, user_id)', 4, ({ value, ord }, v) => v.push(ord, value.app, value.key, value.userId));
  if (plan.links.mode === 'replace') {
    await replaceTable(db, 'links', async () => {
      await new BulkInsert<number>(db, 'INSERT INTO links (ord, app, key, user_id)', 4, (ord, v) => {
        const l = next.links[ord]!;
        v.push(ord, l.app, l.key, l.userId);
      }).all(next.links.keys());
    });
  } else {
    await exactly(db, db.prepare('DELETE FROM links WHERE app = ? AND key = ?'), plan.links.deletes, (l) => [l.app, l.key], 'link');
    await exactly(db, db.prepare('UPDATE links SET user_id = ? WHERE ord = ?'), plan.links.updates, ({ value, ord }) => [value.userId, ord], 'link');
    await links().all(plan.links.inserts);
  }
  // An upsert's rows of one statement must name distinct keys; they do (one row per app and key).
  const imported = (conflict: boolean) => new BulkInsert<{ app: string; key: string; value: ImportedRecord }>(db, 'INSERT INTO imported (app, key, disabled, vals)', 4,
    ({ app, key, value }, v) => v.push(app, key, flag(value), value.values),
    conflict ? ' ON CONFLICT (app, key) DO UPDATE SET disabled = excluded.disabled, vals = excluded.vals' : '');
  if (plan.imported.mode === 'replace') {
    await replaceTable(db, 'imported', async () => {
      const insert = imported(false);
      for (const [app, { records }] of next.imported) {
        for (const [key, value] of records) {
          const turn = insert.add({ app, key, value });
          if (turn) await turn;
        }
      }
      insert.flush();
    });
  } else {
    const deleteApp = db.prepare('DELETE FROM imported WHERE app = ?');
    for (const app of plan.imported.apps) deleteApp.run(app);
    await exactly(db, db.prepare('DELETE FROM imported WHERE app = ? AND key = ?'), plan.imported.deletes, (r) => [r.app, r.key], 'imported record');
    await imported(true).all(plan.imported.upserts);
  }
  const columns = () => new BulkInsert<{ app: string; columns: readonly string[] }>(db, 'INSERT INTO app_columns (app, columns)', 2, ({ app, columns }, v) => v.push(app, JSON.stringify(columns)),
    ' ON CONFLICT (app) DO UPDATE SET columns = excluded.columns');
  if (plan.columns.mode === 'replace') {
    await replaceTable(db, 'app_columns', () => columns().all([...next.imported].map(([app, { columns }]) => ({ app, columns }))).then(() => {}));
  } else {
    const deleteApp = db.prepare('DELETE FROM app_columns WHERE app = ?');
    for (const app of plan.columns.deletes) deleteApp.run(app);
    await columns().all(plan.columns.upserts);
  }
}

/** What a read finds: the state's users, links and records, and the same rows as the snapshot keeps them. */
export interface ReadRows {
  users: Ordered<UserRecord> & { values: UserRecord[] };
  links: Ordered<StoredLink> & { values: StoredLink[] };
  imported: DirectoryState['imported'];
  stored: Map<string, StoredApp>;
}

/** Reads every row; `onRows` is told the rows read so far, now and then. */
export async function readRows(db: DatabaseSync, onRows?: (rows: number) => void): Promise<ReadRows> {
  let rows = 0;
  // Called after each row; hands the event loop back (and tells the progress) every YIELD_ROWS rows.
  const due = () => ++rows % YIELD_ROWS === 0;
  const progress = async () => {
    onRows?.(rows);
    await pause();
  };
  const users: UserRecord[] = [];
  const userOrds: number[] = [];
  for (const [ord, record] of arrays<[number, string]>(db, 'SELECT ord, record FROM users ORDER BY ord')) {
    userOrds.push(ord);
    users.push(parsedUser(record, () => `position ${ord} of the users table of ${db.location() ?? 'the state database'}`));
    if (due()) await progress();
  }
  const links: StoredLink[] = [];
  const linkOrds: number[] = [];
  for (const [ord, app, key, userId] of arrays<[number, string, string, string]>(db, 'SELECT ord, app, key, user_id FROM links ORDER BY ord')) {
    linkOrds.push(ord);
    links.push({ app, key, userId });
    if (due()) await progress();
  }
  const imported: DirectoryState['imported'] = new Map();
  const stored = new Map<string, StoredApp>();
  for (const [app, columns] of arrays<[string, string]>(db, 'SELECT app, columns FROM app_columns ORDER BY app')) {
    const list = JSON.parse(columns) as string[];
    imported.set(app, { columns: list, records: new Map() });
    stored.set(app, { columns: [...list], keys: [], records: [] });
  }
  let current = null as { name: string; records: AppRecords['records']; stored: StoredApp } | null;
  for (const [app, key, disabled, values] of arrays<[string, string, number, string]>(db, 'SELECT app, key, disabled, vals FROM imported')) {
    if (current?.name !== app) {
      const records: AppRecords['records'] | undefined = imported.get(app)?.records;
      if (!records) throw new StateFormatError(`imported records of app ${JSON.stringify(app)} have no column list in app_columns; the state database ${db.location() ?? ''} is damaged`);
      current = { name: app, records, stored: stored.get(app)! };
    }
    const record: ImportedRecord = { values, disabled: disabled !== 0 };
    current.records.set(key, record);
    current.stored.keys.push(key);
    current.stored.records.push(record);
    if (due()) await progress();
  }
  onRows?.(rows);
  return { users: { values: users, ords: userOrds }, links: { values: links, ords: linkOrds }, imported, stored };
}

/** The rows of `sql` as arrays, one at a time. */
export function arrays<T extends unknown[]>(db: DatabaseSync, sql: string, ...parameters: (string | number | null)[]): IterableIterator<T> {
  const statement = db.prepare(sql);
  statement.setReturnArrays(true);
  return statement.iterate(...parameters) as unknown as IterableIterator<T>;
}
