/**
 * The credentials a pull request's CI job gets (docs/state.md, examples/ci/): a PostgreSQL role that may
 * only SELECT from the state's schema. plan, plan --git-base, drift, history, state list and
 * apply PLANFILE --dry-run (what the approver reads) work with it; apply is refused by PostgreSQL, with
 * the reason, and writes nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';
import { adminQuery, describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

describePostgres('a SELECT-only PostgreSQL role (the pull request job\'s credentials)', () => {
  const schema = freshSchema();
  const role = `idplane_reader_${randomBytes(4).toString('hex')}`;
  const readerUrl = () => {
    const url = new URL(POSTGRES_URL);
    url.username = role;
    url.password = '';
    return url.toString();
  };
  let dir: string;
  let cleanup: () => Promise<void>;
  const as = (url: string, args: string[]) => idplane(dir, args, { env: { IDPLANE_STATE_URL: url } });

  beforeAll(async () => {
    ({ dir, cleanup } = await copyExample('quickstart'));
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace(/^state:\n {2}backend: embedded.*\n/m, `state:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}\n`));
    expect(as(POSTGRES_URL, ['apply', '--auto-approve']).code).toBe(0);
    // The role of docs/state.md: USAGE on the schema, SELECT on its tables, nothing else.
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    await adminQuery(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await adminQuery(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
  }, 60_000);
  afterAll(async () => {
    await cleanup();
    await dropSchema(schema);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  });

  it('plans, saves the plan, checks it with apply --dry-run, reports drift, history and the state; apply itself is refused', async () => {
    const reader = readerUrl();
    const plan = as(reader, ['plan', '--out', 'pr.plan', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain('zoe.muller@example.com');
    const checked = as(reader, ['apply', 'pr.plan', '--dry-run', '--format', 'markdown']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('- ✓ **Reviewed effect**: 1 change(s), exactly as the pull request\'s plan shows them');
    expect(checked.stdout).not.toContain('zoe.muller');
    expect(as(reader, ['drift']).code).toBe(0);
    expect(as(reader, ['history']).stdout).toContain('apply');
    expect(as(reader, ['state', 'list']).stdout).toContain('51 user(s), state serial 1');
    expect(as(reader, ['state', 'show', 'zoe.muller@example.com']).stdout).toContain('zoe.muller@example.com');

    const refused = as(reader, ['apply', 'pr.plan']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Error: the role in the state URL may not change the PostgreSQL state at ');
    expect(refused.stderr).toContain('(permission denied for table ');
    expect(refused.stderr).not.toContain('Internal error');
    const after = JSON.parse(as(POSTGRES_URL, ['state', 'list', '--format', 'json']).stdout) as { serial: number };
    expect(after.serial).toBe(1);
    expect(as(POSTGRES_URL, ['apply', 'pr.plan']).code).toBe(0);
  });
});
