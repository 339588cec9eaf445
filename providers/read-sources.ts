/**
 * Reads every import source of a project, each through its provider. The provider table is an exhaustive
 * record, so a new provider name fails to compile until it has a reader.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AppConfig } from '../schemas/generated/config.ts';
import type { Project, SourceSnapshot } from '../reconciler/model.ts';
import { readCsvAccounts } from './csv/read.ts';
import { ProviderError } from './errors.ts';

export interface ReadContext {
  /** The config's folder: relative paths resolve against it. */
  dir: string;
  onProgress?: (app: string, done: number, total: number) => void;
}

type Readers = { [P in AppConfig['provider']]: (app: string, config: Extract<AppConfig, { provider: P }>, key: string, ctx: ReadContext) => Promise<SourceSnapshot> };

const readers: Readers = {
  csv: (app, config, key, ctx) => {
    const path = config.connection.path;
    return readCsvAccounts({
      app, key, connection: config.connection,
      path: isAbsolute(path) ? path : resolve(ctx.dir, path),
      displayPath: path,
      onProgress: (done, total) => ctx.onProgress?.(app, done, total),
    });
  },
  ldap: (app) => Promise.reject(new ProviderError(app, 'the ldap provider is not available in this build')),
  scim: (app) => Promise.reject(new ProviderError(app, 'the scim provider is not available in this build')),
};

/** Calls the reader of the app's provider with its config narrowed to that provider. */
function read(app: string, config: AppConfig, key: string, ctx: ReadContext): Promise<SourceSnapshot> {
  switch (config.provider) {
    case 'csv': return readers.csv(app, config, key, ctx);
    case 'ldap': return readers.ldap(app, config, key, ctx);
    case 'scim': return readers.scim(app, config, key, ctx);
    default: {
      const never: never = config;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}

export async function readSources(project: Project, ctx: ReadContext): Promise<SourceSnapshot[]> {
  const apps = project.profileSources.map((name) => project.apps[name]!).filter((a) => a.import);
  return Promise.all(apps.map((a) => read(a.name, a.config, a.key, ctx)));
}

/**
 * Reads the live accounts of every provisioning target. A write-back app reuses its import snapshot;
 * a target whose file does not exist yet simply has no accounts.
 */
export async function readTargets(project: Project, ctx: ReadContext, sources: SourceSnapshot[]): Promise<SourceSnapshot[]> {
  const already = new Map(sources.map((s) => [s.app, s]));
  const targets = Object.values(project.apps).filter((a) => a.provision);
  return Promise.all(targets.map(async (a) => {
    const known = already.get(a.name);
    if (known) return known;
    try {
      return await read(a.name, a.config, a.key, ctx);
    } catch (error) {
      if (error instanceof ProviderError && /no such file/.test(error.message)) return { app: a.name, accounts: [], rowErrors: [], fingerprint: 'absent' };
      throw error;
    }
  }));
}
