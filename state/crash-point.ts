/**
 * Fault injection for the crash-safety tests. When IDPLANE_CRASH_AT names this point, the process kills
 * itself with SIGKILL right here, exactly as an OOM kill or a pulled plug would. When IDPLANE_PAUSE_AT
 * names it, the process says "paused at <point>" on stderr and sleeps a few seconds, so a test can cut
 * its database connections meanwhile. Unset, both do nothing.
 * Points: state-write (state written, not yet committed), after-directory (directory committed, no
 * target touched), mid-target (first target written, its results not recorded).
 */
export type CrashPoint = 'state-write' | 'after-directory' | 'mid-target';

export function crashPoint(name: CrashPoint): void {
  if (process.env.IDPLANE_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}

export async function pausePoint(name: CrashPoint): Promise<void> {
  if (process.env.IDPLANE_PAUSE_AT !== name) return;
  process.stderr.write(`paused at ${name}\n`);
  await new Promise((resolve) => setTimeout(resolve, 3000));
}
