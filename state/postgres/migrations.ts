/**
 * The PostgreSQL backend's versioned schema. MIGRATIONS is an ordered list; `ensureSchema` brings a
 * schema up to the last one on first use: each pending migration runs in its own transaction, under a
 * transaction-scoped advisory lock keyed on the schema (so two processes starting at once apply it once),
 * and records its version in `schema_version`. A migration is a list of steps: SQL statements, and
 * functions run on the migration's connection inside its transaction (a conversion that needs idplane's
 * own code, such as packing imported records exactly as reconciler/records.ts does). A schema whose
 * version is newer than this code knows is refused with a StateFormatError asking to upgrade idplane;
 * nothing is changed then.
 *
 * Tables (all inside the configured schema), as of version 3:
 *   meta          one row: lineage, serial, watermarks (jsonb), write_token (new random value on every write),
 *                 pipeline (the config fingerprint stored with the state), edited (the last write said the
 *                 content may differ from what idplane wrote), outside_writes (statements that changed the
 *                 state tables outside idplane, counted by trigger), sealed_writes (outside_writes as of the
 *                 last write that checked every user: while the two are equal, nobody edited behind idplane)
 *   users         id pk, ord (position in the state's user list), login (indexed as lower(login)), status, profile jsonb,
 *                 profile_source, roles text[]
 *   links         (app, key) pk, user_id (indexed), ord
 *   imported      (app, key) pk, disabled, vals (the packed values, reconciler/records.ts: JSON array text in
 *                 the app's column order, kept byte for byte as idplane made it)
 *   app_columns   app pk, columns text[]: the column order of the app's packed values
 *   runs          id pk, one row per run (a later recordRun replaces it, keeping `recorded`, the order of first
 *                 record, which breaks ties between equal start times); timestamps kept as the ISO strings given
 *   changes       the journal: id bigserial (append order), run_id, seq, at, kind, action, user_id, login, app, key, attributes jsonb, outcome, message
 *   lock_holder   one row while (or after) someone holds the advisory lock: id, operation, who, host, pid, created,
 *                 and backend_pid, the PostgreSQL session holding it (a row whose session no longer holds the
 *                 advisory lock is stale and ignored)
 *
 * Statement-level triggers on users, links, imported and app_columns count every statement that changes
 * them into meta.outside_writes, unless the transaction says it is idplane's own (SET LOCAL
 * idplane.writer = 'on', as PostgresStore.write does). Statement-level, so a COPY of a million rows costs
 * one increment, and idplane's own writes none.
 */
import type { ClientBase, Pool } from 'pg';
import { packValues } from '../../reconciler/records.ts';
import { StateFormatError } from '../types.ts';
import { lockKey } from './connection.ts';
import { copyRows, encode } from './copy.ts';

/** A step of a migration: a statement, or a function run on the migration's connection, in its transaction. */
export type MigrationStep = string | ((db: ClientBase) => Promise<void>);

interface Migration {
  version: number;
  description: string;
  /** The steps to run, in order; `s` is the quoted schema name. */
  steps(s: string): MigrationStep[];
}

/** The tables whose changes outside idplane are counted. */
export const WATCHED_TABLES = ['users', 'links', 'imported', 'app_columns'] as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'state, history and lock tables',
    steps: (s) => [
      `CREATE TABLE ${s}.meta (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        lineage text, serial bigint NOT NULL DEFAULT 0, watermarks jsonb NOT NULL DEFAULT '{}', write_token text)`,
      `INSERT INTO ${s}.meta (singleton) VALUES (true)`,
      `CREATE TABLE ${s}.users (
        id text PRIMARY KEY, ord bigint NOT NULL, login text NOT NULL, status text NOT NULL,
        profile jsonb NOT NULL, profile_source text NOT NULL, roles text[] NOT NULL)`,
      `CREATE INDEX users_ord ON ${s}.users (ord)`,
      `CREATE TABLE ${s}.links (app text NOT NULL, key text NOT NULL, user_id text NOT NULL, ord bigint NOT NULL, PRIMARY KEY (app, key))`,
      `CREATE INDEX links_ord ON ${s}.links (ord)`,
      `CREATE TABLE ${s}.imported (app text NOT NULL, key text NOT NULL, attributes jsonb NOT NULL, disabled boolean NOT NULL, PRIMARY KEY (app, key))`,
      `CREATE TABLE ${s}.runs (
        id text PRIMARY KEY, recorded bigserial NOT NULL, command text NOT NULL, who text NOT NULL, host text NOT NULL,
        started_at text NOT NULL, finished_at text, config_fingerprint text NOT NULL, git_commit text,
        serial_before bigint NOT NULL, serial_after bigint, summary jsonb, outcome text NOT NULL, message text)`,
      `CREATE INDEX runs_started ON ${s}.runs (started_at DESC)`,
      `CREATE TABLE ${s}.changes (
        id bigserial PRIMARY KEY, run_id text NOT NULL, seq integer NOT NULL, at text NOT NULL,
        kind text NOT NULL, action text NOT NULL, user_id text NOT NULL, login text NOT NULL,
        app text, key text, attributes jsonb, outcome text NOT NULL, message text)`,
      `CREATE INDEX changes_run ON ${s}.changes (run_id, seq)`,
      `CREATE INDEX changes_login ON ${s}.changes (lower(login))`,
      `CREATE TABLE ${s}.lock_holder (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id text NOT NULL, operation text NOT NULL, who text NOT NULL, host text NOT NULL, pid integer NOT NULL, created text NOT NULL,
        backend_pid integer NOT NULL)`,
    ],
  },
  {
    version: 2,
    description: 'packed imported records with app_columns; pipeline, edited and outside-write detection in meta',
    steps: (s) => [
      `CREATE TABLE ${s}.app_columns (app text PRIMARY KEY, columns text[] NOT NULL)`,
      `ALTER TABLE ${s}.meta ADD COLUMN pipeline text, ADD COLUMN edited boolean NOT NULL DEFAULT false,
        ADD COLUMN outside_writes bigint NOT NULL DEFAULT 0, ADD COLUMN sealed_writes bigint NOT NULL DEFAULT 0`,
      `CREATE TABLE ${s}.imported_packed (app text NOT NULL, key text NOT NULL, disabled boolean NOT NULL, vals text NOT NULL)`,
      (db) => packImported(db, s),
      `DROP TABLE ${s}.imported`,
      `ALTER TABLE ${s}.imported_packed RENAME TO imported`,
      `ALTER TABLE ${s}.imported ADD PRIMARY KEY (app, key)`,
      // The schema is found from the table that fired, so the function needs no name baked in.
      `CREATE FUNCTION ${s}.idplane_outside_write() RETURNS trigger LANGUAGE plpgsql AS $body$
      BEGIN
        IF current_setting('idplane.writer', true) IS DISTINCT FROM 'on' THEN
          EXECUTE format('UPDATE %I.meta SET outside_writes = outside_writes + 1', TG_TABLE_SCHEMA);
        END IF;
        RETURN NULL;
      END
      $body$`,
      ...WATCHED_TABLES.map((table) => `CREATE TRIGGER idplane_outside_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${s}.${table}
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.idplane_outside_write()`),
    ],
  },
  {
    version: 3,
    description: 'indexes to read one user by login, and its links, without reading the directory',
    steps: (s) => [`CREATE INDEX users_login ON ${s}.users (lower(login))`, `CREATE INDEX links_user ON ${s}.links (user_id)`],
  },
];

