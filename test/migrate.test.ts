import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

describePostgres('switching a project from the embedded store to PostgreSQL', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const schema = freshSchema();
  const env = { env: { IDPLANE_STATE_URL: POSTGRES_URL } };
  beforeAll(async () => ({ dir, cleanup } = await copyExample('quickstart')));
  afterAll(async () => {
    await cleanup();
    await dropSchema(schema);
  });

  it('state migrate copies everything, keeps lineage and serial, and refuses to overwrite', async () => {
    expect(idplane(dir, ['apply', '--auto-approve']).code).toBe(0);
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    const planFile = join(dir, 'saved.plan.json');
    expect(idplane(dir, ['plan', '--out', planFile]).code).toBe(0);
    const before = JSON.parse(idplane(dir, ['state', 'list', '--format', 'json']).stdout);

    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace(/^state:\n {2}backend: embedded.*$/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}`));
    const migrated = idplane(dir, ['state', 'migrate', '--from-embedded', '.idplane', '--format', 'json'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ migrated: true, users: 51, links: 50, imported: 50, runs: 1, serial: before.serial, lineage: before.lineage });

    const after = JSON.parse(idplane(dir, ['state', 'list', '--format', 'json'], env).stdout);
    expect(after).toEqual(before);
    const history = JSON.parse(idplane(dir, ['history', '--changes', '--format', 'json'], env).stdout);
    expect(history.runs).toHaveLength(1);
    expect(history.changes.filter((c: { kind: string }) => c.kind === 'user')).toHaveLength(51);

    // Same lineage and serial, but a plan saved before the move names the embedded store's digest, which
    // the copy cannot have: it is refused as stale, nothing applied, and a new plan applies.
    const stale = idplane(dir, ['apply', planFile], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('is stale');
    expect(JSON.parse(idplane(dir, ['state', 'list', '--format', 'json'], env).stdout)).toEqual(before);
    const applied = idplane(dir, ['apply', '--auto-approve'], env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(idplane(dir, ['plan', '--detailed-exitcode'], env).code).toBe(0);
    expect(JSON.parse(idplane(dir, ['history', 'zoe.muller@example.com', '--format', 'json'], env).stdout).runs).toHaveLength(2);

    const again = idplane(dir, ['state', 'migrate', '--from-embedded', '.idplane'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a state');
  });
});
