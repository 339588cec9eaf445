/**
 * `idplane history [LOGIN] [--limit N] [--since TIME] [--changes] [--app APP] [--action ACTION]`: the runs
 * recorded in the state (who, when, command, config fingerprint and git commit, serials, outcome), each
 * summed up by its counts; its changes one per line only when asked: with LOGIN (the runs and changes
 * that touched that user), --app or --action (those changes), or --changes (all of them). A first import
 * of 100k users is then one line, not 200,002. With --since, only runs started at or after TIME (an ISO
 * 8601 date or time, or a duration back from now such as 24h or 7d: `parseSince`). Both backends answer
 * from indexes, so a history of a million changes costs what is shown.
 */
import type { ChangeRecord, RunRecord } from '../../state/types.ts';
import { UsageError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { n } from '../views/style.ts';
import { withWorkspace } from '../../engine/workspace.ts';
import { describeNarrowing, narrowingOf } from '../../engine/narrow.ts';

export interface HistoryOptions {
  limit?: number;
  since?: string;
  /** List every change of the runs shown. */
  changes?: boolean;
  app?: string;
  action?: string;
}

export async function historyCommand(dir: string, login: string | undefined, options: HistoryOptions, out: Output): Promise<number> {
  const since = options.since === undefined ? undefined : parseSince(options.since, new Date());
  const narrowing = narrowingOf({ ...(options.app === undefined ? {} : { app: options.app }), ...(options.action === undefined ? {} : { action: options.action }) });
  const detail = login !== undefined || options.changes === true || narrowing !== null;
  return withWorkspace(dir, async (ws) => {
    const history = await ws.store.history({ ...(login ? { login } : {}), limit: options.limit ?? 20, ...(since ? { since } : {}), ...narrowing, changes: detail });
    if (out.format === 'json') {
      out.stdout(JSON.stringify(history) + '\n');
      return 0;
    }
    if (history.runs.length === 0) {
      const when = since ? ` since ${since}` : '';
      const which = [login && `to ${login}`, narrowing && describeNarrowing(narrowing).replace(/^/, 'of ')].filter(Boolean).join(', ');
      out.stdout(which ? `No recorded change ${which}${when}.\n` : `No runs recorded${since ? when : ' yet'}.\n`);
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
      if (detail) for (const c of byRun.get(run.id) ?? []) out.sink.write(`    ${changeLine(c, out)}\n`);
      else out.sink.write(`    ${out.style.dim(summaryLine(run.summary))}\n`);
      await out.sink.drain();
    }
    if (!detail) out.stdout(out.style.dim('(LOGIN, --app, --action or --changes lists the changes one per line)\n'));
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

/** A run's counts, as its summary has them: only those that are not zero, with thousands separators. */
export function summaryLine(summary: RunRecord['summary']): string {
  if (!summary) return 'no counts recorded';
  const of = (counts: object) => Object.entries(counts as Record<string, number>).filter(([, c]) => c > 0).map(([action, c]) => `${n(c)} ${action}`).join(', ');
  const parts = [
    of(summary.users) && `users: ${of(summary.users)}`,
    of(summary.accounts) && `accounts: ${of(summary.accounts)}`,
    of(summary.links) && `links: ${of(summary.links)}`,
    summary.imports > 0 && `${n(summary.imports)} imported record(s)`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'no changes';
}

function changeLine(c: ChangeRecord, out: Output): string {
  const what = c.kind === 'user' ? `user ${c.login}` : c.kind === 'link' ? `link ${c.app}/${c.key} ↔ ${c.login}` : `account ${c.app}/${c.key} for ${c.login}`;
  const attributes = Object.entries(c.attributes ?? {}).map(([k, v]) => `${k.replace(/^@/, '')}: ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`).join(', ');
  const outcome = c.kind === 'account' ? ` [${c.outcome}${c.message ? `: ${c.message}` : ''}]` : '';
  return `${c.action.padEnd(10)} ${what}${attributes ? `  ${out.style.dim(attributes)}` : ''}${outcome}`;
}
