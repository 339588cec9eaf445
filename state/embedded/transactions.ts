/**
 * The embedded store's two state transactions on one node:sqlite connection, as functions the store
 * and the migration from the former format share, and the meta row (`readMeta`, which the restore reads
 * too). `writeState` is one write transaction
 * (BEGIN IMMEDIATE): check lineage and serial (and, when given, the digest) against the meta row, else
 * StaleStateError writing nothing; mark the transaction as idplane's own (meta.writing, which the
 * outside-edit triggers read); write the rows the changed-rows plan names (state/snapshot.ts; all of them
 * when what the database holds is not the snapshot given); stream the journal; seal the meta row; commit.
 * `readState` reads everything in one read transaction (one consistent snapshot, while a writer goes on).
 * The digest and `edited` are as state/stored-meta.ts says, the outside changes counted per row.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { DirectoryState } from '../../reconciler/model.ts';
import { crashPoint, pausePoint } from '../crash-point.ts';
import { planWrite, type Snapshot } from '../snapshot.ts';
import { digestOf, type StoredMeta } from '../stored-meta.ts';
import { StaleStateError, StateFormatError, type ChangeRecord, type StateRef } from '../types.ts';
import { insertChanges } from './history.ts';
import { readRows, writeRows } from './rows.ts';

/** The meta row: what both database backends keep, and the file a migration read. */
export interface EmbeddedMeta extends StoredMeta {
  migratedFrom: string | null;
}

type MetaRow = [string | null, number, string, string | null, string | null, number, number, number, string | null];

export function readMeta(db: DatabaseSync): EmbeddedMeta {
  const statement = db.prepare('SELECT lineage, serial, watermarks, write_token, pipeline, edited, outside_writes, sealed_writes, migrated_from FROM meta');
  statement.setReturnArrays(true);
  const row = statement.get() as MetaRow | undefined;
  if (!row) throw new StateFormatError(`${db.location() ?? 'the state database'} has no meta row; it is damaged`);
  const [lineage, serial, watermarks, token, pipeline, edited, outside, sealed, migratedFrom] = row;
  return {
    lineage, serial, watermarks: JSON.parse(watermarks) as Record<string, string>, pipeline, edited: edited !== 0 || outside !== sealed,
    // Nothing written yet, by anyone: the empty state, which has no digest.
    digest: token === null && outside === 0 ? null : digestOf(token, outside), outsideWrites: outside, migratedFrom,
  };
}

/**
 * The start of a write, inside its BEGIN IMMEDIATE: the meta row, checked against what the writer
 * expects (else StaleStateError), and the transaction marked as idplane's own for the triggers.
 */
export function startWrite(db: DatabaseSync, expected: StateRef, location: string): EmbeddedMeta {
  const current = readMeta(db);
  if (current.lineage !== expected.lineage || current.serial !== expected.serial) throw new StaleStateError(expected, current);
  if (expected.digest !== undefined && expected.digest !== current.digest) throw new StaleStateError(expected, current, location);
  db.exec('UPDATE meta SET writing = 1');
  return current;
}

/** The end of a write: the meta row as the state now is, with a new write token, and no longer marked as writing. */
export function seal(db: DatabaseSync, next: Pick<DirectoryState, 'lineage' | 'serial' | 'watermarks' | 'pipeline' | 'edited'> & { token: string }): void {
  const edited = next.edited ? 1 : 0;
  db.prepare(`UPDATE meta SET lineage = ?, serial = ?, watermarks = ?, write_token = ?, pipeline = ?, edited = ?,
      sealed_writes = CASE WHEN ? THEN sealed_writes ELSE outside_writes END, writing = 0`)
    .run(next.lineage, next.serial, JSON.stringify(next.watermarks), next.token, next.pipeline, edited, edited);
}

/** One write; returns the snapshot and digest the database holds once it committed. */
export async function writeState(db: DatabaseSync, next: DirectoryState, expected: StateRef, previous: Snapshot | null, changes: Iterable<ChangeRecord>, location: string): Promise<{ snapshot: Snapshot; digest: string }> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = startWrite(db, expected, location);
    // Only rows that changed since our last look, if the database still holds exactly what we saw then.
    const token = randomUUID();
    const digest = digestOf(token, current.outsideWrites);
    const plan = planWrite(next, previous && previous.digest === current.digest ? previous : null, digest);
    await writeRows(db, next, plan);
    await insertChanges(db, changes);
    seal(db, { ...next, token });
    crashPoint('state-write');
    await pausePoint('state-write');
    db.exec('COMMIT');
    return { snapshot: plan.after, digest };
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** The whole state in one read transaction, and the snapshot of it. */
export async function readState(db: DatabaseSync, onRows?: (rows: number) => void): Promise<{ state: DirectoryState; snapshot: Snapshot }> {
  db.exec('BEGIN');
  try {
    const meta = readMeta(db);
    const rows = await readRows(db, onRows);
    db.exec('COMMIT');
    return {
      state: {
        lineage: meta.lineage, serial: meta.serial, users: rows.users.values, links: rows.links.values, imported: rows.imported,
        watermarks: meta.watermarks, pipeline: meta.pipeline, edited: meta.edited, digest: meta.digest,
      },
      // The arrays handed out are never changed (the StateStore contract): the snapshot may share them.
      snapshot: { digest: meta.digest, users: rows.users, links: rows.links, imported: rows.stored },
    };
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
