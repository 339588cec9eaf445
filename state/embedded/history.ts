/**
 * Runs and the journal in the embedded store's database, with the semantics every backend shares: a run
 * is upserted by id (the later record wins, its first-recorded position kept); journal entries are
 * appended in order (the rowid is the append order), streamed one at a time from the caller's iterable;
 * `readHistory` returns the most recent runs first (by startedAt compared as plain strings, ties in the
 * order first recorded), default limit 20, optionally only those started at or after `since` and only
 * those that changed a login, and those runs' changes (of that login) ordered by run and seq. Every
 * query goes through an index (runs by start time, changes by run and by login), so a history of a
 * million changes answers in milliseconds. Journal entries of a state write are inserted in the write's
 * own transaction by the caller, so uncommitted ones never show.
 *
 * Logins compare without case: ASCII letters by the NOCASE index; a login with other characters by
 * JavaScript's toLowerCase (the function idplane_lower, which `registerFunctions` defines on idplane's
 * connections only, so other tools never need it), scanning the logins.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { ChangeRecord, History, HistoryQuery, RunRecord } from '../types.ts';
import { arrays, BulkInsert } from './rows.ts';
import { JOURNAL_INDEXES } from './schema.ts';

export function registerFunctions(db: DatabaseSync): void {
  db.function('idplane_lower', { deterministic: true }, (value) => (typeof value === 'string' ? value.toLowerCase() : value));
}

/** Printable ASCII: compared without case by the NOCASE indexes exactly as toLowerCase compares it. */
const ASCII = /^[\x20-\x7e]*$/;

/** An SQL condition that `column` is `login` without regard to case, and its parameter. */
export function loginCondition(column: string, login: string): { sql: string; value: string } {
  return ASCII.test(login) ? { sql: `${column} = ? COLLATE NOCASE`, value: login } : { sql: `idplane_lower(${column}) = ?`, value: login.toLowerCase() };
}

/** Appends journal entries, 64 to a statement (rows.ts BulkInsert): `add` each, then `flush`. */
export function changeInserter(db: DatabaseSync): BulkInsert<ChangeRecord> {
  return new BulkInsert<ChangeRecord>(db, 'INSERT INTO changes (run_id, seq, at, kind, action, user_id, login, app, key, attributes, outcome, message)', 12, (c, v) => {
    v.push(c.runId, c.seq, c.at, c.kind, c.action, c.userId, c.login, c.app, c.key, c.attributes === null ? null : JSON.stringify(c.attributes), c.outcome, c.message);
  });
}

/** Journal entries past which a write that more than doubles the journal builds its indexes after the rows. */
const BULK_JOURNAL = 10_000;

/**
 * Appends journal entries as the iterable gives them, in the caller's transaction; returns how many.
 * A first import journals an entry per user and link: once the entries outnumber BULK_JOURNAL and the
 * ones stored before, the indexes go and are built again after the last row (a sort, instead of an
 * index insertion per row in login order).
 */
export async function insertChanges(db: DatabaseSync, changes: Iterable<ChangeRecord>): Promise<number> {
  const insert = changeInserter(db);
  const stored = Number((db.prepare('SELECT coalesce(max(id), 0) AS n FROM changes').get() as { n: number }).n);
  let dropped = false;
  let n = 0;
  for (const c of changes) {
    const turn = insert.add(c);
    if (turn) await turn;
    if (++n === BULK_JOURNAL && n > stored) {
      for (const sql of JOURNAL_INDEXES.drop) db.exec(sql);
      dropped = true;
    }
  }
  insert.flush();
  if (dropped) for (const sql of JOURNAL_INDEXES.create) db.exec(sql);
  return n;
}

export function upsertRun(db: DatabaseSync, run: RunRecord): void {
  db.prepare(`INSERT INTO runs (id, command, who, host, started_at, finished_at, config_fingerprint, git_commit, serial_before, serial_after, summary, outcome, message)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET command = excluded.command, who = excluded.who, host = excluded.host, started_at = excluded.started_at,
      finished_at = excluded.finished_at, config_fingerprint = excluded.config_fingerprint, git_commit = excluded.git_commit,
      serial_before = excluded.serial_before, serial_after = excluded.serial_after, summary = excluded.summary, outcome = excluded.outcome, message = excluded.message`)
    .run(run.id, run.command, run.who, run.host, run.startedAt, run.finishedAt, run.configFingerprint, run.gitCommit,
      run.serialBefore, run.serialAfter, run.summary === null ? null : JSON.stringify(run.summary), run.outcome, run.message);
}

type RunRow = [string, string, string, string, string, string | null, string, string | null, number, number | null, string | null, RunRecord['outcome'], string | null];
type ChangeRow = [number, string, number, string, ChangeRecord['kind'], string, string, string, string | null, string | null, string | null, ChangeRecord['outcome'], string | null];

const RUN_COLUMNS = 'id, command, who, host, started_at, finished_at, config_fingerprint, git_commit, serial_before, serial_after, summary, outcome, message';
const CHANGE_COLUMNS = 'id, run_id, seq, at, kind, action, user_id, login, app, key, attributes, outcome, message';

export function readHistory(db: DatabaseSync, query: HistoryQuery = {}): History {
  const login = query.login === undefined ? null : loginCondition('login', query.login);
  // The changes asked for: by login (its index), app and action.
  const filters: string[] = [];
  const values: string[] = [];
  if (login) {
    filters.push(login.sql);
    values.push(login.value);
  }
  if (query.app !== undefined) {
    filters.push('app = ?');
    values.push(query.app);
  }
  if (query.action !== undefined) {
    filters.push('action = ?');
    values.push(query.action);
  }
  const conditions: string[] = [];
  const parameters: (string | number)[] = [];
  if (filters.length > 0) {
    conditions.push(`id IN (SELECT run_id FROM changes WHERE ${filters.join(' AND ')})`);
    parameters.push(...values);
  }
  if (query.since !== undefined) {
    conditions.push('started_at >= ?');
    parameters.push(query.since);
  }
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const runs = [...arrays<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM runs${where} ORDER BY started_at DESC, recorded LIMIT ?`, ...parameters, query.limit ?? 20)].map(toRun);
  if (query.changes === false) return { runs, changes: [] };
  // Each run's changes by the (run, seq) index; runs in the order their first change was written.
  const groups = runs.map((run) => {
    const rows = [...arrays<ChangeRow>(db, `SELECT ${CHANGE_COLUMNS} FROM changes WHERE run_id = ?${filters.map((f) => ` AND ${f}`).join('')} ORDER BY seq, id`, run.id, ...values)];
    return { rows, first: rows.reduce((min, r) => Math.min(min, r[0]), Infinity) };
  });
  groups.sort((a, b) => a.first - b.first);
  return { runs, changes: groups.flatMap((group) => group.rows.map(toChange)) };
}

function toRun([id, command, who, host, startedAt, finishedAt, configFingerprint, gitCommit, serialBefore, serialAfter, summary, outcome, message]: RunRow): RunRecord {
  return { id, command, who, host, startedAt, finishedAt, configFingerprint, gitCommit, serialBefore, serialAfter, summary: summary === null ? null : JSON.parse(summary) as RunRecord['summary'], outcome, message };
}

function toChange([, runId, seq, at, kind, action, userId, login, app, key, attributes, outcome, message]: ChangeRow): ChangeRecord {
  return { runId, seq, at, kind, action, userId, login, app, key, attributes: attributes === null ? null : JSON.parse(attributes) as ChangeRecord['attributes'], outcome, message };
}
