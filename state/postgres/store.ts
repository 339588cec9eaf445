/**
 * The PostgreSQL state backend, for teams and CI: `new PostgresStore({ url, schema })`. The schema is
 * created and migrated on first use (migrations.ts). read() streams the tables through cursors inside one
 * REPEATABLE READ transaction, so it sees one consistent snapshot with memory in proportion to the data;
 * write() is one transaction: check lineage/serial under FOR UPDATE (else StaleStateError), write the
 * state in batches, append the journal, update meta. After a read() or write() the store remembers what
 * the database holds and the next write sends only the rows whose objects changed (snapshot.ts).
 * Locking is a session advisory lock on a dedicated connection (lock.ts); while the store holds a lock,
 * write() and journal() first check it is still held and otherwise fail with LockLostError (recordRun
 * still works, so the run can be recorded as failed). `location` masks the password;
 * a server that cannot be reached surfaces as StateUnreachableError naming that location.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DirectoryState } from '../../reconciler/model.ts';
import { crashPoint, pausePoint } from '../crash-point.ts';
import { waitForLock } from '../lock-wait.ts';
import { StaleStateError, StateFormatError, type ChangeRecord, type History, type HistoryQuery, type LockHandle, type LockInfo, type RunRecord, type StateStore } from '../types.ts';
import { asReachError, maskUrl } from './connection.ts';
import { insertChanges, readHistory, upsertRun } from './history.ts';
import { AdvisoryLock, LockLostError, type HeldLock } from './lock.ts';
import { ensureSchema } from './migrations.ts';
import { addImported, BATCH, deletePairs, deleteUsers, insertImported, insertLinks, insertUsers, linkFromRow, userFromRow, type Placed } from './rows.ts';
import { planWrite, snapshotOf, type Snapshot, type TablePlan } from './snapshot.ts';

export interface PostgresStoreOptions {
  /** A postgres:// connection URL; the password it may hold never appears in messages. */
  url: string;
  /** The schema holding this state (one state per schema). */
  schema: string;
  /** Told when an abandoned lock is taken over, or a held lock's connection is lost. */
  notice?: (message: string) => void;
}

const CONNECT_TIMEOUT_MS = 15_000;

export class PostgresStore implements StateStore {
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly s: string;
  private readonly locker: AdvisoryLock;
  private ready: Promise<void> | null = null;
  /** What the database held after our last read or write; null when unknown. */
  private snapshot: Snapshot | null = null;
  /** Locks taken through this store and not yet released, by the handle given out. */
  private readonly held = new Map<LockHandle, HeldLock>();
  private closed = false;

  constructor(private readonly options: PostgresStoreOptions) {
    if (!options.schema || Buffer.byteLength(options.schema) > 63) throw new StateFormatError(`a PostgreSQL state needs a schema name of 1 to 63 bytes, not "${options.schema}"`);
    this.location = `${maskUrl(options.url)}, schema ${options.schema}`;
    this.s = pg.escapeIdentifier(options.schema);
    const clientConfig: pg.ClientConfig = { connectionString: options.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'idplane', keepAlive: true };
    this.pool = new pg.Pool({ ...clientConfig, max: 4 });
    // An idle pooled connection that fails (server restart) is dropped by the pool; without a listener it would crash us.
    this.pool.on('error', () => {});
    this.locker = new AdvisoryLock({
      clientConfig, schema: options.schema, s: this.s, location: this.location,
      ...(options.notice ? { notice: options.notice } : {}),
      query: (sql, values) => this.withClient((c) => c.query(sql, values)),
    });
  }

