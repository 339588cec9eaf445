/**
 * Fault injection for the crash-safety tests: when IDPLANE_CRASH_AT names this point, the process kills
 * itself with SIGKILL right here, exactly as an OOM kill or a pulled plug would. Unset, it does nothing.
 * Points: state-write (temp file written, not yet renamed), after-directory (directory committed, no
 * target touched), mid-target (first target written, its results not recorded).
 */
export function crashPoint(name: 'state-write' | 'after-directory' | 'mid-target'): void {
  if (process.env.IDPLANE_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
