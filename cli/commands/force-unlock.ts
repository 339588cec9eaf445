/**
 * `idplane force-unlock ID`: releases a lock that a run left behind (killed, or on a machine that is gone).
 * The id must be the one the LOCK_HELD error named, so a lock taken since is never broken by mistake.
 */
import { forceUnlock } from '../../engine/runs/lock.ts';
import { OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

export async function forceUnlockCommand(dir: string, id: string, out: Output): Promise<ExitCode> {
  await forceUnlock({ dir, observer: out.observer, id });
  if (out.format === 'json') out.stdout(JSON.stringify({ unlocked: id }) + '\n');
  else out.stdout(`Lock ${id} released. Make sure the run that held it is really gone.\n`);
  return OK;
}
