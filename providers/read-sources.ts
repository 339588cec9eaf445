/**
 * Reads every import source of a project, each through its provider. The provider table is an exhaustive
 * record, so a new provider name fails to compile until it has a reader.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AppConfig } from '../schemas/generated/config.ts';
import type { Project, SourceSnapshot } from '../reconciler/model.ts';
import { readCsvAccounts } from './csv/read.ts';

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
