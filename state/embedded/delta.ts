/**
 * The embedded store's delta write (StateStore.writeDelta): one write transaction (BEGIN IMMEDIATE) that
 * checks lineage and serial (and, when given, the digest) as writeState does, then writes exactly the
 * rows the delta names: a user's record by id (a new user at the end of the order), a link by app and
 * key (a new one at the end, a removed one deleted), an app's column list and its records set or
 * forgotten; then the journal entries, the run record when one is given (a JIT run has nothing to do
 * after its write, so it is recorded finished in the same transaction: one commit, one fsync), and the
 * meta row sealed as writeState seals it. Its cost is that of the delta, whatever the directory's size.
 * The order the rows take is the order reconciler/state-delta.ts gives the in-memory state.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { StateDelta } from '../../reconciler/state-delta.ts';
import { crashPoint, pausePoint } from '../crash-point.ts';
import { digestOf } from '../stored-meta.ts';
import type { ChangeRecord, RunRecord, StateRef } from '../types.ts';
import { insertChanges, upsertRun } from './history.ts';
import { seal, startWrite } from './transactions.ts';

/** One delta write; returns the digest the database holds once it committed. */
export async function writeDelta(db: DatabaseSync, delta: StateDelta, expected: StateRef, changes: Iterable<ChangeRecord>, run: RunRecord | undefined, location: string): Promise<string> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = startWrite(db, expected, location);
    writeRows(db, delta);
    await insertChanges(db, changes);
    if (run) upsertRun(db, run);
    const token = randomUUID();
    seal(db, { ...delta, watermarks: { ...current.watermarks, ...delta.watermarks }, token });
    crashPoint('state-write');
    await pausePoint('state-write');
    db.exec('COMMIT');
    return digestOf(token, current.outsideWrites);
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function writeRows(db: DatabaseSync, delta: StateDelta): void {
  const updateUser = db.prepare('UPDATE users SET record = ? WHERE id = ?');
  const appendUser = db.prepare('INSERT INTO users (ord, record) VALUES ((SELECT coalesce(max(ord), -1) + 1 FROM users), ?)');
  for (const user of delta.users) {
    const record = JSON.stringify(user);
    if (updateUser.run(record, user.id).changes === 0) appendUser.run(record);
  }
  const deleteLink = db.prepare('DELETE FROM links WHERE app = ? AND key = ?');
  const updateLink = db.prepare('UPDATE links SET user_id = ? WHERE app = ? AND key = ?');
  const appendLink = db.prepare('INSERT INTO links (ord, app, key, user_id) VALUES ((SELECT coalesce(max(ord), -1) + 1 FROM links), ?, ?, ?)');
  for (const step of delta.links) {
    if (step.remove) deleteLink.run(step.remove.app, step.remove.key);
    else if (updateLink.run(step.set.userId, step.set.app, step.set.key).changes === 0) appendLink.run(step.set.app, step.set.key, step.set.userId);
  }
  const columns = db.prepare('INSERT INTO app_columns (app, columns) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET columns = excluded.columns WHERE columns <> excluded.columns');
  const forget = db.prepare('DELETE FROM imported WHERE app = ? AND key = ?');
  const record = db.prepare(`INSERT INTO imported (app, key, disabled, vals) VALUES (?, ?, ?, ?)
    ON CONFLICT (app, key) DO UPDATE SET disabled = excluded.disabled, vals = excluded.vals`);
  for (const [app, change] of delta.imported) {
    columns.run(app, JSON.stringify(change.columns));
    for (const key of change.forget) forget.run(app, key);
    for (const [key, r] of change.set) record.run(app, key, r.disabled ? 1 : 0, r.values);
  }
}
