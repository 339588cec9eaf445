/**
 * Rows of the embedded store's state tables, both ways, on a node:sqlite connection inside the caller's
 * transaction. A write follows the changed-rows plan (state/snapshot.ts): a table planned as a
 * replacement is dropped, made again and loaded with one prepared INSERT per row, its indexes and
 * triggers built after the load (schema.ts); a table planned as a diff gets only its deletes, updates and
 * inserts, each checked to touch exactly the row it names (the plan relies on the database holding
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

/** Runs `statement` for each of `rows`, pausing now and then. */
async function each<T>(statement: StatementSync, rows: Iterable<T>, bind: (row: T) => (string | number | null)[]): Promise<void> {
  let n = 0;
  for (const row of rows) {
    statement.run(...bind(row));
    if (++n % YIELD_ROWS === 0) await pause();
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

const userRow = (u: UserRecord, ord: number): (string | number)[] => [ord, JSON.stringify(u)];
const linkRow = (l: StoredLink, ord: number): (string | number)[] => [ord, l.app, l.key, l.userId];
const flag = (r: ImportedRecord): number => (r.disabled ? 1 : 0);

/** Writes the rows `plan` says `next` needs. */
export async function writeRows(db: DatabaseSync, next: DirectoryState, plan: WritePlan): Promise<void> {
  const insertUser = () => db.prepare('INSERT INTO users (ord, record) VALUES (?, ?)');
  if (plan.users.mode === 'replace') {
    await replaceTable(db, 'users', async () => {
      const insert = insertUser();
      for (let ord = 0; ord < next.users.length; ord++) {
        insert.run(ord, JSON.stringify(next.users[ord]));
        if ((ord + 1) % YIELD_ROWS === 0) await pause();
      }
    });
  } else {
    await exactly(db, db.prepare('DELETE FROM users WHERE id = ?'), plan.users.deletes, (u) => [u.id], 'user');
    await exactly(db, db.prepare('UPDATE users SET record = ? WHERE ord = ?'), plan.users.updates, ({ value, ord }) => [JSON.stringify(value), ord], 'user');
    await each(insertUser(), plan.users.inserts, ({ value, ord }) => userRow(value, ord));
  }
  const insertLink = () => db.prepare('INSERT INTO links (ord, app, key, user_id) VALUES (?, ?, ?, ?)');
  if (plan.links.mode === 'replace') {
    await replaceTable(db, 'links', async () => {
      const insert = insertLink();
      for (let ord = 0; ord < next.links.length; ord++) {
        const l = next.links[ord]!;
        insert.run(ord, l.app, l.key, l.userId);
        if ((ord + 1) % YIELD_ROWS === 0) await pause();
      }
    });
  } else {
    await exactly(db, db.prepare('DELETE FROM links WHERE app = ? AND key = ?'), plan.links.deletes, (l) => [l.app, l.key], 'link');
    await exactly(db, db.prepare('UPDATE links SET user_id = ? WHERE ord = ?'), plan.links.updates, ({ value, ord }) => [value.userId, ord], 'link');
    await each(insertLink(), plan.links.inserts, ({ value, ord }) => linkRow(value, ord));
  }
  const upsertImported = (conflict: boolean) => db.prepare(`INSERT INTO imported (app, key, disabled, vals) VALUES (?, ?, ?, ?)${conflict ? ' ON CONFLICT (app, key) DO UPDATE SET disabled = excluded.disabled, vals = excluded.vals' : ''}`);
  if (plan.imported.mode === 'replace') {
    await replaceTable(db, 'imported', async () => {
      const insert = upsertImported(false);
      let n = 0;
      for (const [app, { records }] of next.imported) {
        for (const [key, r] of records) {
          insert.run(app, key, flag(r), r.values);
          if (++n % YIELD_ROWS === 0) await pause();
        }
      }
    });
  } else {
    const deleteApp = db.prepare('DELETE FROM imported WHERE app = ?');
    for (const app of plan.imported.apps) deleteApp.run(app);
    await exactly(db, db.prepare('DELETE FROM imported WHERE app = ? AND key = ?'), plan.imported.deletes, (r) => [r.app, r.key], 'imported record');
    await each(upsertImported(true), plan.imported.upserts, (r) => [r.app, r.key, flag(r.value), r.value.values]);
  }
  const upsertColumns = () => db.prepare('INSERT INTO app_columns (app, columns) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET columns = excluded.columns');
  if (plan.columns.mode === 'replace') {
    await replaceTable(db, 'app_columns', () => each(upsertColumns(), next.imported, ([app, { columns }]) => [app, JSON.stringify(columns)]));
  } else {
    const deleteApp = db.prepare('DELETE FROM app_columns WHERE app = ?');
    for (const app of plan.columns.deletes) deleteApp.run(app);
    await each(upsertColumns(), plan.columns.upserts, ({ app, columns }) => [app, JSON.stringify(columns)]);
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
    users.push(JSON.parse(record) as UserRecord);
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
