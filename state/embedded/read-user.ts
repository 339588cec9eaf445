/**
 * One user of the embedded store by index, for `idplane state show LOGIN`: the user found by login
 * without regard to case (history.ts `loginCondition`; the first in the state's order if several), its
 * links in the state's order (links_user), and each linked account's imported record (imported_key), in
 * one read transaction. A million-user state costs a few index lookups, not a read of every row.
 */
import type { DatabaseSync } from 'node:sqlite';
import { parsedUser } from '../record-check.ts';
import type { UserEntry } from '../types.ts';
import { loginCondition } from './history.ts';
import { arrays } from './rows.ts';

export function readUser(db: DatabaseSync, login: string): UserEntry | null {
  const condition = loginCondition('login', login);
  db.exec('BEGIN');
  try {
    const [found] = [...arrays<[string]>(db, `SELECT record FROM users WHERE ${condition.sql} ORDER BY ord LIMIT 1`, condition.value)];
    if (!found) return null;
    const user = parsedUser(found[0], () => `the users table of ${db.location() ?? 'the state database'} (login ${login})`);
    const record = db.prepare('SELECT disabled, vals FROM imported WHERE app = ? AND key = ?');
    const links = [...arrays<[string, string, string]>(db, 'SELECT app, key, user_id FROM links WHERE user_id = ? ORDER BY ord', user.id)].map(([app, key, userId]) => {
      const row = record.get(app, key) as { disabled: number; vals: string } | undefined;
      return { app, key, userId, imported: row ? { values: row.vals, disabled: row.disabled !== 0 } : null };
    });
    return { user, links };
  } finally {
    db.exec('COMMIT');
  }
}
