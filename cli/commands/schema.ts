/**
 * `idplane schema discover APP`: asks the app what its accounts look like and prints YAML attribute
 * declarations and import mappings ready to paste into idplane.yaml.
 */
import { isAbsolute, resolve } from 'node:path';
import { discoverApp } from '../../providers/discover.ts';
import { renderDiscovery } from '../../providers/discovery.ts';
import { UsageError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { withWorkspace } from '../../engine/workspace.ts';

export async function schemaDiscoverCommand(dir: string, app: string, out: Output): Promise<number> {
  return withWorkspace(dir, async (ws) => {
    const compiled = Object.hasOwn(ws.project.apps, app) ? ws.project.apps[app]! : null;
    if (!compiled) throw new UsageError(`no app ${JSON.stringify(app)} in the config (apps: ${Object.keys(ws.project.apps).join(', ')})`);
    const found = await discoverApp(compiled, { dir: ws.dir, resolvePath: (p) => (isAbsolute(p) ? p : resolve(ws.dir, p)) });
    if (out.format === 'json') out.stdout(JSON.stringify({ app, provider: compiled.config.provider, note: found.note, attributes: found.attributes }) + '\n');
    else out.stdout(renderDiscovery(app, compiled.config.provider, found.note, found.attributes));
    return 0;
  });
}
