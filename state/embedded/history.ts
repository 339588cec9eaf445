/**
 * The embedded store's journal and history: history.ndjson beside the state, append-only, one record per
 * line, fsynced after each append. Entries written with a state write carry that write's commit token
 * and count only once the state holding the token was renamed into place (a 'commit' line follows, and
 * the current state header's token counts even if the process died before writing it), so after a crash
 * the history never shows changes the state does not have. Runs are recorded at start and at finish; the
 * later record of a run wins.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ChangeRecord, History, HistoryQuery, RunRecord } from '../types.ts';

type Line =
  | ({ t: 'run' } & RunRecord)
  | ({ t: 'change'; commit?: string } & ChangeRecord)
  | { t: 'commit'; commit: string };

/**
 * Appends the lines in chunks of about 1 MiB (a million journal entries are never one string), then
 * fsyncs. Returns how many lines beyond the first `preamble` were written; writes nothing when there
 * are none of those.
 */
export async function appendHistory(file: string, lines: Iterable<Line>, preamble = 0): Promise<number> {
  let handle: FileHandle | null = null;
  let buffer = '';
  let count = 0;
  try {
    for (const line of lines) {
      buffer += JSON.stringify(line) + '\n';
      count += 1;
      if (buffer.length >= 1 << 20 && count > preamble) {
        handle ??= await open(file, 'a');
        await handle.write(buffer);
        buffer = '';
      }
    }
    if (count <= preamble) return 0;
    handle ??= await open(file, 'a');
    if (buffer) await handle.write(buffer);
    await handle.sync();
    return count - preamble;
  } finally {
    await handle?.close();
  }
}

export function* changeLines(changes: Iterable<ChangeRecord>, commit?: string): Generator<Line> {
  for (const c of changes) yield { t: 'change', ...(commit ? { commit } : {}), ...c };
}

export const commitLine = (commit: string): Line => ({ t: 'commit', commit });

export const runLine = (run: RunRecord): Line => ({ t: 'run', ...run });

/** Reads the history, keeping changes of committed writes only. `headCommit`: the current state's token. */
export async function readHistory(file: string, headCommit: string | null, query: HistoryQuery = {}): Promise<History> {
  const runs = new Map<string, RunRecord>();
  const changes: (ChangeRecord & { commit?: string })[] = [];
  const committed = new Set<string>(headCommit ? [headCommit] : []);
  let lines;
  try {
    lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const text of lines) {
      if (text.trim() === '') continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue; // a line cut short by a crash mid-append: it was never acknowledged
      }
      if (line.t === 'run') runs.set(line.id, stripTag(line) as RunRecord);
      else if (line.t === 'commit') committed.add(line.commit);
      else changes.push(stripTag(line) as ChangeRecord & { commit?: string });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const login = query.login?.toLowerCase();
  const kept = changes
    .filter((c) => c.commit === undefined || committed.has(c.commit))
    .filter((c) => login === undefined || c.login.toLowerCase() === login)
    .map(({ commit: _commit, ...c }) => c);
  const limit = query.limit ?? 20;
  const wanted = login === undefined ? [...runs.values()] : [...runs.values()].filter((r) => kept.some((c) => c.runId === r.id));
  const recent = wanted.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, limit);
  const ids = new Set(recent.map((r) => r.id));
  return { runs: recent, changes: kept.filter((c) => ids.has(c.runId)).sort((a, b) => (a.runId === b.runId ? a.seq - b.seq : 0)) };
}

function stripTag<T extends { t: string }>(line: T): Omit<T, 't'> {
  const { t: _t, ...rest } = line;
  return rest;
}
