/**
 * Runs and the journal in PostgreSQL, with the embedded store's semantics: a run is upserted by id (the
 * later record wins, its first-recorded position kept); journal entries are appended in order (the
 * bigserial id is the append order) in batches; `readHistory` returns the most recent runs first (by
 * startedAt compared as plain strings, ties in the order first recorded), default limit 20, optionally only
 * the runs started at or after `since` and only those that changed a login (case-insensitive, by the
 * lower(login) index), and those runs' changes ordered by run and seq. Journal
 * entries of a state write are inserted in the write's own transaction, so uncommitted ones never show.
 * Entries are streamed from the caller's iterable straight into COPY, one at a time, never gathered into
 * an array (a first import journals one entry per user).
 */
import type { ClientBase } from 'pg';
import type { ChangeRecord, History, HistoryQuery, RunRecord } from '../types.ts';
import { copyRows, encode } from './copy.ts';

/** Appends journal entries in one COPY stream (none when there are none); the id sequence keeps their order. */
export async function insertChanges(db: ClientBase, s: string, changes: Iterable<ChangeRecord>): Promise<void> {
  const entries = nonEmpty(changes);
  if (!entries) return;
  await copyRows(db, `${s}.changes`, ['run_id', 'seq', 'at', 'kind', 'action', 'user_id', 'login', 'app', 'key', 'attributes', 'outcome', 'message'],
    (function* () {
      for (const c of entries) {
        yield `${encode.text(c.runId)}\t${encode.int(c.seq)}\t${encode.text(c.at)}\t${encode.text(c.kind)}\t${encode.text(c.action)}\t${encode.text(c.userId)}\t${encode.text(c.login)}\t`
          + `${encode.text(c.app)}\t${encode.text(c.key)}\t${encode.json(c.attributes)}\t${encode.text(c.outcome)}\t${encode.text(c.message)}`;
      }
    })());
}

/** `items` as an iterable to consume once, or null when it has nothing (its first item is taken to tell). */
export function nonEmpty<T>(items: Iterable<T>): Iterable<T> | null {
  const iterator = items[Symbol.iterator]();
  const first = iterator.next();
  if (first.done) return null;
  return (function* () {
    yield first.value;
    yield* { [Symbol.iterator]: () => iterator };
  })();
}

export async function upsertRun(db: ClientBase, s: string, run: RunRecord): Promise<void> {
  await db.query(
    `INSERT INTO ${s}.runs (id, command, who, host, started_at, finished_at, config_fingerprint, git_commit, serial_before, serial_after, summary, outcome, message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)
     ON CONFLICT (id) DO UPDATE SET command = EXCLUDED.command, who = EXCLUDED.who, host = EXCLUDED.host,
       started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, config_fingerprint = EXCLUDED.config_fingerprint,
       git_commit = EXCLUDED.git_commit, serial_before = EXCLUDED.serial_before, serial_after = EXCLUDED.serial_after,
       summary = EXCLUDED.summary, outcome = EXCLUDED.outcome, message = EXCLUDED.message`,
    [run.id, run.command, run.who, run.host, run.startedAt, run.finishedAt, run.configFingerprint, run.gitCommit,
      run.serialBefore, run.serialAfter, run.summary === null ? null : JSON.stringify(run.summary), run.outcome, run.message],
  );
}

interface RunRow {
  id: string; command: string; who: string; host: string; started_at: string; finished_at: string | null;
  config_fingerprint: string; git_commit: string | null; serial_before: string; serial_after: string | null;
  summary: RunRecord['summary']; outcome: RunRecord['outcome']; message: string | null;
}

interface ChangeRow {
  run_id: string; seq: number; at: string; kind: ChangeRecord['kind']; action: string; user_id: string; login: string;
  app: string | null; key: string | null; attributes: ChangeRecord['attributes']; outcome: ChangeRecord['outcome']; message: string | null;
}

export async function readHistory(db: ClientBase, s: string, query: HistoryQuery = {}): Promise<History> {
  const login = query.login ?? null;
  const limit = query.limit ?? 20;
  const app = query.app ?? null;
  const action = query.action ?? null;
  const filtered = login !== null || app !== null || action !== null;
  const runs = await db.query<RunRow>(
    `SELECT * FROM ${s}.runs r
     WHERE (NOT $4::boolean OR r.id IN (SELECT c.run_id FROM ${s}.changes c WHERE ($1::text IS NULL OR lower(c.login) = lower($1::text))
                                          AND ($5::text IS NULL OR c.app = $5::text) AND ($6::text IS NULL OR c.action = $6::text)))
       AND ($3::text IS NULL OR r.started_at COLLATE "C" >= $3::text)
     ORDER BY r.started_at COLLATE "C" DESC, r.recorded LIMIT $2`,
    [login, limit, query.since ?? null, filtered, app, action],
  );
  const ids = query.changes === false ? [] : runs.rows.map((r) => r.id);
  const changes = ids.length === 0 ? { rows: [] as ChangeRow[] } : await db.query<ChangeRow>(
    `SELECT run_id, seq, at, kind, action, user_id, login, app, key, attributes, outcome, message FROM ${s}.changes
     WHERE run_id = ANY($1::text[]) AND ($2::text IS NULL OR lower(login) = lower($2::text))
       AND ($3::text IS NULL OR app = $3::text) AND ($4::text IS NULL OR action = $4::text)
     ORDER BY min(id) OVER (PARTITION BY run_id), seq, id`,
    [ids, login, app, action],
  );
  return {
    runs: runs.rows.map((r) => ({
      id: r.id, command: r.command, who: r.who, host: r.host, startedAt: r.started_at, finishedAt: r.finished_at,
      configFingerprint: r.config_fingerprint, gitCommit: r.git_commit, serialBefore: Number(r.serial_before),
      serialAfter: r.serial_after === null ? null : Number(r.serial_after), summary: r.summary, outcome: r.outcome, message: r.message,
    })),
    changes: changes.rows.map((c) => ({
      runId: c.run_id, seq: c.seq, at: c.at, kind: c.kind, action: c.action, userId: c.user_id, login: c.login,
      app: c.app, key: c.key, attributes: c.attributes, outcome: c.outcome, message: c.message,
    })),
  };
}
