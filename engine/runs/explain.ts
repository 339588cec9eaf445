/**
 * The explain run: the provenance of one user's values (reconciler/explain.ts runs the plan's stages for
 * them: the source, account, mapping and inputs of each value, the lifecycle rule behind the status),
 * plus, from the history, the run that last changed each value (who, when, which command and the
 * config's git commit). An import source that cannot be read is a warning to the observer: its last
 * imported values are explained. It changes nothing and takes no lock. USAGE for an attribute the
 * directory does not have, USER_NOT_FOUND for a login nobody has or would get.
 */
import { explainUser, type AttributeExplanation, type Explanation } from '../../reconciler/explain.ts';
import type { ChangeRecord, RunRecord } from '../../state/types.ts';
import { atBoundary } from '../boundary.ts';
import { closest } from '../config/problems.ts';
import { IdplaneError, UsageError } from '../errors.ts';
import { readState, readWorkspaceSources, withWorkspace } from '../workspace.ts';
import { runContext, type RunOptions } from './run-options.ts';

export interface ExplainOptions extends RunOptions {
  login: string;
  /** Only this attribute (or `status`). */
  attribute?: string;
}

/** The run that last changed a value. */
export interface LastChange {
  at: string;
  command: string;
  who: string;
  runId: string;
  gitCommit: string | null;
}

/**
 * The explanation, its attributes narrowed to `attribute` when one is asked for, each with the run that
 * last changed it; the status carries its last change too unless another attribute was asked for.
 */
export type ExplainResult = Omit<Explanation, 'attributes' | 'status'> & {
  attributes: (AttributeExplanation & { lastChanged: LastChange | null })[];
  status: Explanation['status'] & { lastChanged?: LastChange | null };
};

export async function explain(options: ExplainOptions): Promise<ExplainResult> {
  const { observer, progress, open } = runContext(options);
  const { login, attribute } = options;
  return atBoundary(() => withWorkspace(options.dir, async (ws) => {
    const names = [...Object.keys(ws.project.attributes), 'status'];
    if (attribute !== undefined && !names.includes(attribute)) {
      const best = closest(attribute, names);
      throw new UsageError(`${attribute} is not a directory attribute${best ? `; did you mean ${best}?` : ''} (the attributes: ${names.join(', ')})`);
    }
    const state = await readState(ws, progress);
    const read = await readWorkspaceSources(ws, state, progress);
    for (const n of read.notPlanned) observer.warning({ kind: 'source-not-read', app: n.app, reason: n.reason });
    const explanation = explainUser(ws.project, state, read.snapshots, login);
    if (!explanation) {
      throw new IdplaneError('USER_NOT_FOUND', `no user ${login} in the directory, in users: or in what the sources would create; \`idplane state list\` lists the logins`);
    }
    const history = await ws.store.history({ login: explanation.login, limit: 200 });
    const last = lastChanges(history.runs, history.changes, explanation.id);
    const shown = attribute === undefined ? explanation.attributes : explanation.attributes.filter((a) => a.name === attribute);
    const attributes = shown.map((a) => ({ ...a, lastChanged: last.get(a.name) ?? null }));
    const status = attribute === undefined || attribute === 'status' ? { ...explanation.status, lastChanged: last.get('status') ?? null } : undefined;
    return { ...explanation, attributes, ...(status ? { status } : {}) };
  }, open));
}

/** Per attribute (and `status`), the most recent run that changed it for this user. */
function lastChanges(runs: RunRecord[], changes: ChangeRecord[], userId: string): Map<string, LastChange> {
  const byRun = new Map(runs.map((r) => [r.id, r]));
  const out = new Map<string, LastChange>();
  const ordered = [...changes].filter((c) => c.kind === 'user' && c.userId === userId && c.outcome !== 'failed').sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.seq - a.seq));
  for (const c of ordered) {
    const run = byRun.get(c.runId);
    const entry = { at: c.at, command: run?.command ?? 'apply', who: run ? `${run.who}@${run.host}` : 'unknown', runId: c.runId, gitCommit: run?.gitCommit ?? null };
    const touched = c.action === 'create' ? ['status', ...Object.keys(c.attributes ?? {})] : Object.keys(c.attributes ?? {});
    if (['activate', 'deactivate', 'suspend', 'unsuspend'].includes(c.action)) touched.push('status');
    for (const name of touched) if (!out.has(name)) out.set(name, entry);
  }
  return out;
}
