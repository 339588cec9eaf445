/**
 * The PostgreSQL backend's lock: a session-level advisory lock (pg_try_advisory_lock, keyed on the
 * schema) held on a dedicated connection for the lock's lifetime, plus a lock_holder row naming the holder
 * and the backend pid of that connection. The advisory lock is the truth; the row is information. A row
 * whose backend no longer holds the advisory lock (its session died: PostgreSQL freed the lock) is stale
 * and is simply overwritten by the next lock(). `tryLock` fails fast with LockHeldError naming the holder;
 * `release` deletes the row (only if still ours), unlocks and closes the connection, and never throws;
 * `forceUnlock(id)` terminates the session holding the advisory lock when the row with that id belongs to
 * it, and deletes the row. A lost lock connection is reported through `notice`, and `stillHeld` tells
 * the store whether a lock it holds is still held (it refuses to write once it is not: LockLostError).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LockHeldError, StateFormatError, type LockHandle, type LockInfo } from '../types.ts';
import { asStateError, lockKey, lockKeyHalves } from './connection.ts';

export interface LockContext {
  clientConfig: pg.ClientConfig;
  schema: string;
  /** Quoted schema name. */
  s: string;
  location: string;
  notice?: (message: string) => void;
  /** Runs a query on the store's pool (used when the lock's own connection is gone). */
  query(sql: string, values: unknown[]): Promise<pg.QueryResult>;
}

/** The holder as the lock table stores it: the lock info, and the session that holds the advisory lock. */
type HolderRow = LockInfo & { backend_pid: number };

interface Activity {
  usename: string | null;
  host: string;
  backend_start: Date | null;
}

/** A holder that left no lock_holder row: some other session holds the advisory lock. */
function unknownHolder(pid: number | null, activity: Activity | undefined): LockInfo {
  return {
    id: 'unknown', operation: 'a session without an idplane lock record', who: activity?.usename ?? 'unknown',
    host: activity?.host ?? 'unknown', pid: pid ?? 0, created: activity?.backend_start?.toISOString() ?? 'unknown',
  };
}

/** The lock this store held is gone (its session ended): writing on would race whoever locks next. */
export class LockLostError extends Error {
  readonly code = 'LOCK_LOST';
}

/** A lock taken: the handle, and what the store needs to check that it is still held. */
export interface HeldLock {
  handle: LockHandle;
  backendPid: number;
  /** True once the lock's connection reported an error or ended. */
  lost(): boolean;
}

const toInfo = (row: HolderRow): LockInfo => ({ id: row.id, operation: row.operation, who: row.who, host: row.host, pid: row.pid, created: row.created });

export class AdvisoryLock {
  private readonly key: string;

  private readonly ctx: LockContext;

  constructor(ctx: LockContext) {
    this.ctx = ctx;
    this.key = lockKey('state', ctx.schema);
  }

