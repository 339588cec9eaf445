/**
 * Rows of the PostgreSQL state tables, both ways. Inserts into emptied tables (a full rewrite) stream
 * through COPY FREEZE (copy.ts) from generators over the state, never from arrays of rows. Upserts (the
 * changed-rows path) and deletes are batched: each statement carries up to BATCH rows as one JSON array
 * parameter expanded server-side with jsonb_to_recordset, never one round trip per row.
 *
 * Reads stream each table with COPY (…) TO STDOUT inside the read's transaction and turn every line back
 * into the exact in-memory record the embedded store returns: a user is built by PostgreSQL as one JSON
 * object and parsed once; an imported record's packed values are taken as the text stored, never parsed.
 */
import type { ClientBase } from 'pg';
import type { UserRecord } from '../../schemas/generated/plan.ts';
import type { AppRecords, DirectoryState, ImportedRecord, StoredLink } from '../../reconciler/model.ts';
import type { ImportedRow, Placed, StoredApp } from '../snapshot.ts';
import { StateFormatError } from '../types.ts';
import { checkedUser } from '../record-check.ts';
import { copyLines, copyRows, encode, field, jsonField } from './copy.ts';

export const BATCH = 5000;

/** A table replaced with at least this many rows gets its indexes built after the load, not row by row. */
export const BULK_ROWS = 10_000;

export type ReplaceableTable = 'users' | 'links' | 'imported';

/**
 * The indexes of the tables a write may replace, exactly as the migrations made them (a test compares
 * them with a freshly migrated schema's): dropped before a bulk load and built again after it, which
 * costs a sort instead of an index insertion per row. A duplicate key then fails the build instead of
 * the insert, in the same transaction, with the same error code.
 */
const INDEXES: Record<ReplaceableTable, { drop: (s: string) => string[]; create: (s: string) => string[] }> = {
  users: {
    drop: (s) => [`ALTER TABLE ${s}.users DROP CONSTRAINT users_pkey`, `DROP INDEX ${s}.users_ord`, `DROP INDEX ${s}.users_login`],
    create: (s) => [`ALTER TABLE ${s}.users ADD CONSTRAINT users_pkey PRIMARY KEY (id)`, `CREATE INDEX users_ord ON ${s}.users (ord)`, `CREATE INDEX users_login ON ${s}.users (lower(login))`],
  },
  links: {
    drop: (s) => [`ALTER TABLE ${s}.links DROP CONSTRAINT links_pkey`, `DROP INDEX ${s}.links_ord`, `DROP INDEX ${s}.links_user`],
    create: (s) => [`ALTER TABLE ${s}.links ADD CONSTRAINT links_pkey PRIMARY KEY (app, key)`, `CREATE INDEX links_ord ON ${s}.links (ord)`, `CREATE INDEX links_user ON ${s}.links (user_id)`],
  },
  imported: {
    drop: (s) => [`ALTER TABLE ${s}.imported DROP CONSTRAINT imported_pkey`],
    create: (s) => [`ALTER TABLE ${s}.imported ADD CONSTRAINT imported_pkey PRIMARY KEY (app, key)`],
  },
};

/** Empties `table` and loads `rows` rows into it with `load` (a COPY FREEZE), building big tables' indexes afterwards. */
export async function replaceTable(db: ClientBase, s: string, table: ReplaceableTable, rows: number, load: () => Promise<void>): Promise<void> {
  await db.query(`TRUNCATE ${s}.${table}`);
  const bulk = rows >= BULK_ROWS;
  if (bulk) for (const sql of INDEXES[table].drop(s)) await db.query(sql);
  await load();
  if (bulk) for (const sql of INDEXES[table].create(s)) await db.query(sql);
}

function* batches<T>(rows: readonly T[]): Generator<T[]> {
  for (let start = 0; start < rows.length; start += BATCH) yield rows.slice(start, start + BATCH);
}

const USER_COLUMNS = 'id text, ord bigint, login text, status text, profile jsonb, profile_source text, roles text[]';
const LINK_COLUMNS = 'app text, key text, user_id text, ord bigint';
const IMPORTED_COLUMNS = 'app text, key text, disabled boolean, vals text';

/** Loads users into the emptied table, their positions 0..n-1. */
export async function copyUsers(db: ClientBase, s: string, users: readonly UserRecord[]): Promise<void> {
  await copyRows(db, `${s}.users`, ['id', 'ord', 'login', 'status', 'profile', 'profile_source', 'roles'],
    (function* () {
      for (let ord = 0; ord < users.length; ord++) {
        const u = users[ord]!;
        yield `${encode.text(u.id)}\t${ord}\t${encode.text(u.login)}\t${encode.text(u.status)}\t${encode.json(u.profile)}\t${encode.text(u.profileSource)}\t${encode.textArray(u.roles)}`;
      }
    })(), { freeze: true });
}

