/**
 * `idplane history [LOGIN] [--limit N] [--since TIME]`: the runs recorded in the state (who, when,
 * command, config fingerprint and git commit, serials, outcome) with their changes; with LOGIN, only the
 * runs and changes that touched that user; with --since, only runs started at or after TIME (an ISO 8601
 * date or time, or a duration back from now such as 24h or 7d: `parseSince`). Both backends answer from
 * indexes, so a history of a million changes costs what is shown.
 */
import type { ChangeRecord, RunRecord } from '../../state/types.ts';
import { UsageError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { withWorkspace } from '../../engine/workspace.ts';

export async function historyCommand(dir: string, login: string | undefined, options: { limit?: number; since?: string }, out: Output): Promise<number> {
  const since = options.since === undefined ? undefined : parseSince(options.since, new Date());
  return withWorkspace(dir, async (ws) => {
    const history = await ws.store.history({ ...(login ? { login } : {}), limit: options.limit ?? 20, ...(since ? { since } : {}) });
    if (out.format === 'json') {
      out.stdout(JSON.stringify(history) + '\n');
      return 0;
    }
    if (history.runs.length === 0) {
      const when = since ? ` since ${since}` : '';
      out.stdout(login ? `No recorded change to ${login}${when}.\n` : `No runs recorded${since ? when : ' yet'}.\n`);
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

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * The instant `--since` names, as an ISO string in UTC: an ISO 8601 date (midnight UTC) or date and
 * time (local time unless it gives a zone), or a duration back from `now`: a number and s, m, h, d or w.
 */
export function parseSince(text: string, now: Date): string {
  const value = text.trim();
  const ago = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(value);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * UNITS[ago[2]!.toLowerCase()]!).toISOString();
  const at = ISO.test(value) ? new Date(value.replace(' ', 'T')) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw new UsageError(`--since ${JSON.stringify(text)} is neither a date or time (2026-11-24, 2026-11-24T09:00Z) nor a duration back from now (30m, 24h, 7d, 2w)`);
  }
  return at.toISOString();
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
