/**
 * `idplane explain LOGIN [ATTR]`: the provenance of a user's values (reconciler/explain.ts runs the
 * plan's stages for them), plus, from the history, the run that last changed each value (who, when,
 * which command and the config's git commit). Text or JSON. It changes nothing and needs no lock.
 */
import { explainUser, type AttributeExplanation, type Explanation } from '../../reconciler/explain.ts';
import type { ChangeRecord, RunRecord } from '../../state/types.ts';
import { closest } from '../../engine/config/problems.ts';
import { IdplaneError, UsageError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { readState, readWorkspaceSources, withWorkspace } from '../../engine/workspace.ts';

interface LastChange {
  at: string;
  command: string;
  who: string;
  runId: string;
  gitCommit: string | null;
}

export async function explainCommand(dir: string, login: string, attribute: string | undefined, out: Output): Promise<number> {
  return withWorkspace(dir, async (ws) => {
    const names = [...Object.keys(ws.project.attributes), 'status'];
    if (attribute !== undefined && !names.includes(attribute)) {
      const best = closest(attribute, names);
      throw new UsageError(`${attribute} is not a directory attribute${best ? `; did you mean ${best}?` : ''} (the attributes: ${names.join(', ')})`);
    }
    const state = await readState(ws, out.progress);
    const read = await readWorkspaceSources(ws, state, out.progress);
    if (out.format !== 'json') {
      for (const n of read.notPlanned) out.stderr(`${out.errStyle.yellow('Warning:')} ${n.app} could not be read (${n.reason}); its last imported values are shown\n`);
    }
    const explanation = explainUser(ws.project, state, read.snapshots, login);
    if (!explanation) {
      throw new IdplaneError('USER_NOT_FOUND', `no user ${login} in the directory, in users: or in what the sources would create; \`idplane state list\` lists the logins`);
    }
    const history = await ws.store.history({ login: explanation.login, limit: 200 });
    const last = lastChanges(history.runs, history.changes, explanation.id);
    const shown = attribute === undefined ? explanation.attributes : explanation.attributes.filter((a) => a.name === attribute);
    if (out.format === 'json') {
      const attributes = shown.map((a) => ({ ...a, lastChanged: last.get(a.name) ?? null }));
      const status = attribute === undefined || attribute === 'status' ? { ...explanation.status, lastChanged: last.get('status') ?? null } : undefined;
      out.stdout(JSON.stringify({ ...explanation, attributes, ...(status ? { status } : {}) }) + '\n');
    } else {
      out.stdout(renderText(explanation, shown, attribute, last));
    }
    return 0;
  });
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

const show = (v: unknown) => (v === null || v === undefined ? '(unset)' : JSON.stringify(v));

function lastLine(last: LastChange | undefined): string {
  if (!last) return 'never changed by a recorded run';
  return `last changed ${last.at} by ${last.command} (${last.who}${last.gitCommit ? `, config git ${last.gitCommit.slice(0, 12)}` : ''})`;
}

function renderText(e: Explanation, shown: AttributeExplanation[], attribute: string | undefined, last: Map<string, LastChange>): string {
  const lines: string[] = [`${e.login} (id ${e.id})`, ''];
  if (attribute === undefined) {
    lines.push(`Profile source: ${e.source.app}: ${e.source.why}.`);
    for (const a of e.accounts) lines.push(`  account ${a.app}/${a.key}: ${a.how}`);
    lines.push('');
  }
  if (attribute === undefined || attribute === 'status') {
    const next = e.status.now === e.status.next ? e.status.next : `${e.status.now ?? '(new)'} → ${e.status.next} at the next apply`;
    lines.push(`status: ${next}${e.status.rule ? `; ${e.status.rule}` : ''}${e.status.blocked ? `; ${e.status.blocked}` : ''}`, `  ${lastLine(last.get('status'))}`, '');
  }
  for (const a of shown) {
    const value = a.stored !== undefined ? `${show(a.stored)} → ${show(a.value)} at the next apply` : show(a.value);
    lines.push(`${a.name}: ${value}`);
    switch (a.from) {
      case 'mapping': {
        const inputs = Object.entries(a.inputs).map(([k, v]) => `app.${k} = ${show(v)}`).join(', ');
        lines.push(`  from ${a.app} account ${a.key}${a.attributeSourced ? ` (directory.attributes.${a.name}.source: ${a.app})` : ''}, mapping ${a.expression}${inputs ? `, reading ${inputs}` : ''}`);
        break;
      }
      case 'unmapped': lines.push(`  ${a.app} decides it but ${a.key === null ? `has no account linked to this user` : 'does not map it'}: the stored value stays`); break;
      case 'declared': lines.push('  from users: in the config'); break;
      case 'set': lines.push('  from set: in the config (source: directory)'); break;
      case 'directory': lines.push('  kept in the directory (source: directory, or a user no source feeds)'); break;
    }
    lines.push(`  ${lastLine(last.get(a.name))}`);
  }
  if (e.conflicts.length > 0) lines.push('', 'Conflicts that stop this user\'s change:', ...e.conflicts.map((c) => `  - ${c}`));
  return lines.join('\n') + '\n';
}
