/**
 * Runs the one StateStore conformance suite (state/conformance.ts) against every backend: the embedded
 * store in a temporary folder, and PostgreSQL in a fresh schema of the test database, dropped afterwards
 * (skipped with a warning when PostgreSQL is unreachable, a failure under CI).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stateConformance } from '../state/conformance.ts';
import { EmbeddedStore } from '../state/embedded/store.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

stateConformance('embedded', async () => {
  const root = await mkdtemp(join(tmpdir(), 'idplane-conformance-'));
  const dir = join(root, '.idplane');
  return {
    store: new EmbeddedStore({ dir }),
    reopen: async () => new EmbeddedStore({ dir }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describePostgres('postgres', () => {
  stateConformance('postgres', async () => {
    const schema = freshSchema();
    return {
      store: new PostgresStore({ url: POSTGRES_URL, schema }),
      reopen: async () => new PostgresStore({ url: POSTGRES_URL, schema }),
      cleanup: () => dropSchema(schema),
    };
  });
});
