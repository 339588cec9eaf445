/**
 * The schema discovery run: asks one app what its accounts look like (a CSV header, an LDAP subschema,
 * SCIM /Schemas, a sample of an HTTP source's records, Okta's user schema) and returns the attribute
 * declarations and import mappings to paste into idplane.yaml. USAGE for an app the config does not have.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AppConfig } from '../../schemas/generated/config.ts';
import { discoverApp } from '../../providers/discover.ts';
import type { DiscoveredAttribute } from '../../providers/discovery.ts';
import { atBoundary } from '../boundary.ts';
import { UsageError } from '../errors.ts';
import { withWorkspace } from '../workspace.ts';
import { runContext, type RunOptions } from './run-options.ts';
import { redactSecrets } from '../secrets.ts';

export interface DiscoverOptions extends RunOptions {
  app: string;
}

export interface Discovery {
  app: string;
  provider: AppConfig['provider'];
  /** Where the attributes were read from (for people). */
  note: string;
  attributes: DiscoveredAttribute[];
}

export async function discover(options: DiscoverOptions): Promise<Discovery> {
  const { app } = options;
  return atBoundary(() => withWorkspace(options.dir, async (ws) => {
    const compiled = Object.hasOwn(ws.project.apps, app) ? ws.project.apps[app]! : null;
    if (!compiled) throw new UsageError(`no app ${JSON.stringify(app)} in the config (apps: ${Object.keys(ws.project.apps).join(', ')})`);
    const found = await discoverApp(compiled, { dir: ws.dir, resolvePath: (p) => (isAbsolute(p) ? p : resolve(ws.dir, p)) });
    return { app, provider: compiled.config.provider, note: redactSecrets(found.note), attributes: found.attributes };
  }, runContext(options).open));
}