/** Writes users with the changed-rows path: `upsert` for keys stored already, plain inserts (a stored key refused) for new ones. */
export async function insertUsers(db: ClientBase, s: string, rows: readonly Placed<UserRecord>[], upsert: boolean): Promise<void> {
  const conflict = upsert
    ? ' ON CONFLICT (id) DO UPDATE SET ord = EXCLUDED.ord, login = EXCLUDED.login, status = EXCLUDED.status, profile = EXCLUDED.profile, profile_source = EXCLUDED.profile_source, roles = EXCLUDED.roles'
    : '';
  const sql = `INSERT INTO ${s}.users (id, ord, login, status, profile, profile_source, roles)
    SELECT id, ord, login, status, profile, profile_source, roles FROM jsonb_to_recordset($1::jsonb) AS t(${USER_COLUMNS})${conflict}`;
  for (const batch of batches(rows)) {
    const json = JSON.stringify(batch.map(({ value: u, ord }) => ({ id: u.id, ord, login: u.login, status: u.status, profile: u.profile, profile_source: u.profileSource, roles: u.roles })));
    await db.query(sql, [json]);
  }
}

/** Loads links into the emptied table, their positions 0..n-1. */
export async function copyLinks(db: ClientBase, s: string, links: readonly StoredLink[]): Promise<void> {
  await copyRows(db, `${s}.links`, ['app', 'key', 'user_id', 'ord'],
    (function* () {
      for (let ord = 0; ord < links.length; ord++) {
        const l = links[ord]!;
        yield `${encode.text(l.app)}\t${encode.text(l.key)}\t${encode.text(l.userId)}\t${ord}`;
      }
    })(), { freeze: true });
}

/** Writes links with the changed-rows path, as insertUsers does. */
export async function insertLinks(db: ClientBase, s: string, rows: readonly Placed<StoredLink>[], upsert: boolean): Promise<void> {
  const conflict = upsert ? ' ON CONFLICT (app, key) DO UPDATE SET user_id = EXCLUDED.user_id, ord = EXCLUDED.ord' : '';
  const sql = `INSERT INTO ${s}.links (app, key, user_id, ord) SELECT app, key, user_id, ord FROM jsonb_to_recordset($1::jsonb) AS t(${LINK_COLUMNS})${conflict}`;
  for (const batch of batches(rows)) {
    await db.query(sql, [JSON.stringify(batch.map(({ value: l, ord }) => ({ app: l.app, key: l.key, user_id: l.userId, ord })))]);
  }
}

/** Loads every imported record of `imported` into the emptied table. */
export async function copyImported(db: ClientBase, s: string, imported: DirectoryState['imported']): Promise<void> {
  await copyRows(db, `${s}.imported`, ['app', 'key', 'disabled', 'vals'],
    (function* () {
      for (const [app, { records }] of imported) {
        const name = encode.text(app);
        // The packed values are JSON text, but only by contract: escaped in full all the same.
        for (const [key, r] of records) yield `${name}\t${encode.text(key)}\t${encode.bool(r.disabled)}\t${encode.text(r.values)}`;
      }
    })(), { freeze: true });
}

export async function upsertImported(db: ClientBase, s: string, rows: readonly ImportedRow[]): Promise<void> {
  const sql = `INSERT INTO ${s}.imported (app, key, disabled, vals) SELECT app, key, disabled, vals FROM jsonb_to_recordset($1::jsonb) AS t(${IMPORTED_COLUMNS})
    ON CONFLICT (app, key) DO UPDATE SET disabled = EXCLUDED.disabled, vals = EXCLUDED.vals`;
  for (const batch of batches(rows)) {
    await db.query(sql, [JSON.stringify(batch.map((r) => ({ app: r.app, key: r.key, disabled: r.value.disabled, vals: r.value.values })))]);
  }
}

/** Sets the column lists of the given apps. */
export async function upsertColumns(db: ClientBase, s: string, apps: readonly { app: string; columns: readonly string[] }[]): Promise<void> {
  const sql = `INSERT INTO ${s}.app_columns (app, columns) SELECT app, columns FROM jsonb_to_recordset($1::jsonb) AS t(app text, columns text[])
    ON CONFLICT (app) DO UPDATE SET columns = EXCLUDED.columns`;
  for (const batch of batches(apps)) await db.query(sql, [JSON.stringify(batch.map(({ app, columns }) => ({ app, columns })))]);
}

export async function deleteUsers(db: ClientBase, s: string, ids: readonly string[]): Promise<void> {
  for (const batch of batches(ids)) await db.query(`DELETE FROM ${s}.users WHERE id = ANY($1::text[])`, [batch]);
}

