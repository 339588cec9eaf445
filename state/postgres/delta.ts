/**
 * The rows of a state delta (reconciler/state-delta.ts) in PostgreSQL, inside the caller's write
 * transaction: users updated by id or added after the last position, the delta's link steps folded per
 * account (a link set on an account that keeps one is an update in place; one removed, and set again or
 * not, is deleted, and a set after it goes after the last position), each app's columns and records, all
 * in batched statements (rows.ts), never one round trip per row. The stored order then is the one the
 * in-memory state takes. Its cost is the delta's.
 */
import type { ClientBase } from 'pg';
import type { StoredLink, UserRecord } from '../../reconciler/model.ts';
import type { StateDelta } from '../../reconciler/state-delta.ts';
import type { ImportedRow, Placed } from '../snapshot.ts';
import { deletePairs, insertLinks, insertUsers, upsertColumns, upsertImported } from './rows.ts';

export async function writeDeltaRows(db: ClientBase, s: string, delta: StateDelta): Promise<void> {
  await writeUsers(db, s, delta.users);
  await writeLinks(db, s, delta);
  const apps = [...delta.imported].map(([app, change]) => ({ app, columns: change.columns }));
  if (apps.length > 0) await upsertColumns(db, s, apps);
  const forgotten = [...delta.imported].flatMap(([app, change]) => change.forget.map((key) => ({ app, key })));
  if (forgotten.length > 0) await deletePairs(db, s, 'imported', forgotten);
  const records: ImportedRow[] = [...delta.imported].flatMap(([app, change]) => [...change.set].map(([key, value]) => ({ app, key, value })));
  if (records.length > 0) await upsertImported(db, s, records);
}

/** The position after the last one of `table`. */
async function nextOrd(db: ClientBase, s: string, table: 'users' | 'links'): Promise<number> {
  const result = await db.query<{ next: string }>(`SELECT coalesce(max(ord), -1) + 1 AS next FROM ${s}.${table}`);
  return Number(result.rows[0]!.next);
}

async function writeUsers(db: ClientBase, s: string, users: readonly UserRecord[]): Promise<void> {
  if (users.length === 0) return;
  const stored = await db.query<{ id: string; ord: string }>(`SELECT id, ord FROM ${s}.users WHERE id = ANY($1::text[])`, [users.map((u) => u.id)]);
  const ords = new Map(stored.rows.map((r) => [r.id, Number(r.ord)]));
  const updates: Placed<UserRecord>[] = [];
  const inserts: Placed<UserRecord>[] = [];
  let next = await nextOrd(db, s, 'users');
  for (const user of users) {
    const ord = ords.get(user.id);
    if (ord !== undefined) updates.push({ value: user, ord });
    else {
      ords.set(user.id, next);
      inserts.push({ value: user, ord: next++ });
    }
  }
  if (updates.length > 0) await insertUsers(db, s, updates, true);
  if (inserts.length > 0) await insertUsers(db, s, inserts, false);
}

async function writeLinks(db: ClientBase, s: string, delta: StateDelta): Promise<void> {
  if (delta.links.length === 0) return;
  const accounts = new Map<string, { app: string; key: string }>();
  for (const step of delta.links) {
    const { app, key } = step.set ?? step.remove;
    accounts.set(`${app}\u0000${key}`, { app, key });
  }
  const stored = await db.query<{ app: string; key: string; ord: string }>(
    `SELECT l.app, l.key, l.ord FROM ${s}.links l JOIN jsonb_to_recordset($1::jsonb) AS t(app text, key text) ON l.app = t.app AND l.key = t.key`,
    [JSON.stringify([...accounts.values()])],
  );
  const ords = new Map(stored.rows.map((r) => [`${r.app}\u0000${r.key}`, Number(r.ord)]));
  // The steps in order, as the in-memory state takes them: a stored row is updated in place until the
  // account's link is removed (then the row goes); a link set where there is none is appended.
  const state = new Map<string, { link: StoredLink | null; row: 'stored' | 'deleted' | 'none'; appended: number | null }>();
  delta.links.forEach((step, i) => {
    const { app, key } = step.set ?? step.remove;
    const id = `${app}\u0000${key}`;
    const e = state.get(id) ?? { link: null, row: ords.has(id) ? 'stored' : 'none', appended: null };
    const present = (e.row === 'stored') || e.appended !== null;
    if (step.remove) {
      if (e.row === 'stored') e.row = 'deleted';
      e.appended = null;
      e.link = null;
    } else {
      e.link = step.set;
      if (!present) e.appended = i;
    }
    state.set(id, e);
  });
  const deletes: { app: string; key: string }[] = [];
  const updates: Placed<StoredLink>[] = [];
  const appended: { link: StoredLink; at: number }[] = [];
  for (const [id, e] of state) {
    if (e.row === 'deleted') deletes.push(accounts.get(id)!);
    if (e.link === null) continue;
    if (e.appended !== null) appended.push({ link: e.link, at: e.appended });
    else if (e.row === 'stored') updates.push({ value: e.link, ord: ords.get(id)! });
  }
  let next = await nextOrd(db, s, 'links');
  const inserts = appended.sort((a, b) => a.at - b.at).map(({ link }) => ({ value: link, ord: next++ }));
  if (deletes.length > 0) await deletePairs(db, s, 'links', deletes);
  if (updates.length > 0) await insertLinks(db, s, updates, true);
  if (inserts.length > 0) await insertLinks(db, s, inserts, false);
}
