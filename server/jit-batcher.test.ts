import { describe, expect, it } from 'vitest';
import type { Workspace } from '../engine/workspace.ts';
import { JitSession } from '../engine/runs/jit-session.ts';
import { JitBatcher, QueueTimeout } from './jit-batcher.ts';
import { ServeMetrics } from './metrics.ts';
import { Runner, ShuttingDown } from './runner.ts';

describe('JitBatcher', () => {
  it('answers a request whose batch did not start in time with QueueTimeout, and then runs nothing for it', async () => {
    const lines: string[] = [];
    const runner = new Runner(new ServeMetrics(), (l) => lines.push(l));
    let release!: () => void;
    const slow = runner.run('hr', 'schedule', () => new Promise<void>((r) => (release = r)), () => ({ outcome: 'unchanged' }));
    // The workspace is never used: the request leaves before its batch starts.
    const batcher = new JitBatcher({ ws: {} as Workspace, runner, maxWaitMs: 30, session: new JitSession() });
    await expect(batcher.submit('hr', { employee_id: '1' })).rejects.toBeInstanceOf(QueueTimeout);
    release();
    await slow;
    await runner.stop();
    // The schedule's line only: the emptied batch is neither counted nor logged.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ schedule hr: unchanged /);
  });

  it('answers the requests waiting when the server stops with ShuttingDown', async () => {
    const runner = new Runner(new ServeMetrics(), () => {});
    let release!: () => void;
    const slow = runner.run('hr', 'schedule', () => new Promise<void>((r) => (release = r)), () => ({ outcome: 'unchanged' }));
    const batcher = new JitBatcher({ ws: {} as Workspace, runner, maxWaitMs: 60_000, session: new JitSession() });
    const waiting = batcher.submit('hr', { employee_id: '1' }).then(() => null, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10)); // the schedule's run has started
    const stopped = runner.stop();
    release();
    await slow;
    await stopped;
    expect(await waiting).toBeInstanceOf(ShuttingDown);
  });

  it('stop() answers the requests still waiting at once, without waiting for the run going on', async () => {
    const runner = new Runner(new ServeMetrics(), () => {});
    let release!: () => void;
    const slow = runner.run('hr', 'schedule', () => new Promise<void>((r) => (release = r)), () => ({ outcome: 'unchanged' }));
    const batcher = new JitBatcher({ ws: {} as Workspace, runner, maxWaitMs: 60_000, session: new JitSession() });
    const waiting = batcher.submit('hr', { employee_id: '1' }).then(() => null, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    batcher.stop();
    expect(await waiting).toBeInstanceOf(ShuttingDown); // while the schedule's run still goes on
    release();
    await slow;
    await runner.stop();
  });
});
