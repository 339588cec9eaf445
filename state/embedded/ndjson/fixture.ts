/**
 * For tests only: files in the embedded store's former format, as idplane before SQLite wrote them, to
 * check that the decoder and the migration read them (idplane itself no longer writes this format).
 * `legacyStateText` is a state.ndjson (format 2: header, U/L/C/I lines, end marker with the record count
 * and the SHA-256 of every byte before it); `legacyHistoryText` is a history.ndjson of runs, compact
 * change lines tagged with a write's commit token, and commit lines.
 */
import { createHash } from 'node:crypto';
import type { ValueChange } from '../../../schemas/generated/plan.ts';
import type { DirectoryState } from '../../../reconciler/model.ts';
import type { ChangeRecord, RunRecord } from '../../types.ts';
import type { Header } from './decode.ts';
import type { ChangeLine, Line } from './history.ts';

/** The state file of `state`; `commit`: the token of the write that made it. */
export function legacyStateText(state: DirectoryState, commit?: string): string {
  const header: Header = {
    t: 'header', format_version: 2, lineage: state.lineage, serial: state.serial, watermarks: state.watermarks, pipeline: state.pipeline,
    ...(state.edited ? { edited: true } : {}), ...(commit ? { commit } : {}),
  };
  const lines = [JSON.stringify(header)];
  let records = 0;
  for (const u of state.users) lines.push(`U\t${JSON.stringify(u)}`);
  for (const l of state.links) lines.push(`L\t${JSON.stringify(l.app)}\t${JSON.stringify(l.key)}\t${JSON.stringify(l.userId)}`);
  records += state.users.length + state.links.length;
  for (const [app, { columns, records: byKey }] of state.imported) {
    lines.push(`C\t${JSON.stringify(app)}\t${JSON.stringify(columns)}`);
    for (const [key, r] of byKey) lines.push(`I\t${JSON.stringify(app)}\t${JSON.stringify(key)}\t${r.disabled ? 1 : 0}\t${r.values}`);
    records += byKey.size;
  }
  const body = lines.join('\n') + '\n';
  return `${body}${JSON.stringify({ t: 'end', records, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` })}\n`;
}

/** One line of a history file. */
export type LegacyEntry = { run: RunRecord } | { change: ChangeRecord; commit?: string } | { commit: string };

export function legacyHistoryText(entries: LegacyEntry[]): string {
  return entries.map((entry) => JSON.stringify(lineOf(entry)) + '\n').join('');
}

function lineOf(entry: LegacyEntry): Line {
  if ('run' in entry) return { t: 'run', ...entry.run };
  if ('change' in entry) {
    const c = entry.change;
    const attributes = c.attributes === null ? null : Object.entries(c.attributes).map(([name, v]): [string, ValueChange['from'], ValueChange['to'], true?] => (v.outOfBand ? [name, v.from, v.to, true] : [name, v.from, v.to]));
    const line: ChangeLine = ['c', entry.commit ?? null, c.runId, c.seq, c.at, c.kind, c.action, c.userId, c.login, c.app, c.key, c.outcome, c.message, attributes];
    return line;
  }
  return { t: 'commit', commit: entry.commit };
}
