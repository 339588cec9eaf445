/**
 * Records a state-changing run in the store's history: who, when, which command, the config's fingerprint
 * and git commit, the serial before and after, the summary and the outcome; and turns a plan's changes
 * into journal entries. The git commit comes from simple-git when the config sits in a repository (with
 * "-dirty" when the config folder, .idplane/ aside, has uncommitted edits), and is null otherwise;
 * simple-git is imported only when a run is recorded.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Plan, ValueChange } from '../../schemas/generated/plan.ts';
import type { AccountResult } from '../../reconciler/apply-plan.ts';
import { changedAttributes } from '../../reconciler/diff.ts';
import type { ChangeRecord, RunRecord, StateStore } from '../../state/types.ts';

export function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export async function gitCommitOf(dir: string): Promise<string | null> {
  const { simpleGit } = await import('simple-git');
  try {
    const git = simpleGit({ baseDir: dir, timeout: { block: 5000 } });
    if (!(await git.checkIsRepo())) return null;
    const head = (await git.revparse(['HEAD'])).trim();
    // The embedded state folder changes on every run; it is not part of the config.
    const status = await git.status(['--', '.', ':(exclude).idplane']);
    return status.isClean() ? head : `${head}-dirty`;
  } catch {
    return null; // not a repository, no commits yet, or no git binary: history just has no commit
  }
}

export interface RunLog {
  run: RunRecord;
  nextSeq(): number;
  finish(patch: Pick<RunRecord, 'outcome'> & Partial<RunRecord>): Promise<void>;
}

/**
 * The git commit of the config in `dir`, asked once per process and folder: a run records the commit of
 * the config it was loaded from, and a server that records a run per sign-in must not start git for each.
 */
const commits = new Map<string, Promise<string | null>>();
export function configCommit(dir: string): Promise<string | null> {
  let commit = commits.get(dir);
  if (!commit) commits.set(dir, (commit = gitCommitOf(dir)));
  return commit;
}

/** A run as it starts: who, where, when, which config and commit, from which serial. */
export async function runRecord(ws: { dir: string; fingerprint: string }, command: string, serialBefore: number): Promise<RunRecord> {
  return {
    id: randomUUID(), command, who: whoAmI(), host: hostname(), startedAt: new Date().toISOString(), finishedAt: null,
    configFingerprint: ws.fingerprint, gitCommit: await configCommit(ws.dir), serialBefore, serialAfter: null, summary: null,
    outcome: 'running', message: null,
  };
}

export async function startRun(store: StateStore, command: string, dir: string, fingerprint: string, serialBefore: number): Promise<RunLog> {
  const run = await runRecord({ dir, fingerprint }, command, serialBefore);
  await store.recordRun(run);
  let seq = 0;
  return {
    run,
    nextSeq: () => seq++,
    finish: async (patch) => {
      Object.assign(run, patch, { finishedAt: new Date().toISOString() });
      await store.recordRun(run);
    },
  };
}

/**
 * Journal entries for the directory part of a plan: user changes (a create with every attribute it
 * sets) and links. A generator: the store writes them as they come, a million never held at once.
 */
export function* directoryChanges(plan: Pick<Plan, 'users' | 'links'>, log: Pick<RunLog, 'run' | 'nextSeq'>): Generator<ChangeRecord> {
  const at = new Date().toISOString();
  for (const u of plan.users) {
    const attributes: Record<string, ValueChange> = { ...changedAttributes(u) };
    if (u.status) attributes['@status'] = u.status;
    if (u.source) attributes['@source'] = u.source;
    yield { runId: log.run.id, seq: log.nextSeq(), at, kind: 'user', action: u.action, userId: u.id, login: u.login, app: null, key: null, attributes, outcome: 'done', message: null };
  }
  for (const l of plan.links) {
    yield { runId: log.run.id, seq: log.nextSeq(), at, kind: 'link', action: l.action, userId: l.userId, login: l.login, app: l.app, key: l.key, attributes: null, outcome: 'done', message: null };
  }
}

/** Journal entries for target account changes: before the write (pending), or with their results. */
export function accountChanges(plan: Plan, log: RunLog, results?: (AccountResult & { message?: string })[]): ChangeRecord[] {
  const at = new Date().toISOString();
  const byChange = new Map((results ?? []).map((r) => [`${r.app}\u0000${r.key}\u0000${r.action}`, r]));
  return plan.accounts.map((a) => {
    const r = byChange.get(`${a.app}\u0000${a.key}\u0000${a.action}`);
    return {
      runId: log.run.id, seq: log.nextSeq(), at, kind: 'account', action: a.action, userId: a.userId, login: a.login, app: a.app, key: a.key,
      attributes: Object.fromEntries(Object.entries(a.attributes).map(([k, v]) => [k, { from: v.from, to: v.to }])),
      outcome: results ? (r?.outcome ?? 'failed') : 'pending', message: results ? (r?.message ?? (r ? null : 'no result')) : null,
    };
  });
}
