/**
 * `idplane history [LOGIN]`: the runs recorded in the state (who, when, command, config fingerprint and
 * git commit, serials, outcome) with their changes; with LOGIN, only the runs and changes that touched
 * that user.
 */
import type { ChangeRecord, RunRecord } from '../../state/types.ts';
import type { Output } from '../output.ts';
import { withWorkspace } from '../../engine/workspace.ts';

export async function historyCommand(dir: string, login: string | undefined, options: { limit?: number }, out: Output): Promise<number> {
  return withWorkspace(dir, async (ws) => {
    const history = await ws.store.history({ ...(login ? { login } : {}), limit: options.limit ?? 20 });
    if (out.format === 'json') {
      out.stdout(JSON.stringify(history) + '\n');
      return 0;
    }
    if (history.runs.length === 0) {
      out.stdout(login ? `No recorded change to ${login}.\n` : 'No runs recorded yet.\n');
      return 0;
    }
    const byRun = new Map<string, ChangeRecord[]>();
    for (const c of history.changes) {
      let list = byRun.get(c.runId);
      if (!list) byRun.set(c.runId, (list = []));
      list.push(c);
    }
    for (const run of history.runs) {
      out.sink.write(`${runLine(run, out)}\n`);
      for (const c of byRun.get(run.id) ?? []) out.sink.write(`    ${changeLine(c, out)}\n`);
      await out.sink.drain();
    }
    return 0;
  });
}

function runLine(run: RunRecord, out: Output): string {
  const outcome = run.outcome === 'succeeded' ? out.style.green(run.outcome) : run.outcome === 'running' ? out.style.yellow('running (or killed)') : out.style.red(run.outcome);
  const before = run.serialBefore < 0 ? '?' : String(run.serialBefore); // -1: not known (state restore of an unreadable state)
  const serials = run.serialAfter === null ? `serial ${before}` : `serial ${before} → ${run.serialAfter}`;
  const git = run.gitCommit ? ` git ${run.gitCommit.slice(0, 12)}${run.gitCommit.endsWith('-dirty') ? '-dirty' : ''}` : '';
  return `${out.style.bold(run.startedAt)}  ${run.command}  ${run.who}@${run.host}  ${serials}  ${outcome}  config ${run.configFingerprint.slice(0, 19)}…${git}${run.message ? `  (${run.message})` : ''}`;
}

function changeLine(c: ChangeRecord, out: Output): string {
  const what = c.kind === 'user' ? `user ${c.login}` : c.kind === 'link' ? `link ${c.app}/${c.key} ↔ ${c.login}` : `account ${c.app}/${c.key} for ${c.login}`;
  const attributes = Object.entries(c.attributes ?? {}).map(([k, v]) => `${k.replace(/^@/, '')}: ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`).join(', ');
  const outcome = c.kind === 'account' ? ` [${c.outcome}${c.message ? `: ${c.message}` : ''}]` : '';
  return `${c.action.padEnd(10)} ${what}${attributes ? `  ${out.style.dim(attributes)}` : ''}${outcome}`;
}
