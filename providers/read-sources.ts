/**
 * Reads every import source of a project, each through its provider. The provider table is an exhaustive
 * record, so a new provider name fails to compile until it has a reader. Each reader imports its
 * provider's module when it first runs, so a config without LDAP never loads ldapts. An import source is
 * read for its import (incremental where its import is, from the stored watermark); a target is always
 * read whole.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AppConfig } from '../schemas/generated/config.ts';
import type { Project, SourceSnapshot } from '../reconciler/model.ts';
import { ProviderError } from './errors.ts';

export interface ReadContext {
  /** The config's folder: relative paths resolve against it. */
  dir: string;
  /** How far a read is: in `unit` ('bytes' of a file, or 'accounts' listed so far). */
  onProgress?: (app: string, done: number, total: number, unit: 'bytes' | 'accounts') => void;
  /** Told as each app's read is done, with what it read. */
  onRead?: (app: string, snapshot: SourceSnapshot) => void;
  /** app → the stored watermark of its incremental import (state.watermarks). */
  watermarks?: Record<string, string>;
  /**
   * Reads shared by the plans of one run (plan --git-base plans two configs): an app read with the
   * same config for the same purpose is read once. Keyed by app, purpose and config.
   */
  snapshots?: Map<string, Promise<SourceSnapshot>>;
}

/** import: read for the app's import (incremental where configured); target: the whole account list. */
type Purpose = 'import' | 'target';

type Readers = { [P in AppConfig['provider']]: (app: string, config: Extract<AppConfig, { provider: P }>, key: string, ctx: ReadContext, purpose: Purpose) => Promise<SourceSnapshot> };

const readers: Readers = {
  csv: async (app, config, key, ctx) => {
    const { readCsvAccounts } = await import('./csv/read.ts');
    const path = config.connection.path;
    return readCsvAccounts({
      app, key, connection: config.connection,
      path: isAbsolute(path) ? path : resolve(ctx.dir, path),
      displayPath: path,
      onProgress: (done, total) => ctx.onProgress?.(app, done, total, 'bytes'),
    });
  },
  ldap: async (app, config, key, ctx, purpose) => {
    const { readLdapAccounts } = await import('./ldap/read.ts');
    const imp = config.import;
    const incremental = purpose === 'import' && imp?.mode === 'incremental' && imp.watermark
      ? { attribute: imp.watermark, stored: (ctx.watermarks && Object.hasOwn(ctx.watermarks, app) ? ctx.watermarks[app] : undefined) ?? null }
      : null;
    return readLdapAccounts({ app, config, key, dir: ctx.dir, incremental, onProgress: (entries) => ctx.onProgress?.(app, entries, entries, 'accounts') });
  },
  scim: async (app, config, key, ctx) => {
    const { readScimAccounts } = await import('./scim/read.ts');
    return readScimAccounts({ app, config, key, onProgress: (done, total) => ctx.onProgress?.(app, done, total, 'accounts') });
  },
};

/** Reads one app through its provider, and says so when done. */
async function read(app: string, config: AppConfig, key: string, ctx: ReadContext, purpose: Purpose): Promise<SourceSnapshot> {
  if (ctx.snapshots) {
    const id = JSON.stringify([app, purpose, key, config]);
    let shared = ctx.snapshots.get(id);
    if (!shared) ctx.snapshots.set(id, (shared = readWith(app, config, key, ctx, purpose)));
    const snapshot = await shared;
    ctx.onRead?.(app, snapshot);
    return snapshot;
  }
  const snapshot = await readWith(app, config, key, ctx, purpose);
  ctx.onRead?.(app, snapshot);
  return snapshot;
}

/** Calls the reader of the app's provider with its config narrowed to that provider. */
function readWith(app: string, config: AppConfig, key: string, ctx: ReadContext, purpose: Purpose): Promise<SourceSnapshot> {
  switch (config.provider) {
    case 'csv': return readers.csv(app, config, key, ctx, purpose);
    case 'ldap': return readers.ldap(app, config, key, ctx, purpose);
    case 'scim': return readers.scim(app, config, key, ctx, purpose);
    default: {
      const never: never = config;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}

export async function readSources(project: Project, ctx: ReadContext): Promise<SourceSnapshot[]> {
  const apps = project.profileSources.map((name) => project.apps[name]!).filter((a) => a.import);
  return Promise.all(apps.map((a) => read(a.name, a.config, a.key, ctx, 'import')));
}

/**
 * Reads the live accounts of every provisioning target. A write-back app reuses its import snapshot
 * unless that is partial (an incremental import); a target whose file does not exist yet simply has no
 * accounts.
 */
export async function readTargets(project: Project, ctx: ReadContext, sources: SourceSnapshot[]): Promise<SourceSnapshot[]> {
  const already = new Map(sources.map((s) => [s.app, s]));
  const targets = Object.values(project.apps).filter((a) => a.provision);
  return Promise.all(targets.map(async (a) => {
    const known = already.get(a.name);
    if (known && !known.partial) return known;
    try {
      return await read(a.name, a.config, a.key, ctx, 'target');
    } catch (error) {
      if (error instanceof ProviderError && /no such file/.test(error.message)) return { app: a.name, accounts: [], rowErrors: [], fingerprint: 'absent' };
      throw error;
    }
  }));
}
