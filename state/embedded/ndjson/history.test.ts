/**
 * The reader of the former history.ndjson: compact and object change lines, committed writes only, runs
 * as last recorded, a line cut short, a missing file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeRecord, RunRecord } from '../../types.ts';
import { legacyHistoryText } from './fixture.ts';
import { eachLegacyChange, readLegacyRuns } from './history.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-history-'));
  file = join(dir, 'history.ndjson');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const run = (id: string, startedAt: string, outcome: RunRecord['outcome'] = 'succeeded'): RunRecord => ({
  id, command: 'apply', who: 'alice', host: 'h', startedAt, finishedAt: null, configFingerprint: 'sha256:c', gitCommit: null,
  serialBefore: 0, serialAfter: 1, summary: null, outcome, message: null,
});
const change = (runId: string, seq: number, login: string, attributes: ChangeRecord['attributes']): ChangeRecord => ({
  runId, seq, at: '2026-12-01T00:00:00.000Z', kind: 'user', action: 'create', userId: `id-${login}`, login, app: null, key: null, attributes, outcome: 'done', message: null,
});

async function changesOf(committed: ReadonlySet<string>): Promise<ChangeRecord[]> {
  const all: ChangeRecord[] = [];
  expect(await eachLegacyChange(file, committed, (c) => all.push(c))).toBe(all.length);
  return all;
}

describe('the former embedded journal (history.ndjson)', () => {
  it('reads compact change lines back exactly, out-of-band marks included', async () => {
    const created = change('r1', 0, 'zoë@example.com', { name: { from: null, to: 'Zoë "Z" Müller' }, n: { from: null, to: 3 }, groups: { from: null, to: ['a', 'b'] } });
    const restored = { ...change('r1', 1, 'al@example.com', { title: { from: 'Hacker', to: 'Engineer', outOfBand: true } }), action: 'update' };
    const link = { ...change('r1', 2, 'al@example.com', null), kind: 'link' as const, action: 'link', app: 'hr', key: '1001' };
    await writeFile(file, legacyHistoryText([{ run: run('r1', '2026-12-01T00:00:00Z') }, ...[created, restored, link].map((c) => ({ change: c, commit: 'token-1' })), { commit: 'token-1' }]));
    const { runs, committed } = await readLegacyRuns(file, null);
    expect(runs).toEqual([run('r1', '2026-12-01T00:00:00Z')]);
    expect(await changesOf(committed)).toEqual([created, restored, link]);
  });

  it('reads the object lines earlier versions wrote, beside the compact ones', async () => {
    const old = change('r1', 0, 'old@example.com', { a: { from: null, to: 'x' } });
    const compact = change('r1', 1, 'new@example.com', null);
    await writeFile(file, `${JSON.stringify({ t: 'change', ...old })}\n${legacyHistoryText([{ change: compact }])}`);
    expect(await changesOf(new Set())).toEqual([old, compact]);
  });

  it('keeps only changes of committed writes (a commit line, or the state header\'s token), and each run as last recorded in its first place', async () => {
    await writeFile(file, legacyHistoryText([
      { run: run('r1', '2026-12-01T00:00:00Z', 'running') },
      { run: run('r2', '2026-12-02T00:00:00Z') },
      { change: change('r1', 0, 'a', null), commit: 'w1' }, { commit: 'w1' },
      { change: change('r1', 1, 'lost', null), commit: 'w-died' },
      { change: change('r2', 0, 'b', null), commit: 'w-head' },
      { change: change('r2', 1, 'target', null) },
      { run: run('r1', '2026-12-01T00:00:00Z', 'partial') },
    ]) + '["c", "cut short by a cra');
    const { runs, committed } = await readLegacyRuns(file, 'w-head');
    expect(runs.map((r) => [r.id, r.outcome])).toEqual([['r1', 'partial'], ['r2', 'succeeded']]);
    expect((await changesOf(committed)).map((c) => c.login)).toEqual(['a', 'b', 'target']);
  });

  it('reads a missing file as no history', async () => {
    expect(await readLegacyRuns(join(dir, 'none.ndjson'), null)).toEqual({ runs: [], committed: new Set() });
    expect(await eachLegacyChange(join(dir, 'none.ndjson'), new Set(), () => {})).toBe(0);
  });
});
