/**
 * `idplane state restore`: puts back the previous generation of an embedded state (state.db.backup,
 * taken before each apply and scheduled import that writes), under the lock, as a new write whose serial
 * is above both, keeping the database it replaces as state.db.replaced; recorded in the history like any
 * run. The run is recorded once the restore is done, since the database it replaces may be too damaged
 * to record anything in. PostgreSQL has no generations of its own here: the database's backups restore
 * it (docs/state.md).
 */
import { takeLock } from '../../engine/runs/lock.ts';
import { UsageError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { startRun } from '../../engine/runs/run-log.ts';
import { withWorkspace } from '../../engine/workspace.ts';

export async function stateRestoreCommand(dir: string, options: { lockTimeoutMs?: number }, out: Output): Promise<number> {
  return withWorkspace(dir, async (ws) => {
    if (!ws.store.restoreBackup) {
      throw new UsageError(`state restore restores the embedded store's previous generation; the state at ${ws.store.location} is in PostgreSQL, which the database's own backups restore (pg_dump of the schema, or point-in-time recovery: see docs/state.md)`);
    }
    const lock = await takeLock(ws, 'state restore', options.lockTimeoutMs ?? 0);
    try {
      let outcome;
      try {
        outcome = await ws.store.restoreBackup();
      } catch (error) {
        // Recorded when the state can still take it; the error is what the user needs either way.
        await startRun(ws.store, 'state restore', ws.dir, ws.fingerprint, -1)
          .then((log) => log.finish({ outcome: 'failed', message: error instanceof Error ? error.message : String(error) }))
          .catch(() => {});
        throw error;
      }
      const replaced = outcome.replaced ? `; the state it replaced${outcome.replaced.serial === null ? ' (unreadable)' : ` (serial ${outcome.replaced.serial})`} is kept as ${outcome.replaced.keptAs}` : '';
      const history = outcome.history === 'backup' ? '; the history is the backup\'s (the runs since it are in the file kept aside)' : '';
      const message = `restored the generation of serial ${outcome.restored.serial} (${outcome.restored.users} users) as serial ${outcome.serial}${replaced}${history}`;
      const log = await startRun(ws.store, 'state restore', ws.dir, ws.fingerprint, outcome.replaced?.serial ?? -1);
      await log.finish({ outcome: 'succeeded', serialAfter: outcome.serial, message });
      if (out.format === 'json') out.stdout(JSON.stringify({ restored: outcome.restored, replaced: outcome.replaced, serial: outcome.serial, history: outcome.history }) + '\n');
      else out.stdout(`${out.style.green('Restored')} the state's previous generation: ${message}.\nRun idplane plan to see what the runs since then need to redo.\n`);
      return 0;
    } finally {
      await lock.release();
    }
  });
}
