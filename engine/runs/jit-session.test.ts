/**
 * The JIT session on a real embedded store (a copy of examples/quickstart in a temporary folder): runs
 * after the first plan against the directory it holds, reading nothing but the store's head; a write by
 * anyone else (an apply) makes the next run read and index again; what the runs wrote is what a fresh
 * read finds, and each run is in the history with its changes.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SILENT } from '../observer.ts';
import { openWorkspace, type Workspace } from '../workspace.ts';
import { apply } from './apply.ts';
import { runJitBatch } from './jit.ts';
import { JitSession } from './jit-session.ts';

const QUICKSTART = new URL('../../examples/quickstart/', import.meta.url);
const person = (id: string, first: string, last: string) => ({
  employee_id: id, first_name: first, last_name: last, work_email: `${first}.${last}@example.com`.toLowerCase(), department: 'Sales', title: 'Rep',
  employment_type: 'Employee', status: 'Active', start_date: '2026-01-05', manager_id: '1001', phone: '',
});

let root: string;
let dir: string;
let ws: Workspace;
let reads: number;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'idplane-jit-session-'));
  dir = join(root, 'quickstart');
  await cp(QUICKSTART, dir, { recursive: true, filter: (source) => !source.includes('.idplane') });
  await apply({ dir });
  ws = await openWorkspace(dir, {});
  reads = 0;
  const read = ws.store.read.bind(ws.store);
  ws.store.read = (options) => {
    reads += 1;
    return read(options);
  };
});

afterEach(async () => {
  await ws.store.close();
  await rm(root, { recursive: true, force: true });
});

const run = (session: JitSession, accounts: Record<string, string>[]) => runJitBatch(ws, 'hr', accounts, { observer: SILENT, command: 'serve jit', session });

describe('a JIT session', () => {
  it('reads the directory once, then plans each run against what it holds', async () => {
    const session = new JitSession();
    const first = await run(session, [person('9001', 'Nia', 'Long')]);
    const second = await run(session, [person('9002', 'Ode', 'Bright'), { ...person('9001', 'Nia', 'Long'), last_name: 'Long-Smith' }]);
    expect(first).toMatchObject([{ action: 'create', login: 'nia.long@example.com' }]);
    expect(second).toMatchObject([{ action: 'create', login: 'ode.bright@example.com' }, { action: 'update', login: 'nia.long@example.com' }]);
    expect(reads).toBe(1);
    const stored = await (await openWorkspace(dir, {})).store.read();
    expect(stored.users.filter((u) => u.login === 'nia.long@example.com').map((u) => u.profile.lastName)).toEqual(['Long-Smith']);
    expect(stored.users).toHaveLength(53);
    const history = await ws.store.history();
    expect(history.runs.slice(0, 2).map((r) => [r.command, r.outcome, r.serialBefore, r.serialAfter])).toEqual([['serve jit', 'succeeded', 2, 3], ['serve jit', 'succeeded', 1, 2]]);
    expect(history.changes.filter((c) => c.runId === history.runs[0]!.id).map((c) => [c.kind, c.action, c.login])).toEqual([
      ['user', 'create', 'ode.bright@example.com'], ['user', 'update', 'nia.long@example.com'], ['link', 'link', 'ode.bright@example.com'],
    ]);
  });

  it('reads again after another run wrote, and never plans against a directory that moved', async () => {
    const session = new JitSession();
    await run(session, [person('9001', 'Nia', 'Long')]);
    // An apply elsewhere changes Zoë's title (and writes a new serial).
    const csv = join(dir, 'data/hr.csv');
    await writeFile(csv, (await readFile(csv, 'utf8')).replace('Staff Software Engineer', 'Principal Engineer'));
    await apply({ dir });
    const zoe = { employee_id: '1004', first_name: 'Zoë', last_name: 'Müller', work_email: 'zoe.muller@example.com', department: 'Engineering', title: 'Principal Engineer', employment_type: 'Employee', status: 'Active', start_date: '2017-06-05', manager_id: '1003', phone: '+1 415 555 0104' };
    // Her row as the apply imported it: nothing to change (against the directory held before, the title would be).
    expect(await run(session, [zoe])).toMatchObject([{ action: 'none', login: 'zoe.muller@example.com', change: null }]);
    expect(reads).toBe(2);
  });
});
