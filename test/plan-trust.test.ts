/**
 * A saved plan is a CI artifact: anyone who can touch it between the plan job and the apply job could
 * edit it. Apply recomputes the plan and refuses any difference the data does not explain, and checks the signature when the
 * config sets a key. Each part of a real plan is tampered with here, on both state backends, and each
 * is refused with its reason, nothing written; the untampered plan then still applies.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';
import { describePostgres, dropSchema, freshSchema, POSTGRES_URL } from './postgres-helpers.ts';

type Line = { t: string; v: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

async function readLines(file: string): Promise<Line[]> {
  return zstdDecompressSync(await readFile(file)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}

/** Writes `lines` as a plan stream (uncompressed: apply reads both), with the end line's counts made right. */
async function writeLines(file: string, lines: Line[]): Promise<void> {
  const end = lines.find((l) => l.t === 'end')!;
  for (const t of Object.keys(end.v.counts)) end.v.counts[t] = lines.filter((l) => l.t === t).length;
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

function trustSuite(backend: 'embedded' | 'postgres') {
  let dir: string;
  let cleanup: () => Promise<void>;
  const schema = freshSchema();
  const env = { env: { IDPLANE_STATE_URL: POSTGRES_URL } };
  const run = (args: string[]) => idplane(dir, args, env);
  const base = () => join(dir, 'base.plan');
  const stateList = () => run(['state', 'list', '--format', 'json']).stdout;
  let before: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await copyExample('provisioning'));
    if (backend === 'postgres') {
      const config = join(dir, 'idplane.yaml');
      await writeFile(config, `${await readFile(config, 'utf8')}\nstate:\n  backend: postgres\n  url: \${env:IDPLANE_STATE_URL}\n  schema: ${schema}\n`);
    }
    expect(run(['apply', '--auto-approve']).code).toBe(0);
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    expect(run(['plan', '--out', 'base.plan']).code).toBe(0);
    before = stateList();
  });
  afterAll(async () => {
    await cleanup();
    if (backend === 'postgres') await dropSchema(schema);
  });

  /** Applies `base.plan` edited by `edit`, expecting a refusal with `code` and text matching `reason`. */
  async function refused(edit: (lines: Line[]) => void, code: string, reason: RegExp | string): Promise<void> {
    const lines = await readLines(base());
    edit(lines);
    const file = join(dir, 'tampered.plan');
    await writeLines(file, lines);
    const r = run(['apply', 'tampered.plan', '--format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const error = JSON.parse(r.stderr).error as { code: string; message: string };
    expect(error.code).toBe(code);
    if (typeof reason === 'string') expect(error.message).toContain(reason);
    else expect(error.message).toMatch(reason);
    expect(error.message).not.toContain('Principal'); // names the place, never the values
    expect(stateList()).toBe(before);
  }
  const user = (lines: Line[]) => lines.find((l) => l.t === 'user')!.v;
  const account = (lines: Line[]) => lines.find((l) => l.t === 'account' && l.v.app === 'salesforce')!.v;

  it('plans one user update and its salesforce account update', async () => {
    const lines = await readLines(base());
    expect(user(lines)).toMatchObject({ action: 'update', login: 'zoe.muller@example.com' });
    expect(account(lines)).toMatchObject({ action: 'update', key: 'zoe.muller@example.com' });
  });

  it('refuses an edited value, naming the user and the attribute', async () => {
    await refused((l) => (user(l).after.profile.title = 'Chief Executive Officer'), 'PLAN_MISMATCH', 'the update of user zoe.muller@example.com differs at after.profile.title');
  });

  it('refuses a role the config does not give, saying so', async () => {
    await refused((l) => (user(l).after.roles = ['super_admin']), 'PLAN_MISMATCH', "breaks the config's own rules: it gives zoe.muller@example.com the role super_admin, which the config does not give them");
  });

  it('refuses an edited action', async () => {
    await refused((l) => (account(l).action = 'delete'), 'PLAN_MISMATCH', 'the delete of salesforce account zoe.muller@example.com (user zoe.muller@example.com) differs at action');
  });

  it('refuses an edited key', async () => {
    await refused((l) => (account(l).key = 'amara.okafor@example.com'), 'PLAN_MISMATCH', 'where the recomputed plan has the update of salesforce account zoe.muller@example.com');
  });

  it('refuses an edited summary', async () => {
    await refused((l) => (l[0]!.v.summary.users.update = 0), 'PLAN_MISMATCH', 'its header differs at summary.users.update');
  });

  it('refuses an edited value behind an edited input fingerprint, since the user\'s inputs did not change; and another config as stale', async () => {
    // Data that moved since is no reason to refuse, but each user whose inputs are the same must get
    // exactly the saved changes: marking the data as moved lets nothing through.
    await refused((l) => {
      l[0]!.v.fingerprints.inputs.hr = `sha256:${'0'.repeat(64)}`;
      user(l).after.profile.title = 'Chief Executive Officer';
    }, 'PLAN_MISMATCH', 'not what the config produces now for users whose inputs did not change since it was made: 1 change(s) differ, the first: the update of user zoe.muller@example.com differs at after.profile.title');
    await refused((l) => (l[0]!.v.fingerprints.config = `sha256:${'0'.repeat(64)}`), 'PLAN_STALE', 'it was made from another config');
  });

  it('refuses a line added or left out', async () => {
    await refused((l) => {
      const extra = structuredClone(l.find((x) => x.t === 'user')!);
      Object.assign(extra.v, { id: 'evil', login: 'evil@example.com' });
      l.splice(l.indexOf(l.find((x) => x.t === 'user')!) + 1, 0, extra);
    }, 'PLAN_MISMATCH', /it has the update of user evil@example\.com|the update of user evil@example\.com, which the config and inputs do not produce/);
    await refused((l) => l.splice(l.findIndex((x) => x.t === 'account'), 1), 'PLAN_MISMATCH', /where the recomputed plan has the update of (salesforce|hr) account|it leaves out/);
  });

  it('applies the untampered plan after a target changed since: an account change the target made different is a data change of it', async () => {
    const sf = join(dir, 'data/salesforce.csv');
    const original = await readFile(sf, 'utf8');
    // Zoë's title already as planned: her planned account update is no longer what the config produces.
    // An attribute the plan does not write is edited by hand on another account: nothing to do with it.
    const zoe = original.split('\n').find((l) => l.startsWith('zoe.muller@example.com,'))!;
    const cells = zoe.split(',');
    cells[4] = 'Principal Engineer';
    await writeFile(sf, original.replace(zoe, cells.join(',')).replace('Standard User', 'Read Only'));
    const applied = run(['apply', 'base.plan', '--format', 'json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).review).toEqual({
      moved: true, reviewed: 1, records: 0,
      since: [{ userId: expect.any(String), login: 'zoe.muller@example.com', why: 'target', changes: 1 }],
    });
    expect(run(['plan', '--detailed-exitcode']).code).toBe(0);
  });
}

describe('apply PLANFILE verifies the plan (embedded state)', () => trustSuite('embedded'));
describePostgres('apply PLANFILE verifies the plan (PostgreSQL state)', () => trustSuite('postgres'));

describe('signed plans (plan.signingKey)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const KEY = 'k'.repeat(40);
  beforeAll(async () => {
    ({ dir, cleanup } = await copyExample('quickstart'));
  });
  afterAll(async () => cleanup());
  const withKey = (key: string) => ({ env: { IDPLANE_PLAN_KEY: key } });

  it('signs with the key, and apply refuses unsigned, re-signed or edited plans before anything else', async () => {
    expect(idplane(dir, ['plan', '--out', 'unsigned.plan']).code).toBe(0);
    const config = join(dir, 'idplane.yaml');
    await writeFile(config, `${await readFile(config, 'utf8')}\nplan:\n  signingKey: \${env:IDPLANE_PLAN_KEY}\n`);

    const unsigned = idplane(dir, ['apply', 'unsigned.plan'], withKey(KEY));
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('unsigned.plan is not signed, but the config sets plan.signingKey');

    expect(idplane(dir, ['plan', '--out', 'signed.plan'], withKey(KEY)).code).toBe(0);
    const lines = await readLines(join(dir, 'signed.plan'));
    expect(lines.at(-1)!.v.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // `show` needs no key.
    expect(idplane(dir, ['show', 'signed.plan']).stdout).toContain('Plan: 51 to create');

    const otherKey = idplane(dir, ['apply', 'signed.plan'], withKey('x'.repeat(40)));
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toContain("signed.plan's signature does not match its content under plan.signingKey");

    // An edit that keeps the plan what the inputs produce (only its creation time) still breaks the signature.
    lines[0]!.v.created_at = '2020-01-01T00:00:00.000Z';
    await writeLines(join(dir, 'edited.plan'), lines);
    const edited = idplane(dir, ['apply', 'edited.plan'], withKey(KEY));
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain("edited.plan's signature does not match its content");

    const short = idplane(dir, ['plan', '--out', 'short.plan'], withKey('too-short'));
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('plan.signingKey is 9 characters long; use a random secret of at least 32');
    expect(short.stderr).not.toContain('too-short');

    expect(idplane(dir, ['state', 'list'], withKey(KEY)).stdout).toContain('The directory is empty');
    const applied = idplane(dir, ['apply', 'signed.plan'], withKey(KEY));
    expect(applied.code, applied.stderr).toBe(0);
  });
});
