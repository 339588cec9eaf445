/**
 * Runs the one StateStore conformance suite (state/conformance.ts) against every backend: the embedded
 * store in a temporary folder, and PostgreSQL in a fresh schema of the test database, dropped afterwards
 * (skipped with a warning when PostgreSQL is unreachable, a failure under CI). An edit outside idplane is
 * a text edit of one user's profile value in state.ndjson, or an SQL UPDATE of the users table.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stateConformance } from '../state/conformance.ts';
import { EmbeddedStore } from '../state/embedded/store.ts';
import { PostgresStore } from '../state/postgres/store.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

/** Changes the first string value of the first user's profile, by hand as it were, leaving the rest of the file as it is. */
async function editStateFile(file: string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const at = lines.findIndex((line) => line.startsWith('U\t'));
  const user = JSON.parse(lines[at]!.slice(2)) as { profile: Record<string, unknown> };
  const name = Object.keys(user.profile).find((key) => typeof user.profile[key] === 'string');
  user.profile[name ?? 'note'] = `${String(user.profile[name ?? 'note'] ?? '')} (edited by hand)`;
  lines[at] = `U\t${JSON.stringify(user)}`;
  await writeFile(file, lines.join('\n'));
}

stateConformance('embedded', async () => {
  const root = await mkdtemp(join(tmpdir(), 'idplane-conformance-'));
  const dir = join(root, '.idplane');
  return {
    store: new EmbeddedStore({ dir }),
    reopen: async () => new EmbeddedStore({ dir }),
    editOutside: () => editStateFile(join(dir, 'state.ndjson')),
    checksDigest: false,
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
      cleanup: () => dropSchema(schema),
    };
  });
});
