/**
 * Wires I/O to the core for one command: load and validate the config, open the state store, read the
 * sources and build the plan. Each step is one call; everything it does not do itself is pure.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { IdplaneConfig } from '../schemas/generated/config.ts';
import type { NotPlannedApp, Plan } from '../schemas/generated/plan.ts';
import type { DirectoryState, Project, SourceSnapshot } from '../reconciler/model.ts';
import { buildPlan, type PlanObserver, type PlanStage } from '../reconciler/plan.ts';
import { readSources, readTargets, type ReadContext, type ReadResult } from '../providers/read-sources.ts';
import { openStateStore } from '../state/open-store.ts';
import type { StateStore } from '../state/types.ts';
import { loadConfig, type ConfigFiles, type LoadedConfig } from './config/load.ts';
import type { ConfigProblem } from './config/problems.ts';
import { validateConfig } from './config/validate.ts';
import { checkColumns } from './config/columns.ts';
import { ConfigError } from './errors.ts';
import type { Progress, ProgressTask } from './progress.ts';
import { VERSION } from './version.ts';

export { VERSION };

export interface Workspace {
  dir: string;
  config: IdplaneConfig;
  project: Project;
  fingerprint: string;
  warnings: ConfigProblem[];
  /** Where a config value was written (file:line:col), for checks made after loading. */
  locate: Pick<LoadedConfig, 'locate' | 'locateInScalar'>;
  store: StateStore;
}

export interface OpenOptions {
  /** Where ${env:NAME} in the config reads from; default process.env. */
  env?: Record<string, string | undefined>;
  /** The state store's notices (taking over a dead run's lock). */
  notice?: (m: string) => void;
}

export async function openWorkspace(dir: string, options: OpenOptions = {}): Promise<Workspace> {
  const project = await loadProject(dir, options.env ?? process.env);
  const store = await openStateStore(project.config.state, project.dir, options.notice);
  return { ...project, store };
}

/**
 * The config of `dir`, validated and compiled. `files`: read it from elsewhere (a git commit); problems
 * then say `failure` instead of the usual count.
 */
export async function loadProject(dir: string, env: Record<string, string | undefined>, files?: ConfigFiles & { failure: string }): Promise<Omit<Workspace, 'store'>> {
  const absolute = resolve(dir);
  const loaded = await loadConfig(absolute, env, process.cwd(), files);
  if (!loaded.ok) throw new ConfigError(loaded.problems, files?.failure);
  const validated = validateConfig(loaded.config);
  if (!validated.ok) throw new ConfigError(validated.problems, files?.failure);
  const fingerprint = `sha256:${createHash('sha256').update(JSON.stringify(loaded.config.unresolved)).digest('hex')}`;
  return { dir: absolute, config: validated.config, project: validated.project, fingerprint, warnings: validated.warnings, locate: loaded.config };
}

/** Opens the workspace, runs `use`, and always closes the state store (a PostgreSQL pool keeps a process alive). */
export async function withWorkspace<T>(dir: string, use: (ws: Workspace) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const ws = await openWorkspace(dir, options);
  try {
    return await use(ws);
  } finally {
    await ws.store.close();
  }
}

/** The stored state, as one phase of the run's progress. */
export async function readState(ws: Workspace, progress: Progress): Promise<DirectoryState> {
  const task = progress.start('reading the state', 'users');
  const state = await ws.store.read({ onProgress: (done, total, unit) => task.update(done, total, unit) });
  task.finish(state.users.length);
  return state;
}

/** What planning needs of a workspace (plan --git-base plans a config read from git, with no store of its own). */
export type PlanningWorkspace = Pick<Workspace, 'dir' | 'project' | 'fingerprint' | 'config' | 'locate'>;

export interface PlanOptions {
  /** Reads shared with another plan of the same run (plan --git-base). */
  snapshots?: Map<string, Promise<SourceSnapshot>>;
  /** Apps not to read, left out as a saved plan left them out (apply PLANFILE recomputes it so). */
  notRead?: ReadonlyMap<string, NotPlannedApp>;
}

export async function planWorkspace(ws: PlanningWorkspace, state: DirectoryState, progress: Progress, options: PlanOptions = {}): Promise<Plan> {
  return (await inspectWorkspace(ws, state, progress, options)).plan;
}

const STAGES: Record<PlanStage, [label: string, unit: string]> = {
  correlate: ['correlating', 'accounts'], map: ['mapping', 'users'], diff: ['diffing', 'users'], provision: ['provisioning', 'users'],
};

/** How the providers read for a run: from the config's folder, with a progress phase per app. */
function readContext(ws: PlanningWorkspace, state: DirectoryState, progress: Progress, options: PlanOptions = {}): ReadContext {
  const tasks = new Map<string, ProgressTask>();
  const task = (app: string) => {
    let t = tasks.get(app);
    if (!t) tasks.set(app, (t = progress.start(`reading ${app}`, 'accounts')));
    return t;
  };
  return {
    dir: ws.dir, watermarks: state.watermarks,
    onProgress: (app, done, total, unit) => task(app).update(done, total, unit),
    onRead: (app, snapshot) => task(app).finish(snapshot.accounts.length),
    ...(options.snapshots ? { snapshots: options.snapshots } : {}),
    ...(options.notRead ? { notRead: options.notRead } : {}),
  };
}

/** The import sources' snapshots (explain reads only these). */
export async function readWorkspaceSources(ws: PlanningWorkspace, state: DirectoryState, progress: Progress): Promise<ReadResult> {
  return readSources(ws.project, readContext(ws, state, progress));
}

/**
 * A CSV import naming a column its file does not have (`app.titel`) is the config error validate reports,
 * at the reference: the plan stops there, instead of one conflict per row and then "No changes".
 */
function stopAtMissingColumns(ws: PlanningWorkspace, snapshots: readonly SourceSnapshot[]): void {
  const problems = snapshots.flatMap((s) => {
    const app = ws.project.apps[s.app]?.config;
    if (app?.provider !== 'csv' || !s.columns) return [];
    return checkColumns(ws.config, { app: s.app, columns: s.columns, from: app.connection.path }, ws.locate).filter((p) => p.severity === 'error');
  });
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The plan, and the live target accounts it was computed from (drift reads both). */
export async function inspectWorkspace(ws: PlanningWorkspace, state: DirectoryState, progress: Progress, options: PlanOptions = {}): Promise<{ plan: Plan; targets: SourceSnapshot[] }> {
  const ctx = readContext(ws, state, progress, options);
  const read = await readSources(ws.project, ctx);
  stopAtMissingColumns(ws, read.snapshots);
  const live = await readTargets(ws.project, ctx, read);
  const sources = read.snapshots;
  const targets = live.snapshots;
  const notPlanned = [...read.notPlanned, ...live.notPlanned];
  let stage: { name: PlanStage; task: ProgressTask } | null = null;
  const observe: PlanObserver = (name, done, total) => {
    if (stage?.name !== name) {
      stage?.task.finish();
      const [label, unit] = STAGES[name];
      stage = { name, task: progress.start(label, unit) };
    }
    stage.task.update(done, total);
  };
  const plan = buildPlan({ project: ws.project, state, sources, targets, notPlanned, configFingerprint: ws.fingerprint, version: VERSION, observe });
  (stage as { task: ProgressTask } | null)?.task.finish();
  return { plan, targets };
}
