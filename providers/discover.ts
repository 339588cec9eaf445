/**
 * Schema discovery dispatch: each provider's way of asking an app what its accounts look like. The
 * provider's module is imported only for the app asked about.
 */
import type { CompiledApp } from '../reconciler/model.ts';
import type { DiscoveredAttribute } from './discovery.ts';

export interface DiscoverContext {
  dir: string;
  resolvePath: (path: string) => string;
}

export async function discoverApp(app: CompiledApp, ctx: DiscoverContext): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const config = app.config;
  switch (config.provider) {
    case 'csv': {
      const { discoverCsv } = await import('./csv/discover.ts');
      return discoverCsv({ app: app.name, key: app.key, connection: config.connection, path: ctx.resolvePath(config.connection.path), displayPath: config.connection.path });
    }
    case 'ldap': {
      const { discoverLdap } = await import('./ldap/discover.ts');
      return discoverLdap(app.name, config, ctx.dir);
    }
    case 'scim': {
      const { discoverScim } = await import('./scim/discover-schema.ts');
      return discoverScim(app.name, config);
    }
    case 'http': {
      const { discoverHttp } = await import('./http/discover.ts');
      return discoverHttp(app.name, config, app.key);
    }
    case 'okta': {
      const { discoverOkta } = await import('./okta/discover.ts');
      return discoverOkta(app.name, config);
    }
    default: {
      const never: never = config;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}