  async read(): Promise<DirectoryState> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (c) => {
      // Before the snapshot is taken: a concurrent write's TRUNCATE must be either wholly seen or not at all.
      await c.query(`LOCK TABLE ${this.s}.meta, ${this.s}.users, ${this.s}.links, ${this.s}.imported IN ACCESS SHARE MODE`);
      const meta = await this.meta(c, '');
      const state: DirectoryState = { lineage: meta.lineage, serial: meta.serial, users: [], links: [], imported: {}, watermarks: meta.watermarks };
      const userOrds: number[] = [];
      const linkOrds: number[] = [];
      await fetchAll(c, `SELECT id, ord, login, status, profile, profile_source, roles FROM ${this.s}.users ORDER BY ord`, (row) => {
        state.users.push(userFromRow(row as Parameters<typeof userFromRow>[0]));
        userOrds.push(Number(row.ord));
      });
      await fetchAll(c, `SELECT app, key, user_id, ord FROM ${this.s}.links ORDER BY ord`, (row) => {
        state.links.push(linkFromRow(row as Parameters<typeof linkFromRow>[0]));
        linkOrds.push(Number(row.ord));
      });
      await fetchAll(c, `SELECT app, key, attributes, disabled FROM ${this.s}.imported`, (row) => {
        addImported(state.imported, row.app as string, row.key as string, { attributes: row.attributes as Record<string, string>, disabled: row.disabled as boolean });
      });
      this.snapshot = snapshotOf(state, meta.token, userOrds, linkOrds);
      return state;
    });
  }

  async write(next: DirectoryState, expected: { lineage: string | null; serial: number }, changes: ChangeRecord[] = []): Promise<void> {
    const previous = this.snapshot;
    this.snapshot = null; // unknown until this write has either committed or certainly not
    try {
      this.snapshot = await this.transaction('BEGIN', async (c) => {
        const current = await this.meta(c, ' FOR UPDATE');
        await this.assertLocksHeld(c);
        if (current.lineage !== expected.lineage || current.serial !== expected.serial) throw new StaleStateError(expected, current);
        const token = randomUUID();
        // Only rows that changed since our last look, if the database still holds exactly what we saw then.
        const plan = planWrite(next, previous && previous.token === current.token ? previous : null, token);
        await this.writeUsers(c, plan.users);
        await this.writePairs(c, 'links', plan.links, (rows, upsert) => insertLinks(c, this.s, rows, upsert), (r) => r.value);
        await this.writePairs(c, 'imported', plan.imported, (rows, upsert) => insertImported(c, this.s, rows, upsert), (r) => r);
        await insertChanges(c, this.s, changes);
        await c.query(`UPDATE ${this.s}.meta SET lineage = $1, serial = $2, watermarks = $3::jsonb, write_token = $4`, [next.lineage, next.serial, JSON.stringify(next.watermarks), token]);
        crashPoint('state-write');
        await pausePoint('state-write');
        return plan.after;
      });
    } catch (error) {
      if (error instanceof StaleStateError || error instanceof LockLostError) this.snapshot = previous; // nothing was written
      const code = (error as { code?: unknown }).code;
      if (code === '22P05' || code === '22021') {
        // PostgreSQL text and jsonb cannot hold U+0000; nothing was written.
        this.snapshot = previous;
        throw new StateFormatError(`the PostgreSQL state at ${this.location} cannot store this state: a value contains a NUL character (U+0000) or an invalid sequence (${(error as Error).message})`, { cause: error });
      }
      throw error;
    }
  }

  private async writeUsers(c: pg.ClientBase, plan: TablePlan<Placed<DirectoryState['users'][number]>>): Promise<void> {
    if (plan.mode === 'replace') {
      await c.query(`TRUNCATE ${this.s}.users`);
      await insertUsers(c, this.s, plan.rows, false);
    } else {
      await deleteUsers(c, this.s, plan.deletes.map((p) => p.value.id));
      await insertUsers(c, this.s, plan.upserts, true);
    }
  }

  private async writePairs<Row>(
    c: pg.ClientBase, table: 'links' | 'imported', plan: TablePlan<Row>, insert: (rows: Row[], upsert: boolean) => Promise<void>, pair: (row: Row) => { app: string; key: string },
  ): Promise<void> {
    if (plan.mode === 'replace') {
      await c.query(`TRUNCATE ${this.s}.${table}`);
      await insert(plan.rows, false);
    } else {
      await deletePairs(c, this.s, table, plan.deletes.map(pair));
      await insert(plan.upserts, true);
    }
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.withClient((c) => upsertRun(c, this.s, run));
  }

  async journal(changes: ChangeRecord[]): Promise<void> {
    if (changes.length === 0) return;
    await this.transaction('BEGIN', async (c) => {
      await this.assertLocksHeld(c);
      await insertChanges(c, this.s, changes);
    });
  }

  async history(query?: HistoryQuery): Promise<History> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (c) => readHistory(c, this.s, query));
  }

  async lock(request: Omit<LockInfo, 'id' | 'created'>, options: { waitMs?: number } = {}): Promise<LockHandle> {
    let taken: HeldLock | undefined;
    const handle = await waitForLock(async () => {
      await this.ensureReady();
      taken = await this.locker.tryLock(request);
      return taken.handle;
    }, options.waitMs ?? 0);
    const given: LockHandle = {
      info: handle.info,
      release: async () => {
        this.held.delete(given);
        await handle.release();
      },
    };
    this.held.set(given, taken!);
    return given;
  }

  /**
   * While this store holds a lock, it writes only as long as that lock is really held: a lock whose
   * session ended (connection lost, force-unlocked) may already be someone else's.
   */
  private async assertLocksHeld(c: pg.ClientBase): Promise<void> {
    for (const held of this.held.values()) {
      if (await this.locker.stillHeld(held, (sql, values) => c.query(sql, values))) continue;
      throw new LockLostError(`the lock ${held.handle.info.id} on the PostgreSQL state at ${this.location} was lost (its connection ended or it was force-unlocked); stopped without writing. Run again to resume`);
    }
  }

  async forceUnlock(id: string): Promise<void> {
    await this.ensureReady();
    await this.locker.forceUnlock(id);
  }

  /** Releases the locks this store still holds and closes its connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const handle of [...this.held.keys()]) await handle.release();
    this.held.clear();
    await this.pool.end();
  }

  private async meta(c: pg.ClientBase, suffix: string): Promise<{ lineage: string | null; serial: number; watermarks: Record<string, string>; token: string | null }> {
    const result = await c.query<{ lineage: string | null; serial: string; watermarks: Record<string, string>; write_token: string | null }>(
      `SELECT lineage, serial, watermarks, write_token FROM ${this.s}.meta${suffix}`,
    );
    const row = result.rows[0];
    if (!row) throw new StateFormatError(`the PostgreSQL state at ${this.location} has no meta row; the schema is damaged`);
    return { lineage: row.lineage, serial: Number(row.serial), watermarks: row.watermarks, token: row.write_token };
  }

  private async ensureReady(): Promise<void> {
    if (this.closed) throw new StateFormatError(`the PostgreSQL state at ${this.location} is closed`);
    this.ready ??= ensureSchema(this.pool, this.options.schema, this.s, this.location).catch((error: unknown) => {
      this.ready = null;
      throw asReachError(error, this.location);
    });
    await this.ready;
  }

  /** Runs `fn` on a pooled connection of the migrated schema; a failed connection is discarded, not reused. */
  private async withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      await this.ensureReady();
      const client = await this.pool.connect();
      let failed = false;
      try {
        return await fn(client);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        client.release(failed);
      }
    } catch (error) {
      throw asReachError(error, this.location);
    }
  }

  private async transaction<T>(begin: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (c) => {
      await c.query(begin);
      try {
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (error) {
        await c.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }
}

/** Streams a query's rows through a cursor, BATCH rows per round trip (inside the caller's transaction). */
async function fetchAll(c: pg.ClientBase, sql: string, each: (row: Record<string, unknown>) => void): Promise<void> {
  await c.query(`DECLARE idplane_rows NO SCROLL CURSOR FOR ${sql}`);
  for (;;) {
    const result = await c.query(`FETCH ${BATCH} FROM idplane_rows`);
    for (const row of result.rows as Record<string, unknown>[]) each(row);
    if (result.rows.length < BATCH) break;
  }
  await c.query('CLOSE idplane_rows');
}