/**
 * Version 1 → 2: every imported record's attributes object becomes its packed values, in one pass through
 * a cursor, PACK_BATCH rows at a time copied into the new table. An app's columns are the attribute names
 * its records use, in the order first seen; a record is packed with the columns known when it is read,
 * which gives the same text as packing it with the final list (names only ever go at the end, and
 * trailing empty values are left out).
 */
async function packImported(db: ClientBase, s: string): Promise<void> {
  const columns = new Map<string, { list: string[]; known: Set<string> }>();
  await db.query(`DECLARE idplane_pack NO SCROLL CURSOR FOR SELECT app, key, disabled, attributes FROM ${s}.imported`);
  for (;;) {
    const result = await db.query<{ app: string; key: string; disabled: boolean; attributes: Record<string, string> }>(`FETCH ${PACK_BATCH} FROM idplane_pack`);
    const rows = result.rows.map((row) => {
      let app = columns.get(row.app);
      if (!app) columns.set(row.app, (app = { list: [], known: new Set() }));
      for (const name of Object.keys(row.attributes)) {
        if (!app.known.has(name)) {
          app.known.add(name);
          app.list.push(name);
        }
      }
      return `${encode.text(row.app)}\t${encode.text(row.key)}\t${encode.bool(row.disabled)}\t${encode.text(packValues(app.list, row.attributes))}`;
    });
    if (rows.length > 0) await copyRows(db, `${s}.imported_packed`, ['app', 'key', 'disabled', 'vals'], rows);
    if (result.rows.length < PACK_BATCH) break;
  }
  await db.query('CLOSE idplane_pack');
  const apps = [...columns];
  await db.query(`INSERT INTO ${s}.app_columns (app, columns) SELECT app, columns FROM jsonb_to_recordset($1::jsonb) AS t(app text, columns text[])`,
    [JSON.stringify(apps.map(([app, { list }]) => ({ app, columns: list })))]);
}

const PACK_BATCH = 5000;

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema's recorded version: 0 when it (or its version table) does not exist yet. */
async function currentVersion(client: ClientBase, s: string): Promise<number> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${s}.schema_version`]);
  if (exists.rows[0]?.t == null) return 0;
  const result = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_version`);
  return result.rows[0]?.v ?? 0;
}

function refuseNewer(version: number, location: string): void {
  if (version > SCHEMA_VERSION) {
    throw new StateFormatError(`the PostgreSQL state at ${location} has schema version ${version}, newer than this idplane understands (${SCHEMA_VERSION}); upgrade idplane`);
  }
}

/** Applies the pending migrations of schema `schema` (quoted: `s`). */
export async function ensureSchema(pool: Pool, schema: string, s: string, location: string): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    const seen = await currentVersion(client, s);
    refuseNewer(seen, location);
    if (seen === SCHEMA_VERSION) return;
    for (const migration of MIGRATIONS) {
      await client.query('BEGIN');
      try {
        // A migration's own changes to the state tables are not edits made outside idplane.
        await client.query(`SET LOCAL idplane.writer = 'on'`);
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey('migrate', schema)]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (
          version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        const version = await currentVersion(client, s);
        refuseNewer(version, location);
        if (version < migration.version) {
          for (const step of migration.steps(s)) {
            if (typeof step === 'string') await client.query(step);
            else await step(client);
          }
          await client.query(`INSERT INTO ${s}.schema_version (version, description) VALUES ($1, $2)`, [migration.version, migration.description]);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    client.release(failure); // a client that failed is discarded, not returned to the pool
  }
}
