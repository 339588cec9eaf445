import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeRecord, RunRecord } from '../types.ts';
import { appendHistory, changeLines, commitLine, readHistory, runLine } from './history.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-history-'));
  file = join(dir, 'history.ndjson');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const run = (id: string, startedAt: string): RunRecord => ({
  id, command: 'apply', who: 'alice', host: 'h', startedAt, finishedAt: null, configFingerprint: 'sha256:c', gitCommit: null,
  serialBefore: 0, serialAfter: 1, summary: null, outcome: 'succeeded', message: null,
});
const change = (runId: string, seq: number, login: string, attributes: ChangeRecord['attributes']): ChangeRecord => ({
  runId, seq, at: '2026-12-01T00:00:00.000Z', kind: 'user', action: 'create', userId: `id-${login}`, login, app: null, key: null, attributes, outcome: 'done', message: null,
});

describe('the embedded journal', () => {
  it('writes a change as one compact line and reads it back exactly, out-of-band marks included', async () => {
    const created = change('r1', 0, 'zoë@example.com', { name: { from: null, to: 'Zoë "Z" Müller' }, n: { from: null, to: 3 }, groups: { from: null, to: ['a', 'b'] } });
    const restored = { ...change('r1', 1, 'al@example.com', { title: { from: 'Hacker', to: 'Engineer', outOfBand: true } }), action: 'update' };
    const link = { ...change('r1', 2, 'al@example.com', null), kind: 'link' as const, action: 'link', app: 'hr', key: '1001' };
    await appendHistory(file, [runLine(run('r1', '2026-12-01T00:00:00Z')), ...changeLines([created, restored, link], 'token-1'), commitLine('token-1')]);
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[1]).toBe(JSON.stringify(['c', 'token-1', 'r1', 0, created.at, 'user', 'create', 'id-zoë@example.com', 'zoë@example.com', null, null, 'done', null, [['name', null, 'Zoë "Z" Müller'], ['n', null, 3], ['groups', null, ['a', 'b']]]]));
    expect((await readHistory(file, null)).changes).toEqual([created, restored, link]);
  });

  it('reads the object lines earlier versions wrote, beside the compact ones', async () => {
    const old = change('r0', 0, 'old@example.com', { title: { from: null, to: 'Engineer' } });
    await writeFile(file, [JSON.stringify({ t: 'run', ...run('r0', '2026-11-01T00:00:00Z') }), JSON.stringify({ t: 'change', commit: 'k0', ...old }), JSON.stringify({ t: 'commit', commit: 'k0' })].join('\n') + '\n');
    const fresh = change('r1', 0, 'new@example.com', null);
    await appendHistory(file, [runLine(run('r1', '2026-12-01T00:00:00Z')), ...changeLines([fresh])]);
    const history = await readHistory(file, null);
    expect(history.runs.map((r) => r.id)).toEqual(['r1', 'r0']);
    expect(history.changes).toEqual([old, fresh]);
  });

  it('keeps only committed changes, only of the runs asked for, and of one login when asked', async () => {
    const lines = [
      runLine(run('r1', '2026-12-01T00:00:01Z')), ...changeLines([change('r1', 0, 'a@x', null), change('r1', 1, 'B@x', null)], 'k1'), commitLine('k1'),
      runLine(run('r2', '2026-12-01T00:00:02Z')), ...changeLines([change('r2', 0, 'b@x', null)], 'k2'), // never committed: the write died
      runLine(run('r3', '2026-12-01T00:00:03Z')), ...changeLines([change('r3', 0, 'c@x', null)], 'head'),
    ];
    await appendHistory(file, lines);
    const all = await readHistory(file, 'head');
    expect(all.changes.map((c) => `${c.runId}/${c.login}`)).toEqual(['r1/a@x', 'r1/B@x', 'r3/c@x']);
    expect((await readHistory(file, 'head', { limit: 1 })).changes.map((c) => c.runId)).toEqual(['r3']);
    const b = await readHistory(file, 'head', { login: 'b@X' });
    expect(b.runs.map((r) => r.id)).toEqual(['r1']);
    expect(b.changes.map((c) => c.login)).toEqual(['B@x']);
  });
});
