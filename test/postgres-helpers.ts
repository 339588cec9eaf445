/**
 * Test helpers for the PostgreSQL backend: the test database (IDPLANE_TEST_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test), fresh throw-away schemas, and `describePostgres`, which runs a
 * block only when the server answers. When it does not: under CI (process.env.CI set) the block becomes
 * a failing test saying why; elsewhere it is skipped with a console warning saying why, so a laptop
 * without PostgreSQL still passes.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';
import { maskUrl } from '../state/postgres/connection.ts';

export const POSTGRES_URL = process.env.IDPLANE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function freshSchema(): string {
  return `idplane_test_${randomBytes(6).toString('hex')}`;
}

/** Runs `sql` on a connection of its own. */
export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await client.query<R>(sql, values);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

/** Why the test server cannot be used, or null when it answers. */
async function unreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    const e = error as Error & { code?: string };
    return e.code ?? e.message;
  } finally {
    await client.end().catch(() => {});
  }
}

const reason = await unreachable();

export function describePostgres(name: string, body: () => void): void {
  if (reason === null) {
    describe(name, body);
    return;
  }
  const why = `PostgreSQL at ${maskUrl(POSTGRES_URL)} is unreachable (${reason})`;
  if (process.env.CI) {
    describe(name, () => {
      it('needs a reachable PostgreSQL', () => {
        throw new Error(`${why}; CI must provide it (set IDPLANE_TEST_POSTGRES_URL or start PostgreSQL 15 on 127.0.0.1:5432 with a "test" database)`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${why}; start PostgreSQL or set IDPLANE_TEST_POSTGRES_URL to run these tests`);
  describe.skip(name, body);
}
