/**
 * Applies a plan's account changes, target by target, through each target's provider. A target that
 * fails (unreachable, unreadable, refused) marks its own changes failed with the reason and never stops
 * the others. Every change comes back with a result. Each writer imports its provider's module when it
 * first runs.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AppConfig } from '../schemas/generated/config.ts';
import type { AccountChange } from '../schemas/generated/plan.ts';
import type { CompiledApp, Project } from '../reconciler/model.ts';
import type { ChangeResult } from './csv/write.ts';

export type { ChangeResult };

type Writers = { [P in AppConfig['provider']]: (app: CompiledApp, config: Extract<AppConfig, { provider: P }>, changes: AccountChange[], dir: string) => Promise<ChangeResult[]> };

const writers: Writers = {
  csv: async (app, config, changes, dir) => {
    const { applyCsvTarget } = await import('./csv/write.ts');
    const path = config.connection.path;
    return applyCsvTarget({
      app: app.name, key: app.key, connection: config.connection,
      path: isAbsolute(path) ? path : resolve(dir, path), displayPath: path,
      status: app.provision!.status,
    }, changes);
  },
  ldap: async (app, config, changes, dir) => {
    const { applyLdapTarget } = await import('./ldap/write.ts');
    return applyLdapTarget({ app: app.name, config, key: app.key, dir }, changes);
  },
  scim: async (app, config, changes) => {
    const { applyScimTarget } = await import('./scim/write.ts');
    return applyScimTarget({ app: app.name, config, key: app.key, status: app.provision!.status }, changes);
  },
  http: async (app, _config, changes) => {
    // The schema gives an http app no provision: section, so the plan never holds changes for one.
    return changes.map((c) => ({ app: app.name, key: c.key, action: c.action, outcome: 'failed' as const, message: `${app.name} is an http app, which idplane only reads` }));
  },
  okta: async (app, config, changes) => {
    const { applyOktaTarget } = await import('./okta/write.ts');
    return applyOktaTarget({ app: app.name, config, key: app.key }, changes);
  },
};

function write(app: CompiledApp, changes: AccountChange[], dir: string): Promise<ChangeResult[]> {
  const config = app.config;
  switch (config.provider) {
    case 'csv': return writers.csv(app, config, changes, dir);
    case 'ldap': return writers.ldap(app, config, changes, dir);
    case 'scim': return writers.scim(app, config, changes, dir);
    case 'http': return writers.http(app, config, changes, dir);
    case 'okta': return writers.okta(app, config, changes, dir);
    default: {
      const never: never = config;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}

export interface TargetHooks {
  before?: (app: string) => void;
  after?: (app: string) => void;
}

export async function applyTargets(project: Project, dir: string, changes: AccountChange[], hooks: TargetHooks = {}): Promise<ChangeResult[]> {
  const byApp = new Map<string, AccountChange[]>();
  for (const c of changes) {
    let list = byApp.get(c.app);
    if (!list) byApp.set(c.app, (list = []));
    list.push(c);
  }
  const results: ChangeResult[] = [];
  for (const [name, list] of byApp) {
    hooks.before?.(name);
    const app = project.apps[name];
    if (!app?.provision) {
      for (const c of list) results.push({ app: name, key: c.key, action: c.action, outcome: 'failed', message: `${name} is no longer a provisioning target in the config` });
      continue;
    }
    try {
      for (const r of await write(app, list, dir)) results.push(r);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const c of list) results.push({ app: name, key: c.key, action: c.action, outcome: 'failed', message });
    }
    hooks.after?.(name);
  }
  return results;
}
