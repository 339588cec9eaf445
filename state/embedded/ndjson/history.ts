/**
 * The reader of the embedded store's former journal, .idplane/history.ndjson (idplane before SQLite),
 * kept only to migrate it into SQLite (migrate.ts); nothing writes it any more. Append-only, one record
 * per line. Entries written with a state write carry that write's commit token and count only once the
 * state holding the token was renamed into place (a 'commit' line follows, and the token in the state
 * file's header counts even if the process died before writing that line), so a migration never carries
 * over changes the state does not have. Runs were recorded at start and at finish; the later record of a
 * run wins, in the position of its first record. A line cut short by a crash mid-append was never
 * acknowledged and is skipped.
 *
 * A change is one compact line, a JSON array:
 *   ["c", commit|null, runId, seq, at, kind, action, userId, login, app, key, outcome, message, changes]
 * where `changes` is null or a list of [attribute, from, to, outOfBand?]. Lines of still earlier
 * versions, one object per change ({"t":"change", ...}), are read as well. Reading makes two passes
 * (runs and commits, then changes), so a million changes are handed on one at a time, never held.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ValueChange } from '../../../schemas/generated/plan.ts';
import type { ChangeRecord, RunRecord } from '../../types.ts';

export type Line =
  | ({ t: 'run' } & RunRecord)
  | { t: 'commit'; commit: string }
  | ChangeLine
  | LegacyChangeLine;

export type ChangeLine = [
  'c', commit: string | null, runId: string, seq: number, at: string, kind: ChangeRecord['kind'], action: string, userId: string, login: string,
  app: string | null, key: string | null, outcome: ChangeRecord['outcome'], message: string | null, changes: [string, ValueChange['from'], ValueChange['to'], true?][] | null,
];

type LegacyChangeLine = { t: 'change'; commit?: string } & ChangeRecord;

/** The runs (in the order first recorded, each as last recorded) and the commit tokens of the writes that were committed. */
export async function readLegacyRuns(file: string, headCommit: string | null): Promise<{ runs: RunRecord[]; committed: Set<string> }> {
  const runs = new Map<string, RunRecord>();
  const committed = new Set<string>(headCommit ? [headCommit] : []);
  await eachLine(file, (line) => {
    if (isChange(line)) return;
    if (line.t === 'run') {
      const { t: _t, ...run } = line;
      runs.set(line.id, run);
    } else if (line.t === 'commit') committed.add(line.commit);
  });
  return { runs: [...runs.values()], committed };
}

/** Hands every change of a committed write (or written outside one) to `take`, in the order written; returns how many. */
export async function eachLegacyChange(file: string, committed: ReadonlySet<string>, take: (change: ChangeRecord) => void): Promise<number> {
  let count = 0;
  await eachLine(file, (line) => {
    if (!isChange(line) || !isCommitted(line, committed)) return;
    take(toRecord(line));
    count += 1;
  });
  return count;
}

async function eachLine(file: string, take: (line: Line) => void): Promise<void> {
  try {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const text of lines) {
      if (text.trim() === '') continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue; // a line cut short by a crash mid-append: it was never acknowledged
      }
      if (line !== null && typeof line === 'object') take(line);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function isChange(line: Line): line is ChangeLine | LegacyChangeLine {
  return Array.isArray(line) ? line[0] === 'c' : line.t === 'change';
}

function isCommitted(line: ChangeLine | LegacyChangeLine, committed: ReadonlySet<string>): boolean {
  const commit = Array.isArray(line) ? line[1] : (line.commit ?? null);
  return commit === null || committed.has(commit);
}

function toRecord(line: ChangeLine | LegacyChangeLine): ChangeRecord {
  if (!Array.isArray(line)) {
    const { t: _t, commit: _commit, ...record } = line;
    return record;
  }
  const [, , runId, seq, at, kind, action, userId, login, app, key, outcome, message, changes] = line;
  const attributes = changes === null ? null : Object.fromEntries(changes.map(([name, from, to, outOfBand]) => [name, outOfBand ? { from, to, outOfBand } : { from, to }]));
  return { runId, seq, at, kind, action, userId, login, app, key, attributes, outcome, message };
}
