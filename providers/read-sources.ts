/**
 * Reads every import source of a project, each through its provider. The provider table is an exhaustive
 * record, so a new provider name fails to compile until it has a reader. Each reader imports its
 * provider's module when it first runs, so a config without LDAP never loads ldapts. An import source is
 * read for its import (incremental where its import is, from the stored watermark); a target is always
 * read whole.
 */
import { isAbsolute, resolve } from 'node:path';
import type { AppConfig } from '../schemas/generated/config.ts';
import type { NotPlannedApp } from '../schemas/generated/plan.ts';
import type { CompiledApp, Project, SourceSnapshot } from '../reconciler/model.ts';
import { ProviderError } from './errors.ts';
import { refuseNul } from './nul-check.ts';

export type { NotPlannedApp };

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
  /**
   * Apps not to read, with the entry a saved plan left them out with: apply recomputes a saved plan
   * without the apps it did not plan, so an app that came back since is planned by the next plan, not
   * slipped into this one.
   */
  notRead?: ReadonlyMap<string, NotPlannedApp>;
}

/** What one read of the project's apps gave: a snapshot per app read, and the apps left out (onUnreachable: skip). */
export interface ReadResult {
  snapshots: SourceSnapshot[];
  notPlanned: NotPlannedApp[];
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
      // A CSV target reads its own file back without the formula escapes it wrote (csv/formulas.ts).
      formulasEscaped: config.provision !== undefined && config.connection.escapeFormulas !== false,
      onProgress: (done, total) => ctx.onProgress?.(app, done, total, 'bytes'),
    });
  },
  ldap: async (app, config, key, ctx, purpose) => {
    const { readLdapAccounts } = await import('./ldap/read.ts');
    return refuseNul(await readLdapAccounts({ app, config, key, dir: ctx.dir, incremental: incrementalOf(app, config, ctx, purpose), onProgress: (entries) => ctx.onProgress?.(app, entries, entries, 'accounts') }), 'the LDAP entry with key');
  },
  scim: async (app, config, key, ctx) => {
    const { readScimAccounts } = await import('./scim/read.ts');
    return refuseNul(await readScimAccounts({ app, config, key, onProgress: (done, total) => ctx.onProgress?.(app, done, total, 'accounts') }), 'the SCIM resource with key');
  },
  http: async (app, config, key, ctx, purpose) => {
    const { readHttpAccounts } = await import('./http/read.ts');
    return readHttpAccounts({ app, config, key, incremental: incrementalOf(app, config, ctx, purpose), onProgress: (done, total) => ctx.onProgress?.(app, done, total, 'accounts') });
  },
  okta: async (app, config, key, ctx, purpose) => {
    const { readOktaAccounts } = await import('./okta/read.ts');
    return refuseNul(await readOktaAccounts({ app, config, key, incremental: incrementalOf(app, config, ctx, purpose), onProgress: (done, total) => ctx.onProgress?.(app, done, total, 'accounts') }), 'the Okta user with key');
  },
};

/** The incremental read an import asks for: the watermark attribute and the stored watermark (null before the first). */
function incrementalOf(app: string, config: AppConfig, ctx: ReadContext, purpose: Purpose): { attribute: string; stored: string | null } | null {
  const imp = config.import;
  if (purpose !== 'import' || imp?.mode !== 'incremental' || !imp.watermark) return null;
  return { attribute: imp.watermark, stored: (ctx.watermarks && Object.hasOwn(ctx.watermarks, app) ? ctx.watermarks[app] : undefined) ?? null };
}

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
    case 'http': return readers.http(app, config, key, ctx, purpose);
    case 'okta': return readers.okta(app, config, key, ctx, purpose);
    default: {
      const never: never = config;
      throw new Error(`unknown provider ${JSON.stringify(never)}`);
    }
  }
}

/** onUnreachable of an app read in the given role: the config's, else fail for an import source and skip for a target. */
export function onUnreachable(app: CompiledApp, role: NotPlannedApp['role']): 'fail' | 'skip' {
  return app.config.onUnreachable ?? (role === 'source' ? 'fail' : 'skip');
}

/**
 * Reads one app for a role. An app that cannot be read stops the run (fail), or is left out with the
 * reason (skip). The memory guard's error is never caught: it is the run's, not the app's.
 */
async function readOrSkip(app: CompiledApp, role: NotPlannedApp['role'], ctx: ReadContext, out: ReadResult, purpose: Purpose): Promise<void> {
  const skipped = ctx.notRead?.get(app.name);
  if (skipped) {
    out.notPlanned.push(skipped);
    return;
  }
  try {
    out.snapshots.push(await read(app.name, app.config, app.key, ctx, purpose));
  } catch (error) {
    if (role === 'target' && error instanceof ProviderError && /no such file/.test(error.message)) {
      out.snapshots.push({ app: app.name, accounts: [], rowErrors: [], fingerprint: 'absent' });
      return;
    }
    if (onUnreachable(app, role) === 'fail' || (error as { code?: unknown }).code === 'MEMORY_LIMIT') throw error;
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.startsWith(`${app.name}: `) ? message.slice(app.name.length + 2) : message;
    out.notPlanned.push({ app: app.name, role, operation: role === 'source' ? 'read accounts for import' : 'read accounts', reason });
  }
}

/** The apps' results in the project's order, whatever order their reads finished in. */
async function readAll(apps: CompiledApp[], role: NotPlannedApp['role'], ctx: ReadContext, purpose: Purpose): Promise<ReadResult> {
  const each = await Promise.all(apps.map(async (a) => {
    const one: ReadResult = { snapshots: [], notPlanned: [] };
    await readOrSkip(a, role, ctx, one, purpose);
    return one;
  }));
  return { snapshots: each.flatMap((r) => r.snapshots), notPlanned: each.flatMap((r) => r.notPlanned) };
}

export async function readSources(project: Project, ctx: ReadContext): Promise<ReadResult> {
  const apps = project.profileSources.map((name) => project.apps[name]!).filter((a) => a.import);
  return readAll(apps, 'source', ctx, 'import');
}

/**
 * Reads the live accounts of every provisioning target. A write-back app reuses its import snapshot
 * unless that is partial (an incremental import), and is not read again when its import could not be
 * read; a target whose file does not exist yet simply has no accounts.
 */
export async function readTargets(project: Project, ctx: ReadContext, sources: ReadResult): Promise<ReadResult> {
  const already = new Map(sources.snapshots.map((s) => [s.app, s]));
  const unread = new Set(sources.notPlanned.map((n) => n.app));
  const targets = Object.values(project.apps).filter((a) => a.provision && !unread.has(a.name));
  const reused = targets.flatMap((a) => {
    const known = already.get(a.name);
    return known && !known.partial ? [known] : [];
  });
  const reusedApps = new Set(reused.map((s) => s.app));
  const read = await readAll(targets.filter((a) => !reusedApps.has(a.name)), 'target', ctx, 'target');
  const order = new Map(targets.map((a, i) => [a.name, i]));
  const byOrder = (a: { app: string }, b: { app: string }) => order.get(a.app)! - order.get(b.app)!;
  return { snapshots: [...reused, ...read.snapshots].sort(byOrder), notPlanned: read.notPlanned.sort(byOrder) };
}
