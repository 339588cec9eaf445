/**
 * `idplane state migrate --from-embedded [DIR]`: copies an embedded state (default .idplane/ beside the
 * config: its SQLite database, state.db) into the backend the config now names, typically PostgreSQL: the
 * directory with its lineage and serial, every link and imported record, watermarks, the pipeline
 * fingerprint and the edited flag, and the history. The target must be empty; the source is left as it
 * is (a folder still in the former ndjson format is first migrated to SQLite in place, as any command
 * does on first use). Both are locked while copying. The copy's digest is the new backend's, so apply
 * refuses a plan saved before the move as stale: plan again.
 */
import { resolve } from 'node:path';
import type { DirectoryState } from '../../reconciler/model.ts';
import { EmbeddedStore } from '../../state/embedded/store.ts';
import { IdplaneError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { openWorkspace } from '../../engine/workspace.ts';
import { takeLock } from '../../engine/runs/lock.ts';

export async function migrateCommand(dir: string, from: string, out: Output): Promise<number> {
  const ws = await openWorkspace(dir, { notice: (m) => out.stderr(`${m}\n`) });
  const source = new EmbeddedStore({ dir: resolve(ws.dir, from), notice: (m) => out.stderr(`${m}\n`) });
  try {
    if (source.location === ws.store.location) throw new IdplaneError('MIGRATE_SAME', `the config already uses ${source.location}; point state: at the new backend first`);
    const sourceLock = await source.lock({ operation: 'state migrate (source)', who: 'idplane', host: 'localhost', pid: process.pid });
    try {
      const targetLock = await takeLock(ws, 'state migrate');
      try {
        const [state, target] = await Promise.all([source.read(), ws.store.read()]);
        if (state.lineage === null) throw new IdplaneError('MIGRATE_EMPTY', `there is no state at ${source.location} to migrate`);
        if (target.lineage !== null) {
          throw new IdplaneError('MIGRATE_NOT_EMPTY', `${ws.store.location} already holds a state (lineage ${target.lineage}, serial ${target.serial}); refusing to overwrite it`);
        }
        const history = await source.history({ limit: Number.MAX_SAFE_INTEGER });
        for (const run of [...history.runs].reverse()) await ws.store.recordRun(run);
        await ws.store.journal(history.changes);
        await ws.store.write(state, { lineage: target.lineage, serial: target.serial });
        const copied = await ws.store.read();
        const records = importedCount(state);
        const same = copied.users.length === state.users.length && copied.links.length === state.links.length && importedCount(copied) === records
          && copied.serial === state.serial && copied.lineage === state.lineage && copied.pipeline === state.pipeline && copied.edited === state.edited;
        if (!same) throw new IdplaneError('MIGRATE_MISMATCH', `the copy in ${ws.store.location} does not match the source; the source at ${source.location} is unchanged`);
        if (out.format === 'json') {
          out.stdout(JSON.stringify({ migrated: true, from: source.location, to: ws.store.location, lineage: state.lineage, serial: state.serial, users: state.users.length, links: state.links.length, imported: records, runs: history.runs.length }) + '\n');
        } else {
          out.stdout(`Copied ${state.users.length} users, ${state.links.length} links, ${records} imported records and ${history.runs.length} recorded runs from ${source.location} to ${ws.store.location} (lineage ${state.lineage}, serial ${state.serial}).\nThe embedded state is untouched; remove ${from} once you no longer need it.\n`);
        }
        return 0;
      } finally {
        await targetLock.release();
      }
    } finally {
      await sourceLock.release();
    }
  } finally {
    await ws.store.close();
  }
}

function importedCount(state: DirectoryState): number {
  let records = 0;
  for (const app of state.imported.values()) records += app.records.size;
  return records;
}
