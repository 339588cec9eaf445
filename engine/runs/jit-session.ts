/**
 * The directory a JIT run plans against, kept between runs: the stored state and its indexes
 * (reconciler/directory-index.ts), so that a sign-in on a million-user directory reads and scans nothing.
 * `current` asks the store for its head (lineage, serial, digest: one small query) and uses what it holds
 * while that is still the stored state; otherwise (the first run, or after another run wrote: an apply,
 * a scheduled import, another process) it reads the state and indexes it again, once, however many runs
 * ask at the same time. `commit` writes a JIT plan as a state delta (StateStore.writeDelta, with its
 * journal entries and its finished run record, one transaction), then changes the held state and its
 * indexes the same way, so both stay the stored state. `idplane serve` keeps one session for its life;
 * `idplane jit` and the library make one per run.
 */
import { randomUUID } from 'node:crypto';
import type { Plan } from '../../schemas/generated/plan.ts';
import { DirectoryIndex } from '../../reconciler/directory-index.ts';
import { stateDelta } from '../../reconciler/state-delta.ts';
import { crashPoint } from '../../state/crash-point.ts';
import type { RunRecord } from '../../state/types.ts';
import type { Progress } from '../progress.ts';
import type { Workspace } from '../workspace.ts';
import { directoryChanges, runRecord } from './run-log.ts';

export class JitSession {
  private index: DirectoryIndex | null = null;
  private loading: Promise<DirectoryIndex> | null = null;

  /** The stored state and its indexes, read and indexed again only when the stored state moved. */
  async current(ws: Workspace, progress: Progress): Promise<DirectoryIndex> {
    if (this.loading) return this.loading;
    const held = this.index;
    if (held) {
      const head = await ws.store.head();
      if (head.digest === held.state.digest && head.serial === held.state.serial && head.lineage === held.state.lineage) return held;
    }
    this.index = null;
    this.loading = (async () => {
      const reading = progress.start('reading the state', 'users');
      const state = await ws.store.read({ onProgress: (done, total, unit) => reading.update(done, total, unit) });
      reading.finish(state.users.length);
      const indexing = progress.start('indexing the directory', 'users');
      const index = new DirectoryIndex(ws.project, state);
      indexing.finish(state.users.length);
      return index;
    })();
    try {
      return (this.index = await this.loading);
    } finally {
      this.loading = null;
    }
  }

  /**
   * Carries out a JIT plan (its directory changes; a JIT plan has no account changes) under the lock
   * the caller holds: one write of the delta, its journal and its run, recorded as `command`.
   */
  async commit(ws: Workspace, index: DirectoryIndex, plan: Plan, command: string): Promise<RunRecord> {
    const before = index.state;
    const delta = stateDelta(before, plan, randomUUID());
    const run = await runRecord(ws, command, before.serial);
    const finished: RunRecord = { ...run, serialAfter: delta.serial, summary: plan.summary, outcome: 'succeeded', finishedAt: new Date().toISOString() };
    let seq = 0;
    const changes = directoryChanges(plan, { run, nextSeq: () => seq++ });
    // Whatever happens next, the held state may no longer be the stored one until this write is known.
    this.index = null;
    const digest = await ws.store.writeDelta(delta, { lineage: before.lineage, serial: before.serial, digest: before.digest }, changes, finished);
    index.apply(delta);
    index.state.digest = digest;
    this.index = index;
    crashPoint('after-directory');
    return finished;
  }
}
