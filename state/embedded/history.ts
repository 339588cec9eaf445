/**
 * The embedded store's journal and history: history.ndjson beside the state, append-only, one record per
 * line, fsynced after each append. Entries written with a state write carry that write's commit token
 * and count only once the state holding the token was renamed into place (a 'commit' line follows, and
 * the current state header's token counts even if the process died before writing it), so after a crash
 * the history never shows changes the state does not have. Runs are recorded at start and at finish; the
 * later record of a run wins.
 *
 * A change is one compact line, a JSON array (a first import journals a million of them):
 *   ["c", commit|null, runId, seq, at, kind, action, userId, login, app, key, outcome, message, changes]
 * where `changes` is null or a list of [attribute, from, to]. Lines written by earlier versions, one
 * object per change ({"t":"change", ...}), are read as well. Reading makes two passes (runs and commits,
 * then changes), so only the changes asked for (of the most recent runs, or one login's) are ever held.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ValueChange } from '../../schemas/generated/plan.ts';
import type { ChangeRecord, History, HistoryQuery, RunRecord } from '../types.ts';
import { Utf8Chunks } from '../chunks.ts';

type Line =
  | ({ t: 'run' } & RunRecord)
  | { t: 'commit'; commit: string }
  | ChangeLine
  | LegacyChangeLine;

type ChangeLine = [
  'c', commit: string | null, runId: string, seq: number, at: string, kind: ChangeRecord['kind'], action: string, userId: string, login: string,
  app: string | null, key: string | null, outcome: ChangeRecord['outcome'], message: string | null, changes: [string, ValueChange['from'], ValueChange['to'], true?][] | null,
];

type LegacyChangeLine = { t: 'change'; commit?: string } & ChangeRecord;

/**
 * Appends the lines in chunks of about 1 MiB (a million journal entries are never one string), then
 * fsyncs. Returns how many lines beyond the first `preamble` were written; writes nothing when there
 * are none of those.
 */
export async function appendHistory(file: string, lines: Iterable<Line>, preamble = 0): Promise<number> {
  let handle: FileHandle | null = null;
  const chunks = new Utf8Chunks(1 << 20);
  let count = 0;
  try {
    for (const line of lines) {
      const full = chunks.write(JSON.stringify(line) + '\n');
      count += 1;
      if (full) {
        handle ??= await open(file, 'a');
        await handle.write(full);
        chunks.recycle(full);
      }
    }
    if (count <= preamble) return 0;
    handle ??= await open(file, 'a');
    if (chunks.pending > 0) await handle.write(chunks.take());
    await handle.sync();
    return count - preamble;
  } finally {
    await handle?.close();
  }
}

export function* changeLines(changes: Iterable<ChangeRecord>, commit?: string): Generator<Line> {
  for (const c of changes) {
    const attributes = c.attributes === null ? null : Object.entries(c.attributes).map(([name, v]): [string, ValueChange['from'], ValueChange['to'], true?] => (v.outOfBand ? [name, v.from, v.to, true] : [name, v.from, v.to]));
    yield ['c', commit ?? null, c.runId, c.seq, c.at, c.kind, c.action, c.userId, c.login, c.app, c.key, c.outcome, c.message, attributes];
  }
}

export const commitLine = (commit: string): Line => ({ t: 'commit', commit });

export const runLine = (run: RunRecord): Line => ({ t: 'run', ...run });

/** Reads the history, keeping changes of committed writes only. `headCommit`: the current state's token. */
export async function readHistory(file: string, headCommit: string | null, query: HistoryQuery = {}): Promise<History> {
  const login = query.login?.toLowerCase();
  const limit = query.limit ?? 20;
  // First pass: the runs and the commits.
  const runs = new Map<string, RunRecord>();
  const committed = new Set<string>(headCommit ? [headCommit] : []);
  await eachLine(file, (line) => {
    if (isChange(line)) return;
    if (line.t === 'run') runs.set(line.id, stripTag(line) as RunRecord);
    else if (line.t === 'commit') committed.add(line.commit);
  });
  const newestFirst = (list: RunRecord[]) => list.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, limit);
  // Second pass: the changes asked for, and only those: one login's, or those of the most recent runs.
  const recentIds = login === undefined ? new Set(newestFirst([...runs.values()]).map((r) => r.id)) : null;
  let changes: ChangeRecord[] = [];
  if (recentIds === null || recentIds.size > 0) {
    await eachLine(file, (line) => {
      if (!isChange(line) || !isCommitted(line, committed)) return;
      if (recentIds ? !recentIds.has(changeRun(line)) : changeLogin(line).toLowerCase() !== login) return;
      changes.push(toRecord(line));
    });
  }
  const touched = new Set(changes.map((c) => c.runId));
  const recent = recentIds ? newestFirst([...runs.values()]) : newestFirst([...runs.values()].filter((r) => touched.has(r.id)));
  const kept = new Set(recent.map((r) => r.id));
  changes = changes.filter((c) => kept.has(c.runId));
  // In the order written, each run's by seq (a stable sort keeps runs in file order).
  changes.sort((a, b) => (a.runId === b.runId ? a.seq - b.seq : 0));
  return { runs: recent, changes };
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

const changeRun = (line: ChangeLine | LegacyChangeLine) => (Array.isArray(line) ? line[2] : line.runId);
const changeLogin = (line: ChangeLine | LegacyChangeLine) => (Array.isArray(line) ? line[8] : line.login);

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

function stripTag<T extends { t: string }>(line: T): Omit<T, 't'> {
  const { t: _t, ...rest } = line;
  return rest;
}
