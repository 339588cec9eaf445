/**
 * The PostgreSQL backend's versioned schema. MIGRATIONS is an ordered list; `ensureSchema` brings a
 * schema up to the last one on first use: each pending migration runs in its own transaction, under a
 * transaction-scoped advisory lock keyed on the schema (so two processes starting at once apply it once),
 * and records its version in `schema_version`. A schema whose version is newer than this code knows is
 * refused with a StateFormatError asking to upgrade idplane; nothing is changed then.
 *
 * Tables (all inside the configured schema):
 *   meta          one row: lineage, serial, watermarks (jsonb), write_token (new random value on every write)
 *   users         id pk, ord (position in the state's user list), login, status, profile jsonb, profile_source, roles text[]
 *   links         (app, key) pk, user_id, ord
 *   imported      (app, key) pk, attributes jsonb, disabled
 *   runs          id pk, one row per run (a later recordRun replaces it, keeping `recorded`, the order of first
 *                 record, which breaks ties between equal start times); timestamps kept as the ISO strings given
 *   changes       the journal: id bigserial (append order), run_id, seq, at, kind, action, user_id, login, app, key, attributes jsonb, outcome, message
 *   lock_holder   one row while (or after) someone holds the advisory lock: id, operation, who, host, pid, created,
 *                 and backend_pid, the PostgreSQL session holding it (a row whose session no longer holds the
 *                 advisory lock is stale and ignored)
 */
import type { ClientBase, Pool } from 'pg';
import { StateFormatError } from '../types.ts';
import { lockKey } from './connection.ts';

interface Migration {
  version: number;
  description: string;
  /** Statements to run; `s` is the quoted schema name. */
  statements(s: string): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'state, history and lock tables',
    statements: (s) => [
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
];

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
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey('migrate', schema)]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (
          version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        const version = await currentVersion(client, s);
        refuseNewer(version, location);
        if (version < migration.version) {
          for (const statement of migration.statements(s)) await client.query(statement);
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
