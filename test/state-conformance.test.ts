/**
 * Runs the one StateStore conformance suite (state/conformance.ts) against every backend: the embedded
 * SQLite store in a temporary folder, and PostgreSQL in a fresh schema of the test database, dropped
 * afterwards (skipped with a warning when PostgreSQL is unreachable, a failure under CI). An edit outside
 * idplane is an SQL UPDATE of one user's profile on a connection of its own (node:sqlite, or pg).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { stateConformance } from '../state/conformance.ts';
import { EmbeddedStore } from '../state/embedded/store.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

/**
 * Counts the user rows `during` writes: triggers of the test's own record every insert, update and
 * delete into a probe table; a table that was replaced (dropped and made again) loses them, and counts as
 * every row written.
 */
async function sqliteUserRowWrites(file: string, during: () => Promise<void>): Promise<number> {
  const db = new DatabaseSync(file, { timeout: 10_000 });
  try {
    db.exec(`CREATE TABLE probe (n INTEGER);
      CREATE TRIGGER probe_insert AFTER INSERT ON users BEGIN INSERT INTO probe VALUES (1); END;
      CREATE TRIGGER probe_update AFTER UPDATE ON users BEGIN INSERT INTO probe VALUES (1); END;
      CREATE TRIGGER probe_delete AFTER DELETE ON users BEGIN INSERT INTO probe VALUES (1); END;`);
    await during();
    const triggers = Number((db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'probe_%'`).get() as { n: number }).n);
    const rows = Number((db.prepare(triggers === 3 ? 'SELECT count(*) AS n FROM probe' : 'SELECT count(*) AS n FROM users').get() as { n: number }).n);
    db.exec('DROP TRIGGER IF EXISTS probe_insert; DROP TRIGGER IF EXISTS probe_update; DROP TRIGGER IF EXISTS probe_delete; DROP TABLE probe;');
    return rows;
  } finally {
    db.close();
  }
}

/** The user rows `during` writes: those whose row version (xmin) changed, or that are gone. */
async function postgresUserRowWrites(s: string, during: () => Promise<void>): Promise<number> {
  const versions = async () => new Map((await adminQuery<{ id: string; v: string }>(`SELECT id, xmin::text AS v FROM ${s}.users`)).rows.map((r) => [r.id, r.v]));
  const before = await versions();
  await during();
  const after = await versions();
  let written = 0;
  for (const [id, v] of after) if (before.get(id) !== v) written++;
  for (const id of before.keys()) if (!after.has(id)) written++;
  return written;
}

/** An UPDATE of the first user's department on a connection of its own, as another tool would make it. */
function editDatabase(file: string): void {
  const db = new DatabaseSync(file, { timeout: 10_000 });
  try {
    db.exec(`UPDATE users SET record = json_set(record, '$.profile.department', 'Edited outside') WHERE ord = (SELECT min(ord) FROM users)`);
  } finally {
    db.close();
  }
}

stateConformance('embedded', async () => {
  const root = await mkdtemp(join(tmpdir(), 'idplane-conformance-'));
  const dir = join(root, '.idplane');
  return {
    store: new EmbeddedStore({ dir }),
    reopen: async () => new EmbeddedStore({ dir }),
    editOutside: async () => editDatabase(join(dir, 'state.db')),
    checksDigest: true,
    userRowWrites: (during) => sqliteUserRowWrites(join(dir, 'state.db'), during),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describePostgres('postgres', () => {
  stateConformance('postgres', async () => {
    const schema = freshSchema();
    const s = pg.escapeIdentifier(schema);
    return {
      store: new PostgresStore({ url: POSTGRES_URL, schema }),
      reopen: async () => new PostgresStore({ url: POSTGRES_URL, schema }),
      editOutside: async () => {
        await adminQuery(`UPDATE ${s}.users SET profile = jsonb_set(profile, '{department}', '"Edited outside"') WHERE ord = (SELECT min(ord) FROM ${s}.users)`);
      },
      checksDigest: true,
      userRowWrites: (during) => postgresUserRowWrites(s, during),
      cleanup: () => dropSchema(schema),
    };
  });
});
