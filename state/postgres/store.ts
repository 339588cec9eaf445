/**
 * The PostgreSQL state backend, for teams and CI: `new PostgresStore({ url, schema })`. The schema is
 * created and migrated on first use (migrations.ts). read() streams the tables with COPY … TO STDOUT
 * inside one REPEATABLE READ transaction, so it sees one consistent snapshot with memory in proportion to
 * the data; write() is one transaction: check lineage/serial (and, when given, the digest) under FOR
 * UPDATE (else StaleStateError), write the state, stream the journal, update meta. After a read() or
 * write() the store remembers what the database holds and the next write sends only the rows that
 * changed (snapshot.ts); tables it replaces are truncated and loaded with COPY FREEZE.
 *
 * Edits made outside idplane: triggers count every statement that changes a state table unless it runs
 * in idplane's own write (SET LOCAL idplane.writer = 'on'). A read's `digest` is the write token and that
 * count; its `edited` is set when the last write said so or when the count moved since the last write
 * that did not (`next.edited` false: every user was checked, the content is idplane's again).
 *
 * Locking is a session advisory lock on a dedicated connection (lock.ts); while the store holds a lock,
 * write() and journal() first check it is still held and otherwise fail with LockLostError (recordRun
 * still works, so the run can be recorded as failed). `location` masks the password; a server that
 * cannot be reached surfaces as StateUnreachableError naming that location.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DirectoryState } from '../../reconciler/model.ts';
import { crashPoint, pausePoint } from '../crash-point.ts';
import { waitForLock } from '../lock-wait.ts';
import { StaleStateError, StateFormatError, type ChangeRecord, type History, type HistoryQuery, type LockHandle, type LockInfo, type ReadOptions, type RunRecord, type StateRef, type StateStore, type UserEntry } from '../types.ts';
import { asStateError, maskUrl } from './connection.ts';
import { insertChanges, nonEmpty, readHistory, upsertRun } from './history.ts';
import { AdvisoryLock, LockLostError, type HeldLock } from './lock.ts';
import { ensureSchema } from './migrations.ts';
import { readUser } from './read-user.ts';
import {
  copyImported, copyLinks, copyUsers, deleteApps, deletePairs, deleteUsers, insertLinks, insertUsers, readImported, readLinks, readUsers, replaceTable, upsertColumns, upsertImported,
} from './rows.ts';
import { planWrite, type Snapshot, type WritePlan } from '../snapshot.ts';
import type { StateDelta } from '../../reconciler/state-delta.ts';
import { writeDeltaRows } from './delta.ts';
import { digestOf, type StoredMeta } from '../stored-meta.ts';

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

  private readonly options: PostgresStoreOptions;

  constructor(options: PostgresStoreOptions) {
    this.options = options;
    if (!options.schema || Buffer.byteLength(options.schema) > 63) throw new StateFormatError(`a PostgreSQL state needs a schema name of 1 to 63 bytes, not "${options.schema}"`);
    this.location = `${maskUrl(options.url)}, schema ${options.schema}`;
    this.s = pg.escapeIdentifier(options.schema);
    const clientConfig: pg.ClientConfig = { connectionString: options.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: `idplane ${process.pid}`, keepAlive: true };
    this.pool = new pg.Pool({ ...clientConfig, max: 4 });
    // An idle pooled connection that fails (server restart) is dropped by the pool; without a listener it would crash us.
    this.pool.on('error', () => {});
    // A checked-out connection that dies (the server restarted, pg_terminate_backend) emits 'error' on its
    // client, not on the pool: the query in flight fails with it and is reported as a state error; the
    // event itself must not crash the process with a raw stack trace.
    this.pool.on('connect', (client) => client.on('error', () => {}));
    this.locker = new AdvisoryLock({
      clientConfig, schema: options.schema, s: this.s, location: this.location,
      ...(options.notice ? { notice: options.notice } : {}),
      query: (sql, values) => this.withClient((c) => c.query(sql, values)),
    });
  }

  async read(options: ReadOptions = {}): Promise<DirectoryState> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (c) => {
      // Before the snapshot is taken: a concurrent write's TRUNCATE must be either wholly seen or not at all.
      await c.query(`LOCK TABLE ${this.s}.meta, ${this.s}.users, ${this.s}.links, ${this.s}.imported, ${this.s}.app_columns IN ACCESS SHARE MODE`);
      const meta = await this.meta(c, '');
      // Rows of the tables read before, plus those of the one being read.
      let before = 0;
      const tick = options.onProgress && ((rows: number) => options.onProgress!(before + rows, undefined, 'rows'));
      const users = await readUsers(c, this.s, tick);
      before += users.users.length;
      const links = await readLinks(c, this.s, tick);
      before += links.links.length;
      const imported = await readImported(c, this.s, tick);
      this.snapshot = {
        digest: meta.digest,
        users: { values: users.users.slice(), ords: users.ords },
        links: { values: links.links.slice(), ords: links.ords },
        imported: imported.stored,
      };
      return {
        lineage: meta.lineage, serial: meta.serial, users: users.users, links: links.links, imported: imported.imported,
        watermarks: meta.watermarks, pipeline: meta.pipeline, edited: meta.edited, digest: meta.digest,
      };
    });
  }

  async readUser(login: string): Promise<UserEntry | null> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (c) => readUser(c, this.s, login));
  }

  async write(next: DirectoryState, expected: StateRef, changes: Iterable<ChangeRecord> = []): Promise<void> {
    const previous = this.snapshot;
    this.snapshot = null; // unknown until this write has either committed or certainly not
    try {
      this.snapshot = await this.transaction('BEGIN', async (c) => {
        // Our own statements: the triggers that count edits made outside idplane let them pass.
        await c.query(`SET LOCAL idplane.writer = 'on'`);
        const current = await this.meta(c, ' FOR UPDATE');
        await this.assertLocksHeld(c);
        if (current.lineage !== expected.lineage || current.serial !== expected.serial) throw new StaleStateError(expected, current);
        if (expected.digest !== undefined && expected.digest !== current.digest) throw new StaleStateError(expected, current, this.location);
        // Only rows that changed since our last look, if the database still holds exactly what we saw then.
        const token = randomUUID();
        const plan = planWrite(next, previous && previous.digest === current.digest ? previous : null, digestOf(token, current.outsideWrites));
        await this.writeRows(c, next, plan);
        await insertChanges(c, this.s, changes);
        await c.query(
          `UPDATE ${this.s}.meta SET lineage = $1, serial = $2, watermarks = $3::jsonb, write_token = $4, pipeline = $5, edited = $6::boolean,
             sealed_writes = CASE WHEN $6::boolean THEN sealed_writes ELSE outside_writes END`,
          [next.lineage, next.serial, JSON.stringify(next.watermarks), token, next.pipeline, next.edited],
        );
        crashPoint('state-write');
        await pausePoint('state-write');
        return plan.after;
      });
    } catch (error) {
      if (error instanceof StaleStateError || error instanceof LockLostError) this.snapshot = previous; // nothing was written
      const refused = nulRefusal(error, this.location);
      if (refused !== error) this.snapshot = previous;
      throw refused;
    }
  }

  private async writeRows(c: pg.ClientBase, next: DirectoryState, plan: WritePlan): Promise<void> {
    const s = this.s;
    if (plan.users.mode === 'replace') {
      await replaceTable(c, s, 'users', next.users.length, () => copyUsers(c, s, next.users));
    } else {
      await deleteUsers(c, s, plan.users.deletes.map((u) => u.id));
      await insertUsers(c, s, plan.users.updates, true);
      await insertUsers(c, s, plan.users.inserts, false);
    }
    if (plan.links.mode === 'replace') {
      await replaceTable(c, s, 'links', next.links.length, () => copyLinks(c, s, next.links));
    } else {
      await deletePairs(c, s, 'links', plan.links.deletes);
      await insertLinks(c, s, plan.links.updates, true);
      await insertLinks(c, s, plan.links.inserts, false);
    }
    if (plan.imported.mode === 'replace') {
      let records = 0;
      for (const app of next.imported.values()) records += app.records.size;
      await replaceTable(c, s, 'imported', records, () => copyImported(c, s, next.imported));
    } else {
      await deleteApps(c, s, 'imported', plan.imported.apps);
      await deletePairs(c, s, 'imported', plan.imported.deletes);
      await upsertImported(c, s, plan.imported.upserts);
    }
    if (plan.columns.mode === 'replace') {
      await c.query(`TRUNCATE ${s}.app_columns`);
      await upsertColumns(c, s, [...next.imported].map(([app, { columns }]) => ({ app, columns })));
    } else {
      await deleteApps(c, s, 'app_columns', plan.columns.deletes);
      await upsertColumns(c, s, plan.columns.upserts);
    }
  }

  async head(): Promise<StateRef & { digest: string | null }> {
    return this.withClient(async (c) => {
      const { lineage, serial, digest } = await this.meta(c, '');
      return { lineage, serial, digest };
    });
  }

  async writeDelta(delta: StateDelta, expected: StateRef, changes: Iterable<ChangeRecord> = [], run?: RunRecord): Promise<string> {
    // The rows change under the snapshot: the next write compares with what a read finds then.
    this.snapshot = null;
    try {
      return await this.transaction('BEGIN', async (c) => {
        await c.query(`SET LOCAL idplane.writer = 'on'`);
        const current = await this.meta(c, ' FOR UPDATE');
        await this.assertLocksHeld(c);
        if (current.lineage !== expected.lineage || current.serial !== expected.serial) throw new StaleStateError(expected, current);
        if (expected.digest !== undefined && expected.digest !== current.digest) throw new StaleStateError(expected, current, this.location);
        await writeDeltaRows(c, this.s, delta);
        await insertChanges(c, this.s, changes);
        if (run) await upsertRun(c, this.s, run);
        const token = randomUUID();
        await c.query(
          `UPDATE ${this.s}.meta SET lineage = $1, serial = $2, watermarks = watermarks || $3::jsonb, write_token = $4, pipeline = $5, edited = $6::boolean,
             sealed_writes = CASE WHEN $6::boolean THEN sealed_writes ELSE outside_writes END`,
          [delta.lineage, delta.serial, JSON.stringify(delta.watermarks), token, delta.pipeline, delta.edited],
        );
        crashPoint('state-write');
        await pausePoint('state-write');
        return digestOf(token, current.outsideWrites);
      });
    } catch (error) {
      throw nulRefusal(error, this.location);
    }
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.withClient((c) => upsertRun(c, this.s, run));
  }

  async journal(changes: Iterable<ChangeRecord>): Promise<void> {
    const entries = nonEmpty(changes);
    if (!entries) return;
    await this.transaction('BEGIN', async (c) => {
      await this.assertLocksHeld(c);
      await insertChanges(c, this.s, entries);
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

  private async meta(c: pg.ClientBase, suffix: string): Promise<StoredMeta> {
    const result = await c.query<{
      lineage: string | null; serial: string; watermarks: Record<string, string>; write_token: string | null;
      pipeline: string | null; edited: boolean; outside_writes: string; sealed_writes: string;
    }>(`SELECT lineage, serial, watermarks, write_token, pipeline, edited, outside_writes, sealed_writes FROM ${this.s}.meta${suffix}`);
    const row = result.rows[0];
    if (!row) throw new StateFormatError(`the PostgreSQL state at ${this.location} has no meta row; the schema is damaged`);
    const outsideWrites = Number(row.outside_writes);
    return {
      lineage: row.lineage, serial: Number(row.serial), watermarks: row.watermarks, pipeline: row.pipeline,
      edited: row.edited || row.outside_writes !== row.sealed_writes,
      // Nothing written yet, by anyone: the empty state, which has no digest.
      digest: row.write_token === null && outsideWrites === 0 ? null : digestOf(row.write_token, outsideWrites),
      outsideWrites,
    };
  }

  private async ensureReady(): Promise<void> {
    if (this.closed) throw new StateFormatError(`the PostgreSQL state at ${this.location} is closed`);
    this.ready ??= ensureSchema(this.pool, this.options.schema, this.s, this.location).catch((error: unknown) => {
      this.ready = null;
      throw asStateError(error, this.location);
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
      throw asStateError(error, this.location);
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

/** PostgreSQL text and jsonb cannot hold U+0000: said as a state error (nothing was written); other errors as they are. */
function nulRefusal(error: unknown, location: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (code !== '22P05' && code !== '22021') return error;
  return new StateFormatError(`the PostgreSQL state at ${location} cannot store this state: a value contains a NUL character (U+0000) or an invalid sequence (${(error as Error).message})`, { cause: error });
}
