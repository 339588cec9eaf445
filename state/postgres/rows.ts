/**
 * Rows of the PostgreSQL state tables, both ways. Inserts into emptied tables (a full rewrite) stream
 * through COPY (copy.ts). Upserts (the changed-rows path) and deletes are batched: each statement carries
 * up to BATCH rows as one JSON array parameter expanded server-side with jsonb_to_recordset, never one
 * round trip per row. Reads turn rows back into the exact in-memory records the
 * embedded store returns (imported records as own properties, so keys like "__proto__" stay data).
 */
import type { ClientBase } from 'pg';
import type { UserRecord } from '../../schemas/generated/plan.ts';
import type { DirectoryState, ImportedRecord, StoredLink } from '../../reconciler/model.ts';
import { copyRows } from './copy.ts';

export const BATCH = 5000;

export interface Placed<T> {
  value: T;
  ord: number;
}

export interface ImportedRow {
  app: string;
  key: string;
  value: ImportedRecord;
}

function* batches<T>(rows: readonly T[]): Generator<T[]> {
  for (let start = 0; start < rows.length; start += BATCH) yield rows.slice(start, start + BATCH);
}

const USER_COLUMNS = 'id text, ord bigint, login text, status text, profile jsonb, profile_source text, roles text[]';
const LINK_COLUMNS = 'app text, key text, user_id text, ord bigint';
const IMPORTED_COLUMNS = 'app text, key text, attributes jsonb, disabled boolean';

export async function insertUsers(db: ClientBase, s: string, rows: readonly Placed<UserRecord>[], upsert: boolean): Promise<void> {
  if (!upsert) {
    await copyRows(db, `${s}.users`, ['id', 'ord', 'login', 'status', 'profile', 'profile_source', 'roles'],
      rows.map(({ value: u, ord }) => [u.id, ord, u.login, u.status, u.profile, u.profileSource, u.roles]));
    return;
  }
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

export async function insertLinks(db: ClientBase, s: string, rows: readonly Placed<StoredLink>[], upsert: boolean): Promise<void> {
  if (!upsert) {
    await copyRows(db, `${s}.links`, ['app', 'key', 'user_id', 'ord'], rows.map(({ value: l, ord }) => [l.app, l.key, l.userId, ord]));
    return;
  }
  const conflict = upsert ? ' ON CONFLICT (app, key) DO UPDATE SET user_id = EXCLUDED.user_id, ord = EXCLUDED.ord' : '';
  const sql = `INSERT INTO ${s}.links (app, key, user_id, ord) SELECT app, key, user_id, ord FROM jsonb_to_recordset($1::jsonb) AS t(${LINK_COLUMNS})${conflict}`;
  for (const batch of batches(rows)) {
    await db.query(sql, [JSON.stringify(batch.map(({ value: l, ord }) => ({ app: l.app, key: l.key, user_id: l.userId, ord })))]);
  }
}

export async function insertImported(db: ClientBase, s: string, rows: readonly ImportedRow[], upsert: boolean): Promise<void> {
  if (!upsert) {
    await copyRows(db, `${s}.imported`, ['app', 'key', 'attributes', 'disabled'], rows.map((r) => [r.app, r.key, r.value.attributes, r.value.disabled]));
    return;
  }
  const conflict = upsert ? ' ON CONFLICT (app, key) DO UPDATE SET attributes = EXCLUDED.attributes, disabled = EXCLUDED.disabled' : '';
  const sql = `INSERT INTO ${s}.imported (app, key, attributes, disabled) SELECT app, key, attributes, disabled FROM jsonb_to_recordset($1::jsonb) AS t(${IMPORTED_COLUMNS})${conflict}`;
  for (const batch of batches(rows)) {
    await db.query(sql, [JSON.stringify(batch.map((r) => ({ app: r.app, key: r.key, attributes: r.value.attributes, disabled: r.value.disabled })))]);
  }
}

export async function deleteUsers(db: ClientBase, s: string, ids: readonly string[]): Promise<void> {
  for (const batch of batches(ids)) await db.query(`DELETE FROM ${s}.users WHERE id = ANY($1::text[])`, [batch]);
}

/** Deletes links or imported records by (app, key). */
export async function deletePairs(db: ClientBase, s: string, table: 'links' | 'imported', pairs: readonly { app: string; key: string }[]): Promise<void> {
  const sql = `DELETE FROM ${s}.${table} AS d USING jsonb_to_recordset($1::jsonb) AS t(app text, key text) WHERE d.app = t.app AND d.key = t.key`;
  for (const batch of batches(pairs)) await db.query(sql, [JSON.stringify(batch.map(({ app, key }) => ({ app, key })))]);
}

export function userFromRow(row: { id: string; login: string; status: UserRecord['status']; profile: UserRecord['profile']; profile_source: string; roles: string[] }): UserRecord {
  return { id: row.id, login: row.login, status: row.status, profile: row.profile, profileSource: row.profile_source, roles: row.roles };
}

export function linkFromRow(row: { app: string; key: string; user_id: string }): StoredLink {
  return { app: row.app, key: row.key, userId: row.user_id };
}

/** Adds one imported record to the state, as own properties (an app or key may be "__proto__"). */
export function addImported(imported: DirectoryState['imported'], app: string, key: string, value: ImportedRecord): void {
  let byKey = Object.hasOwn(imported, app) ? imported[app] : undefined;
  if (!byKey) defineOwn(imported, app, (byKey = {}));
  defineOwn(byKey, key, value);
}

/** Every imported record of a state, with its app and key (own properties only). */
export function* importedRows(imported: DirectoryState['imported']): Generator<ImportedRow> {
  for (const [app, records] of Object.entries(imported)) {
    for (const [key, value] of Object.entries(records)) yield { app, key, value };
  }
}

function defineOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
