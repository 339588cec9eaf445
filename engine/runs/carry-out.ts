/**
 * Carries out an approved plan, journaled and in order, under a lock the caller holds: record the run;
 * write the directory changes atomically together with their journal entries; then, target by target,
 * journal each account change as pending, write it, and journal its result; record what the targets did
 * (links, write-back records) in a second atomic write; finish the run with its outcome. A kill at any
 * point leaves a state the next plan converges from: the directory is whole, and an account created but
 * not recorded is found again by its key or match rule, never created twice.
 */
import { randomUUID } from 'node:crypto';
import type { Plan } from '../../schemas/generated/plan.ts';
import { applyPlanToState, applyTargetResults } from '../../reconciler/apply-plan.ts';
import type { DirectoryState } from '../../reconciler/model.ts';
import { applyTargets, type ChangeResult } from '../../providers/write-targets.ts';
import { crashPoint, pausePoint } from '../../state/crash-point.ts';
import type { Progress } from '../progress.ts';
import { accountChanges, directoryChanges, startRun } from './run-log.ts';
import type { Workspace } from '../workspace.ts';

export interface Outcome {
  state: DirectoryState;
  results: ChangeResult[];
}

export async function carryOut(ws: Workspace, state: DirectoryState, plan: Plan, command: string, progress: Progress): Promise<Outcome> {
  const log = await startRun(ws.store, command, ws.dir, ws.fingerprint, state.serial);
  try {
    const writing = progress.start('writing the state', 'users');
    const next = applyPlanToState(state, plan, randomUUID());
    await ws.store.write(next, { lineage: state.lineage, serial: state.serial, digest: state.digest }, directoryChanges(plan, log));
    writing.finish(next.users.length);
    crashPoint('after-directory');
    await pausePoint('after-directory');
    const { state: final, results } = await pushToTargets(ws, next, plan, log, progress);
    const failed = results.filter((r) => r.outcome === 'failed').length;
    await log.finish({
      outcome: failed === 0 ? 'succeeded' : 'partial', serialAfter: final.serial, summary: plan.summary,
      message: failed === 0 ? null : `${failed} account change(s) failed`,
    });
    return { state: final, results };
  } catch (error) {
    await log.finish({ outcome: 'failed', message: error instanceof Error ? error.message : String(error) }).catch(() => {});
    throw error;
  }
}

/** Targets after the directory; what they did is recorded in a second atomic write. */
async function pushToTargets(ws: Workspace, state: DirectoryState, plan: Plan, log: Awaited<ReturnType<typeof startRun>>, progress: Progress): Promise<Outcome> {
  if (plan.accounts.length === 0) return { state, results: [] };
  await ws.store.journal(accountChanges(plan, log));
  const task = progress.start('pushing to targets', 'apps', { guarded: false });
  const apps = new Set(plan.accounts.map((a) => a.app)).size;
  let done = 0;
  const results = await applyTargets(ws.project, ws.dir, plan.accounts, {
    before: () => task.update(done, apps),
    after: () => {
      task.update(++done, apps);
      crashPoint('mid-target');
    },
  });
  task.finish();
  await ws.store.journal(accountChanges(plan, log, results));
  const writeBack = new Set(Object.values(ws.project.apps).filter((a) => a.import && a.provision).map((a) => a.name));
  const next = applyTargetResults(state, plan, results, writeBack);
  if (next !== state) await ws.store.write(next, { lineage: state.lineage, serial: state.serial });
  return { state: next, results };
}
