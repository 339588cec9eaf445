import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

async function edit(file: string, change: (text: string) => string): Promise<void> {
  await writeFile(file, change(await readFile(file, 'utf8')));
}

describe('idplane state restore', () => {
  it('brings back the previous generation of a damaged state; the next plan redoes what was lost', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    await edit(join(dir, 'data/hr.csv'), (t) => t.replace('Staff Software Engineer', 'Principal Engineer'));
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);

    const state = join(dir, '.idplane/state.ndjson');
    await edit(state, (t) => t.slice(0, Math.floor(t.length / 2)));
    const damaged = idplane(dir, ['plan']);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain('the state file is damaged');
    expect(damaged.stderr).toContain('`idplane state restore` puts it back');
    expect(damaged.stderr).not.toContain('    at '); // a message, not a stack trace

    const restored = idplane(dir, ['state', 'restore', '--format', 'json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({
      restored: { lineage: expect.any(String), serial: 1, users: 51 },
      replaced: { serial: 2, keptAs: `${state}.replaced` },
      serial: 3,
    });

    // The generation before the title change: the plan makes that change again, and nothing else.
    const plan = JSON.parse(idplane(dir, ['plan', '--format', 'json']).stdout);
    expect(plan.summary.users).toMatchObject({ create: 0, update: 1, deactivate: 0 });
    expect(plan.users[0].after.profile.title).toBe('Principal Engineer');

    const history = JSON.parse(idplane(dir, ['history', '--format', 'json']).stdout);
    expect(history.runs[0]).toMatchObject({ command: 'state restore', outcome: 'succeeded', serialBefore: 2, serialAfter: 3 });
  });

  it('refuses when there is nothing to restore, changing nothing', async () => {
    const none = idplane(dir, ['state', 'restore']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('state.ndjson.backup to restore: it is made by the second write of a state');
    expect(idplane(dir, ['state', 'list']).stdout).toContain('The directory is empty');
  });
});

describePostgres('idplane state restore on PostgreSQL', () => {
  const schema = freshSchema();
  afterEach(async () => dropSchema(schema));

  it('says the database\'s own backups restore it', async () => {
    await edit(join(dir, 'idplane.yaml'), (t) => t.replace(/^state:\n {2}backend: embedded.*$/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`));
    const r = idplane(dir, ['state', 'restore'], { env: { IDPLANE_STATE_URL: POSTGRES_URL } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is in PostgreSQL, which the database\'s own backups restore');
    expect(r.stderr).toContain('docs/state.md');
  });
});
