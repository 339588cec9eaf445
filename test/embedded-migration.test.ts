/**
 * A project whose embedded state is still in the former format (state.ndjson, history.ndjson,
 * state.ndjson.backup, as idplane before SQLite left it) upgrades on first use, through the real binary:
 * whatever command meets it first migrates it with a notice, and plan, history, state show and state
 * restore then see exactly what the old files held; `state migrate --from-embedded` of such a folder
 * copies everything into PostgreSQL.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryState } from '../reconciler/model.ts';
import { legacyHistoryText, legacyStateText } from '../state/embedded/ndjson/fixture.ts';
import { EmbeddedStore } from '../state/embedded/store.ts';
import type { History } from '../state/types.ts';
import { copyExample, idplane } from './cli-helpers.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

async function readStore(): Promise<{ state: DirectoryState; history: History }> {
  const store = new EmbeddedStore({ dir: join(dir, '.idplane') });
  try {
    return { state: await store.read(), history: await store.history({ limit: 100 }) };
  } finally {
    await store.close();
  }
}

/**
 * Two applies (the second changes one title), then the folder rewritten as idplane before SQLite would
 * have left it: the state, its previous generation and the history as ndjson files, no state.db.
 */
async function legacyProject(): Promise<{ state: DirectoryState; history: History }> {
  expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
  const first = (await readStore()).state;
  const hr = join(dir, 'data/hr.csv');
  await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
  expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
  const now = await readStore();
  const folder = join(dir, '.idplane');
  await rm(folder, { recursive: true });
  await mkdir(folder);
  await writeFile(join(folder, 'state.ndjson'), legacyStateText(now.state, 'w2'));
  await writeFile(join(folder, 'state.ndjson.backup'), legacyStateText(first, 'w1'));
  await writeFile(join(folder, 'history.ndjson'), legacyHistoryText([...now.history.runs].reverse().flatMap((run) => [
    { run }, ...now.history.changes.filter((c) => c.runId === run.id).map((change) => ({ change, commit: run.serialAfter === 1 ? 'w1' : 'w2' })), { commit: run.serialAfter === 1 ? 'w1' : 'w2' },
  ])));
  return now;
}

describe('an embedded state of the former format', () => {
  it('is migrated by the first command that reads it, with a notice, and reads exactly as before', async () => {
    const before = await legacyProject();
    const plan = idplane(dir, ['plan', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/^migrated the embedded state to SQLite: .*state\.db now holds 51 users and 2 recorded runs \(\d+ changes\), and .*state\.db\.backup the previous generation; the former files are kept as state\.ndjson\.migrated, history\.ndjson\.migrated, state\.ndjson\.backup\.migrated/m);
    expect((await readdir(join(dir, '.idplane'))).sort()).toEqual(['history.ndjson.migrated', 'state.db', 'state.db.backup', 'state.ndjson.backup.migrated', 'state.ndjson.migrated']);
    const after = await readStore();
    expect(after.state).toEqual({ ...before.state, digest: expect.any(String) });
    expect(after.history).toEqual(before.history);
    // Zoë was created by the first run and got the new title in the second; Lars only in the first.
    expect(JSON.parse(idplane(dir, ['history', 'ZOE.MULLER@example.com', '--format', 'json']).stdout).runs).toEqual(before.history.runs);
    expect(JSON.parse(idplane(dir, ['history', 'lars.ostergaard@example.com', '--format', 'json']).stdout).runs).toEqual(before.history.runs.slice(1));
    expect(idplane(dir, ['plan']).stderr).not.toContain('migrated');
    // The previous generation came along: restore puts back the state before the title change.
    expect(idplane(dir, ['state', 'restore']).code).toBe(0);
    const again = JSON.parse(idplane(dir, ['plan', '--format', 'json']).stdout);
    expect(again.summary.users).toMatchObject({ create: 0, update: 1 });
  });
});

describePostgres('state migrate --from-embedded of a former-format folder', () => {
  const schema = freshSchema();
  afterEach(async () => dropSchema(schema));

  it('copies everything into PostgreSQL', async () => {
    const before = await legacyProject();
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace(/^state:\n {2}backend: embedded.*$/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`));
    const env = { env: { IDPLANE_STATE_URL: POSTGRES_URL } };
    const migrated = idplane(dir, ['state', 'migrate', '--from-embedded', '.idplane', '--format', 'json'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ migrated: true, users: 51, links: 50, imported: 50, runs: 2, serial: 2, lineage: before.state.lineage });
    const history = JSON.parse(idplane(dir, ['history', '--changes', '--format', 'json', '--limit', '100'], env).stdout) as History;
    expect(history.runs).toEqual(before.history.runs);
    expect(history.changes).toHaveLength(before.history.changes.length);
    expect(idplane(dir, ['plan', '--detailed-exitcode'], env).code).toBe(0);
  });
});
