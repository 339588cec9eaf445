/**
 * `idplane schema discover APP`: asks the app what its accounts look like (engine/runs/discover.ts) and
 * prints YAML attribute declarations and import mappings ready to paste into idplane.yaml, or JSON.
 */
import { renderDiscovery } from '../../providers/discovery.ts';
import { discover } from '../../engine/runs/discover.ts';
import { OK, type ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';

export async function schemaDiscoverCommand(dir: string, app: string, out: Output): Promise<ExitCode> {
  const found = await discover({ dir, observer: out.observer, app });
  if (out.format === 'json') out.stdout(JSON.stringify({ app, provider: found.provider, note: found.note, attributes: found.attributes }) + '\n');
  else out.stdout(renderDiscovery(app, found.provider, found.note, found.attributes));
  return OK;
}
