/**
 * Schema discovery dispatch: each provider's way of asking an app what its accounts look like.
 */
import type { CompiledApp } from '../reconciler/model.ts';
import { discoverCsv } from './csv/discover.ts';
import type { DiscoveredAttribute } from './discovery.ts';
import { discoverLdap } from './ldap/discover.ts';
import { discoverScim } from './scim/discover-schema.ts';

export interface DiscoverContext {
  dir: string;
  resolvePath: (path: string) => string;
}

export async function discoverApp(app: CompiledApp, ctx: DiscoverContext): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const config = app.config;
  switch (config.provider) {
    case 'csv':
      return discoverCsv({ app: app.name, key: app.key, connection: config.connection, path: ctx.resolvePath(config.connection.path), displayPath: config.connection.path });
    case 'ldap':
      return discoverLdap(app.name, config, ctx.dir);
    case 'scim':
      return discoverScim(app.name, config);
    default: {
      const never: never = config;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}
