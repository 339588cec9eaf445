/**
 * Bad input at scale, through the real CLI: a million-row HR export with a malformed row in the middle,
 * and an input too large for the heap the process is given. (How fast such runs are is measured by
 * the benchmark harness, bench/, never here.)
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../state/embedded/store.ts';
import { copyExample, idplaneAsync } from './cli-helpers.ts';
import { copyHrExport } from './fixtures.ts';

const MILLION = 1_000_000;

async function quickstartWith(users: number): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const copy = await copyExample('quickstart');
  await copyHrExport(users, join(copy.dir, 'data/hr.csv'));
  return copy;
}

/** Each user's status, by login, as the stored directory holds them (read through the store, not a million-line listing). */
async function statuses(dir: string): Promise<Map<string, string>> {
  const store = new EmbeddedStore({ dir: join(dir, '.idplane') });
  try {
    return new Map((await store.read()).users.map((u) => [u.login, u.status]));
  } finally {
    await store.close();
  }
}

/** Replaces data lines (1-based line numbers of the file, the header being line 1). */
async function editLines(file: string, edits: Map<number, (line: string) => string>): Promise<string[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const before: string[] = [];
  for (const [n, edit] of edits) {
    before.push(lines[n - 1]!);
    lines[n - 1] = edit(lines[n - 1]!);
  }
  await writeFile(file, lines.join('\n'));
  return before;
}

describe('a malformed row in the middle of a million-row export', () => {
  let project: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    project = await quickstartWith(MILLION);
  }, 120_000);
  afterAll(() => project.cleanup());

  it('loads every good row, reports the bad one with its line and deactivates nobody', async () => {
    const first = await idplaneAsync(project.dir, ['apply', '--auto-approve'], { env: { IDPLANE_TIMINGS: '1' }, discardStdout: true });
    expect(first.stderr).toMatch(/reading hr: 1,000,000 accounts/);
    expect(first.code).toBe(0);

    const hr = join(project.dir, 'data/hr.csv');
    const middle = MILLION / 2 + 1; // the file's line 500,001: employee 500,000
    const late = MILLION - 10; // a row after the bad one, changed: it still counts
    const [broken, changed] = await editLines(hr, new Map([
      [middle, (line) => `${line},an extra field`],
      [late, (line) => line.replace(/^([^,]*,[^,]*,)([^,]*)/, '$1Renamed')],
    ]));
    const brokenKey = broken!.split(',')[0]!;
    const changedKey = changed!.split(',')[0]!;
    const statusBefore = await statuses(project.dir);

    const plan = await idplaneAsync(project.dir, ['plan', '--format', 'json'], { env: { IDPLANE_TIMINGS: '1' } });
    expect(plan.code).toBe(0);
    const parsed = JSON.parse(plan.stdout) as {
      summary: { users: Record<string, number> };
      users: { action: string; after: { profile: Record<string, string> }; attributes: Record<string, { from?: string; to?: string }> }[];
      warnings: { code: string; app?: string; line?: number; key?: string; message: string }[];
      applyable: boolean;
    };
    // The bad row: reported with its line and why; its account is kept as stored, not taken as gone.
    expect(parsed.warnings).toContainEqual(expect.objectContaining({ code: 'row-error', app: 'hr', line: middle, key: brokenKey, message: expect.stringMatching(/wrong number of fields: expect 11, got 12/) }));
    // Every good row was read: the row changed after the bad one is the one change, and nobody goes.
    expect(parsed.users).toHaveLength(1);
    expect(parsed.users[0]).toMatchObject({ action: 'update', after: { profile: { employeeNumber: changedKey, lastName: 'Renamed' } } });
    expect(Object.keys(parsed.users[0]!.attributes)).toEqual(['lastName', 'displayName']);
    expect(parsed.summary.users).toMatchObject({ create: 0, update: 1, deactivate: 0, suspend: 0 });
    expect(parsed.applyable).toBe(true);

    const apply = await idplaneAsync(project.dir, ['apply', '--auto-approve']);
    expect(apply.code).toBe(0);
    const after = await statuses(project.dir);
    expect(after.size).toBe(MILLION + 1); // and the declared break-glass admin
    expect([...after].filter(([login, status]) => statusBefore.get(login) !== status)).toEqual([]);
  }, 600_000);
});

describe('an input too large for the heap', () => {
  let project: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    project = await quickstartWith(100_000);
  }, 60_000);
  afterAll(() => project.cleanup());

  it('stops with the limit it reached and how to raise it, not with a crash of the engine', async () => {
    const small = { NODE_OPTIONS: '--max-old-space-size=128' };
    const plan = await idplaneAsync(project.dir, ['plan'], { env: small });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/^Error: out of memory while \w+ \([\d,]+ of [\d,]+ \w+ so far\): the JavaScript heap holds \d+ MiB of live data, and its limit is 128 MiB, of which 64 MiB stays free for young objects moving in at once; idplane stopped before the engine would have aborted\. Raise the limit with NODE_OPTIONS=--max-old-space-size=1024 /m);
    expect(plan.stderr).not.toMatch(/FATAL ERROR|Native stack trace/);

    const json = await idplaneAsync(project.dir, ['plan', '--format', 'json'], { env: small });
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'MEMORY_LIMIT', message: expect.stringContaining('--max-old-space-size=') } });

    // An apply stopped this way writes nothing; with the heap it needs the same apply then goes through.
    const stopped = await idplaneAsync(project.dir, ['apply', '--auto-approve'], { env: small });
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/out of memory while/);
    await expect(stat(join(project.dir, '.idplane/state.db'))).rejects.toThrow(/ENOENT/);
    const done = await idplaneAsync(project.dir, ['apply', '--auto-approve']);
    expect(done.code).toBe(0);
  }, 120_000);
});
