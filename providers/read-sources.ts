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

type Reader = (app: string, config: AppConfig, key: string, ctx: ReadContext) => Promise<SourceSnapshot>;

const readers: Record<AppConfig['provider'], Reader> = {
  csv: (app, config, key, ctx) => {
    const path = config.connection.path;
    return readCsvAccounts({
      app, key, connection: config.connection,
      path: isAbsolute(path) ? path : resolve(ctx.dir, path),
      displayPath: path,
      onProgress: (done, total) => ctx.onProgress?.(app, done, total),
    });
  },
};

export async function readSources(project: Project, ctx: ReadContext): Promise<SourceSnapshot[]> {
  const apps = project.profileSources.map((name) => project.apps[name]!).filter((a) => a.import);
  return Promise.all(apps.map((a) => readers[a.config.provider](a.name, a.config, a.key, ctx)));
}

/**
 * Reads the live accounts of every provisioning target. A write-back app reuses its import snapshot;
 * a target whose file does not exist yet simply has no accounts.
 */
export async function readTargets(project: Project, ctx: ReadContext, sources: SourceSnapshot[]): Promise<SourceSnapshot[]> {
  const read = new Map(sources.map((s) => [s.app, s]));
  const targets = Object.values(project.apps).filter((a) => a.provision);
  return Promise.all(targets.map(async (a) => {
    const known = read.get(a.name);
    if (known) return known;
    try {
      return await readers[a.config.provider](a.name, a.config, a.key, ctx);
    } catch (error) {
      if (error instanceof ProviderError && /no such file/.test(error.message)) return { app: a.name, accounts: [], rowErrors: [], fingerprint: 'absent' };
      throw error;
    }
  }));
}