/** Deletes links or imported records by (app, key). */
export async function deletePairs(db: ClientBase, s: string, table: 'links' | 'imported', pairs: readonly { app: string; key: string }[]): Promise<void> {
  const sql = `DELETE FROM ${s}.${table} AS d USING jsonb_to_recordset($1::jsonb) AS t(app text, key text) WHERE d.app = t.app AND d.key = t.key`;
  for (const batch of batches(pairs)) await db.query(sql, [JSON.stringify(batch.map(({ app, key }) => ({ app, key })))]);
}

/** Deletes the imported records or the column lists of whole apps. */
export async function deleteApps(db: ClientBase, s: string, table: 'imported' | 'app_columns', apps: readonly string[]): Promise<void> {
  for (const batch of batches(apps)) await db.query(`DELETE FROM ${s}.${table} WHERE app = ANY($1::text[])`, [batch]);
}

/**
 * What to do about a damaged user row: PostgreSQL keeps no previous generation of its own (that is the
 * database's backups' job), so the row is named for a restore or a correction by hand.
 */
export const PG_WAY_BACK = 'Restore the schema from your PostgreSQL backups, or correct that row by hand (docs/state.md).';

/** The users in order, and their stored positions (parallel arrays). */
export async function readUsers(db: ClientBase, s: string, chunkDone?: (rows: number) => void): Promise<{ users: UserRecord[]; ords: number[] }> {
  const users: UserRecord[] = [];
  const ords: number[] = [];
  // One JSON object per user, built by the server (json, not jsonb: its keys stay in this order) and
  // parsed once: cheaper than splitting fields, and every string it makes is its own, not a slice of
  // the chunk it came in (which would keep the whole chunk alive with the state).
  const query = `SELECT ord, json_build_object('id', id, 'login', login, 'status', status, 'profile', profile, 'profileSource', profile_source, 'roles', roles)
    FROM ${s}.users ORDER BY ord`;
  await copyLines(db, query, (line) => {
    const tab = line.indexOf('\t');
    const ord = line.slice(0, tab);
    ords.push(Number(ord));
    users.push(checkedUser(JSON.parse(jsonField(line.slice(tab + 1))), () => `position ${ord} of ${s}.users`, PG_WAY_BACK));
  }, chunkDone);
  return { users, ords };
}

/** The links in order, and their stored positions (parallel arrays). */
export async function readLinks(db: ClientBase, s: string, chunkDone?: (rows: number) => void): Promise<{ links: StoredLink[]; ords: number[] }> {
  const links: StoredLink[] = [];
  const ords: number[] = [];
  await copyLines(db, `SELECT ord, app, key, user_id FROM ${s}.links ORDER BY ord`, (line) => {
    const [ord, app, key, userId] = line.split('\t') as [string, string, string, string];
    ords.push(Number(ord));
    links.push({ app: field(app), key: field(key), userId: field(userId) });
  }, chunkDone);
  return { links, ords };
}

/** The imported records by app (apps in name order), and the same records as StoredApps. */
export async function readImported(db: ClientBase, s: string, chunkDone?: (rows: number) => void): Promise<{ imported: DirectoryState['imported']; stored: Map<string, StoredApp> }> {
  const imported: DirectoryState['imported'] = new Map();
  const stored = new Map<string, StoredApp>();
  const apps = await db.query<{ app: string; columns: string[] }>(`SELECT app, columns FROM ${s}.app_columns ORDER BY app COLLATE "C"`);
  for (const { app, columns } of apps.rows) {
    imported.set(app, { columns, records: new Map() });
    stored.set(app, { columns: [...columns], keys: [], records: [] });
  }
  let name: string | null = null;
  let target: { records: AppRecords['records']; stored: StoredApp } | null = null;
  await copyLines(db, `SELECT app, key, disabled, vals FROM ${s}.imported`, (line) => {
    // app TAB key TAB t|f TAB vals
    const afterApp = line.indexOf('\t');
    const afterKey = line.indexOf('\t', afterApp + 1);
    const app = line.slice(0, afterApp);
    if (app !== name || !target) {
      const records = imported.get(field(app))?.records;
      if (!records) throw new StateFormatError(`imported records of app ${JSON.stringify(field(app))} have no column list in app_columns; the PostgreSQL state is damaged`);
      target = { records, stored: stored.get(field(app))! };
      name = app;
    }
    const k = field(line.slice(afterApp + 1, afterKey));
    const record: ImportedRecord = { values: field(line.slice(afterKey + 3)), disabled: line.charCodeAt(afterKey + 1) === 116 /* t */ };
    target.records.set(k, record);
    target.stored.keys.push(k);
    target.stored.records.push(record);
  }, chunkDone);
  return { imported, stored };
}