  /** Backends holding the advisory lock now (at most one). */
  private async holders(run: (sql: string, values: unknown[]) => Promise<pg.QueryResult>): Promise<number[]> {
    const { classid, objid } = lockKeyHalves(this.key);
    const result = await run(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND classid = $1::bigint::oid AND objid = $2::bigint::oid`,
      [classid, objid],
    );
    return result.rows.map((r: { pid: number }) => r.pid);
  }

  private async holderRow(run: (sql: string, values: unknown[]) => Promise<pg.QueryResult>): Promise<HolderRow | null> {
    const result = await run(`SELECT id, operation, who, host, pid, created, backend_pid FROM ${this.ctx.s}.lock_holder`, []);
    return (result.rows[0] as HolderRow | undefined) ?? null;
  }

  async tryLock(request: Omit<LockInfo, 'id' | 'created'>): Promise<HeldLock> {
    const client = new pg.Client(this.ctx.clientConfig);
    let lost = false;
    let released = false;
    // Without a listener, a connection error (server restart, pg_terminate_backend) would crash the process.
    const onLost = () => {
      if (!lost && !released) this.ctx.notice?.(`lost the connection holding the lock on ${this.ctx.location}; the lock is no longer held`);
      lost = true;
    };
    client.on('error', onLost);
    client.on('end', onLost);
    const run = (sql: string, values: unknown[]) => client.query(sql, values);
    try {
      await client.connect();
      let me = 0;
      for (let attempt = 0; ; attempt++) {
        const got = await client.query<{ got: boolean; me: number }>('SELECT pg_try_advisory_lock($1::bigint) AS got, pg_backend_pid() AS me', [this.key]);
        me = got.rows[0]!.me;
        if (got.rows[0]!.got) break;
        const holder = await this.describeHolder(run);
        // No holder any more: released between our attempt and our look; try once more.
        if (holder || attempt > 0) throw new LockHeldError(holder ?? unknownHolder(null, undefined), this.ctx.location);
      }
      const info: LockInfo = { ...request, id: randomUUID(), created: new Date().toISOString() };
      const stale = await this.holderRow(run);
      if (stale) this.ctx.notice?.(`taking over the lock ${stale.id} left by ${stale.operation} (${stale.who}@${stale.host}, pid ${stale.pid}); its PostgreSQL session is gone`);
      await client.query(
        `INSERT INTO ${this.ctx.s}.lock_holder (singleton, id, operation, who, host, pid, created, backend_pid) VALUES (true, $1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (singleton) DO UPDATE SET id = EXCLUDED.id, operation = EXCLUDED.operation, who = EXCLUDED.who, host = EXCLUDED.host,
           pid = EXCLUDED.pid, created = EXCLUDED.created, backend_pid = EXCLUDED.backend_pid`,
        [info.id, info.operation, info.who, info.host, info.pid, info.created, me],
      );
      const release = async (): Promise<void> => {
        if (released) return;
        released = true;
        try {
          if (!lost) {
            await client.query(`DELETE FROM ${this.ctx.s}.lock_holder WHERE id = $1`, [info.id]);
            await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]);
          }
        } catch {
          lost = true;
        }
        // The session is gone, and its advisory lock with it; clear our row unless someone else's replaced it.
        if (lost) await this.ctx.query(`DELETE FROM ${this.ctx.s}.lock_holder WHERE id = $1`, [info.id]).catch(() => {});
        await client.end().catch(() => {});
      };
      return { handle: { info, release }, backendPid: me, lost: () => lost };
    } catch (error) {
      released = true;
      await client.end().catch(() => {});
      throw asStateError(error, this.ctx.location);
    }
  }

  /**
   * The holder of a lock we could not take, or null when nobody holds it any more. Its row may not be
   * written yet (it took the advisory lock a moment ago) or may be a dead session's: wait briefly for the
   * live holder's row, then describe the holding session from pg_stat_activity.
   */
  private async describeHolder(run: (sql: string, values: unknown[]) => Promise<pg.QueryResult>): Promise<LockInfo | null> {
    for (let attempt = 0; ; attempt++) {
      const [pid] = await this.holders(run);
      if (pid === undefined) return null;
      const row = await this.holderRow(run);
      if (row && row.backend_pid === pid) return toInfo(row);
      if (attempt === 5) {
        const activity = await run(`SELECT usename, coalesce(client_addr::text, client_hostname, 'local') AS host, backend_start FROM pg_stat_activity WHERE pid = $1`, [pid]);
        return unknownHolder(pid, activity.rows[0] as Activity | undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Whether `held` is still held: its connection is up and its session still holds the advisory lock. */
  async stillHeld(held: HeldLock, run: (sql: string, values: unknown[]) => Promise<pg.QueryResult>): Promise<boolean> {
    return !held.lost() && (await this.holders(run)).includes(held.backendPid);
  }

  async forceUnlock(id: string): Promise<void> {
    const run = this.ctx.query;
    const row = await this.holderRow(run);
    if (!row) throw new StateFormatError(`no lock is held at ${this.ctx.location}`);
    if (row.id !== id) throw new StateFormatError(`the lock at ${this.ctx.location} has id ${row.id}, not ${id}`);
    const holders = await this.holders(run);
    if (holders.includes(row.backend_pid)) {
      await run('SELECT pg_terminate_backend($1)', [row.backend_pid]);
      // Termination is asynchronous: wait (up to 10 s) until the session is gone and its lock with it.
      for (let waited = 0; (await this.holders(run)).includes(row.backend_pid); waited += 50) {
        if (waited >= 10_000) throw new StateFormatError(`the PostgreSQL session ${row.backend_pid} holding the lock at ${this.ctx.location} did not end`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await run(`DELETE FROM ${this.ctx.s}.lock_holder WHERE id = $1`, [id]);
  }
}
