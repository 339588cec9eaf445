import { describe, expect, it } from 'vitest';
import { LockHeldError } from '../state/types.ts';
import { ServeMetrics } from './metrics.ts';
import { Runner, ShuttingDown } from './runner.ts';

function setup() {
  const metrics = new ServeMetrics();
  const lines: string[] = [];
  return { metrics, lines, runner: new Runner(metrics, (l) => lines.push(l)) };
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

async function value(metrics: ServeMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values as { labels: Record<string, string>; value: number }[] | undefined)?.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('Runner', () => {
  it('runs one at a time, in the order asked', async () => {
    const { runner } = setup();
    const order: string[] = [];
    const gate = deferred();
    const first = runner.run('hr', 'schedule', async () => {
      order.push('first starts');
      await gate.promise;
      order.push('first ends');
    }, () => ({ outcome: 'applied' }));
    const second = runner.run('hr', 'jit', async () => {
      order.push('second');
      return 42;
    }, () => ({ outcome: 'unchanged' }));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['first starts']);
    expect(runner.current).toMatchObject({ app: 'hr', kind: 'schedule' });
    gate.resolve();
    await first;
    expect(await second).toBe(42);
    expect(order).toEqual(['first starts', 'first ends', 'second']);
    expect(runner.current).toBeNull();
  });

  it('counts outcomes, changes and failures, and logs one line a run without personal data', async () => {
    const { runner, metrics, lines } = setup();
    metrics.declare('hr', 'jit');
    await runner.run('hr', 'schedule', async () => null, () => ({ outcome: 'applied', userChanges: 3, accountChanges: 2, failures: 1 }));
    await runner.run('hr', 'jit', async () => null, () => ({ outcome: 'blocked', notes: ['1 refused (the account conflicts with the directory)'] }));
    await runner.run('hr', 'jit', async () => null, () => ({ outcome: 'unchanged', silent: true }));
    await expect(runner.run('hr', 'jit', async () => { throw new LockHeldError({ id: 'L1', operation: 'apply', who: 'ci', host: 'h', pid: 1, created: '' }, 'x'); }, () => ({ outcome: 'applied' }))).rejects.toThrow(LockHeldError);
    await expect(runner.run('hr', 'schedule', async () => { throw new Error('hr: data/hr.csv: no such file'); }, () => ({ outcome: 'applied' }))).rejects.toThrow('no such file');
    expect(await value(metrics, 'idplane_runs_total', { app: 'hr', kind: 'schedule', outcome: 'applied' })).toBe(1);
    expect(await value(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'blocked' })).toBe(1);
    expect(await value(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'locked' })).toBe(1);
    expect(await value(metrics, 'idplane_runs_total', { app: 'hr', kind: 'jit', outcome: 'unchanged' })).toBe(0);
    expect(await value(metrics, 'idplane_changes_total', { app: 'hr', kind: 'schedule', type: 'account' })).toBe(2);
    // One failed account change, and one failed run.
    expect(await value(metrics, 'idplane_failures_total', { app: 'hr', kind: 'schedule' })).toBe(2);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/ schedule hr: applied \(3 user change\(s\), 2 account change\(s\), 1 failed\) in [\d.]+ s$/);
    expect(lines[1]).toMatch(/ jit hr: blocked in [\d.]+ s: 1 refused \(the account conflicts with the directory\)$/);
    expect(lines[2]).toMatch(/ jit hr: locked in [\d.]+ s: the state lock is held by apply \(lock id L1\)$/);
    expect(lines[3]).toMatch(/ schedule hr: failed in [\d.]+ s: hr: data\/hr.csv: no such file$/);
    expect(runner.lastRun('hr', 'jit')).toMatchObject({ outcome: 'locked' });
  });

  it('stop() waits for the run going on, and refuses runs queued or asked for after it', async () => {
    const { runner } = setup();
    const gate = deferred();
    let finished = false;
    const going = runner.run('hr', 'schedule', async () => {
      await gate.promise;
      finished = true;
    }, () => ({ outcome: 'applied' }));
    const queued = runner.run('hr', 'jit', async () => 'ran', () => ({ outcome: 'applied' }));
    await new Promise((r) => setTimeout(r, 10));
    const stopped = runner.stop();
    expect(runner.stopped).toBe(true);
    await expect(runner.run('hr', 'jit', async () => 'ran', () => ({ outcome: 'applied' }))).rejects.toThrow(ShuttingDown);
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    gate.resolve();
    await stopped;
    await going;
    expect(finished).toBe(true);
    await expect(queued).rejects.toThrow(ShuttingDown);
  });
});
