/**
 * `idplane force-unlock ID`: releases a lock that a run left behind (killed, or on a machine that is gone).
 * The id must be the one the LockHeldError named, so a lock taken since is never broken by mistake.
 */
import type { Output } from '../output.ts';
import { withWorkspace } from '../../engine/workspace.ts';

export async function forceUnlockCommand(dir: string, id: string, out: Output): Promise<number> {
  return withWorkspace(dir, async (ws) => {
    await ws.store.forceUnlock(id);
    if (out.format === 'json') out.stdout(JSON.stringify({ unlocked: id }) + '\n');
    else out.stdout(`Lock ${id} released. Make sure the run that held it is really gone.\n`);
    return 0;
  });
}
