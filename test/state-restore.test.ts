/**
 * `idplane state restore` through the real binary: the embedded store's previous generation
 * (state.db.backup, taken before each apply that writes) put back over a damaged database or a readable
 * one, recorded in the history; refused when there is none; on PostgreSQL, pointed to the database's own
 * backups.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

async function edit(file: string, change: (text: string) => string): Promise<void> {
  await writeFile(file, change(await readFile(file, 'utf8')));
}

/** Two applies: the second changes one title, so the backup is the generation before that change. */
async function twoApplies(): Promise<void> {
  expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
  await edit(join(dir, 'data/hr.csv'), (t) => t.replace('Staff Software Engineer', 'Principal Engineer'));
  expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
}

function expectTitleChangeAgain(): void {
  // The generation before the title change: the plan makes that change again, and nothing else.
  const plan = JSON.parse(idplane(dir, ['plan', '--format', 'json']).stdout);
  expect(plan.summary.users).toMatchObject({ create: 0, update: 1, deactivate: 0 });
  expect(plan.users[0].after.profile.title).toBe('Principal Engineer');
}

describe('idplane state restore', () => {
  it('brings back the previous generation of a damaged database; the next plan redoes what was lost', async () => {
    await twoApplies();
    const state = join(dir, '.idplane/state.db');
    const handle = await open(state, 'r+');
    await handle.write(Buffer.alloc(100, 0x55), 0, 100, 0); // the file header: no longer a database
    await handle.close();
    const damaged = idplane(dir, ['plan']);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain(`${state} is not an SQLite database`);
    expect(damaged.stderr).toContain('The previous generation (serial 1) is kept in');
    expect(damaged.stderr).toContain('`idplane state restore` puts it back');
    expect(damaged.stderr).not.toContain('    at '); // a message, not a stack trace

    const restored = idplane(dir, ['state', 'restore', '--format', 'json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({
      restored: { lineage: expect.any(String), serial: 1, users: 51 },
      replaced: { serial: null, keptAs: `${state}.replaced` },
      serial: 2,
      history: 'backup',
    });
    expectTitleChangeAgain();
    const history = JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout);
    expect(history.runs[0]).toMatchObject({ command: 'state restore', outcome: 'succeeded', serialBefore: -1, serialAfter: 2 });
    expect(history.runs.map((r: { command: string }) => r.command)).toEqual(['state restore', 'apply']);
  });

  it('restores over a readable database, keeping it aside and keeping the history', async () => {
    await twoApplies();
    const restored = idplane(dir, ['state', 'restore']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored the state's previous generation: restored the generation of serial 1 (51 users) as serial 3; the state it replaced (serial 2) is kept as ${join(dir, '.idplane/state.db.replaced')}.`);
    expectTitleChangeAgain();
    const history = JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout);
    expect(history.runs.map((r: { command: string; serialBefore: number; serialAfter: number }) => [r.command, r.serialBefore, r.serialAfter])).toEqual([['state restore', 2, 3], ['apply', 1, 2], ['apply', 0, 1]]);
  });

  it.each([
    ['a flipped byte in a field name', (r: string) => r.replace('"profile":', '"rrofile":'), 'it has no profile'],
    ['a status no user can have', (r: string) => r.replace('"status":"ACTIVE"', '"status":"ACTIVF"'), 'its status "ACTIVF" is not one of STAGED, PROVISIONED, ACTIVE, SUSPENDED, DEPROVISIONED'],
  ])('calls a record that reads but is not a user record (%s) damage, with the way back', async (_what, flip, problem) => {
    await twoApplies();
    const state = join(dir, '.idplane/state.db');
    const db = new DatabaseSync(state);
    const { ord, record } = db.prepare("SELECT ord, record FROM users WHERE record LIKE '%zoe.muller%'").get() as { ord: number; record: string };
    db.prepare('UPDATE users SET record = ? WHERE ord = ?').run(flip(record), ord);
    db.close();
    for (const args of [['plan'], ['state', 'show', 'zoe.muller@example.com']]) {
      const damaged = idplane(dir, args);
      expect(damaged.code, damaged.stdout).toBe(1);
      expect(damaged.stderr).toContain(`the user record at ${args[0] === 'plan' ? `position ${ord} of the users table of ${state}` : `the users table of ${state} (login zoe.muller@example.com)`}`);
      expect(damaged.stderr).toContain(problem);
      expect(damaged.stderr).toContain('the state is damaged. The previous generation (serial 1) is kept in');
      expect(damaged.stderr).not.toMatch(/Internal error|This is a bug| {4}at /);
    }
    expect(idplane(dir, ['state', 'restore']).code).toBe(0);
    expectTitleChangeAgain();
  });

  it('refuses when there is nothing to restore, changing nothing', async () => {
    const none = idplane(dir, ['state', 'restore']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('state.db.backup to restore: it is taken before each apply (and scheduled import) that changes the state');
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
  });
});

describePostgres('idplane state restore on PostgreSQL', () => {
  const schema = freshSchema();
  afterEach(async () => dropSchema(schema));

  it('calls a row with a status no user can have damage, naming the row and the way back', async () => {
    await edit(join(dir, 'idplane.yaml'), (t) => t.replace(/^state:\n {2}backend: embedded.*$/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`));
    const env = { IDPLANE_STATE_URL: POSTGRES_URL };
    expect(idplane(dir, ['apply', '--auto-approve'], { env }).code).toBe(0);
    const { rows } = await adminQuery<{ ord: string }>(`UPDATE ${schema}.users SET status = 'ACTIVF' WHERE login = 'zoe.muller@example.com' RETURNING ord`);
    for (const args of [['plan'], ['state', 'show', 'zoe.muller@example.com']]) {
      const damaged = idplane(dir, args, { env });
      expect(damaged.code, damaged.stdout).toBe(1);
      expect(damaged.stderr).toContain(`the user record at ${args[0] === 'plan' ? `position ${rows[0]!.ord} of "${schema}".users` : `"${schema}".users (login zoe.muller@example.com)`} (user u-`);
      expect(damaged.stderr).toContain('is not a valid record: its status "ACTIVF" is not one of STAGED, PROVISIONED, ACTIVE, SUSPENDED, DEPROVISIONED; the state is damaged. Restore the schema from your PostgreSQL backups, or correct that row by hand (docs/state.md).');
      expect(damaged.stderr).not.toMatch(/Internal error|This is a bug| {4}at /);
    }
  });

  it('says the database\'s own backups restore it', async () => {
    await edit(join(dir, 'idplane.yaml'), (t) => t.replace(/^state:\n {2}backend: embedded.*$/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`));
    const r = idplane(dir, ['state', 'restore'], { env: { IDPLANE_STATE_URL: POSTGRES_URL } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is in PostgreSQL, which the database\'s own backups restore');
    expect(r.stderr).toContain('docs/state.md');
  });
});
