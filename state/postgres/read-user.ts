/**
 * One user of the PostgreSQL state by index, for `idplane state show LOGIN`: the user whose lower(login)
 * is the login's (the users_login index; the first in the state's order if several), with its links in
 * the state's order (links_user) and each linked account's imported record (the imported primary key),
 * as the same in-memory records read() gives. The caller runs it in one read transaction.
 */
import type { ClientBase } from 'pg';
import type { UserRecord } from '../../schemas/generated/plan.ts';
import type { UserEntry } from '../types.ts';
import { checkedUser } from '../record-check.ts';
import { PG_WAY_BACK } from './rows.ts';

export async function readUser(db: ClientBase, s: string, login: string): Promise<UserEntry | null> {
  const users = await db.query<{ u: UserRecord }>(
    `SELECT json_build_object('id', id, 'login', login, 'status', status, 'profile', profile, 'profileSource', profile_source, 'roles', roles) AS u
     FROM ${s}.users WHERE lower(login) = lower($1) ORDER BY ord LIMIT 1`,
    [login],
  );
  const found = users.rows[0]?.u;
  if (!found) return null;
  const user = checkedUser(found, () => `${s}.users (login ${login})`, PG_WAY_BACK);
  const links = await db.query<{ app: string; key: string; user_id: string; disabled: boolean | null; vals: string | null }>(
    `SELECT l.app, l.key, l.user_id, i.disabled, i.vals FROM ${s}.links l LEFT JOIN ${s}.imported i ON i.app = l.app AND i.key = l.key
     WHERE l.user_id = $1 ORDER BY l.ord`,
    [user.id],
  );
  return {
    user,
    links: links.rows.map((r) => ({ app: r.app, key: r.key, userId: r.user_id, imported: r.vals === null ? null : { values: r.vals, disabled: r.disabled === true } })),
  };
}
