/**
 * The drift run (SPEC §5): plans against the live directory and targets and reports what changed behind
 * idplane's back: sourced attributes edited in the directory, target accounts edited, gone or
 * unmanaged, users whose source account vanished, and the apps that could not be read (so not
 * checked). It changes nothing and takes no lock.
 */
import { computeDrift, type DriftReport } from '../../reconciler/drift.ts';
import { atBoundary } from '../boundary.ts';
import { inspectWorkspace, readState, withWorkspace } from '../workspace.ts';
import { runContext, type RunOptions } from './run-options.ts';

export interface DriftResult {
  report: DriftReport;
  /** The state's lineage: the salt that masks personal data in a shared report. */
  lineage: string | null;
}

export async function drift(options: RunOptions): Promise<DriftResult> {
  const { progress, open } = runContext(options);
  return atBoundary(() => withWorkspace(options.dir, async (ws) => {
    const state = await readState(ws, progress);
    const { plan, targets } = await inspectWorkspace(ws, state, progress);
    return { report: computeDrift(plan, state, targets), lineage: state.lineage };
  }, open));
}
