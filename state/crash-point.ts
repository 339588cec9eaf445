/**
 * Fault injection for the crash-safety and concurrency tests. When IDPLANE_CRASH_AT names this point, the
 * process kills itself with SIGKILL right here, exactly as an OOM kill or a pulled plug would. When
 * IDPLANE_PAUSE_AT names it, the process says "paused at <point>" on stderr and waits until the test
 * resumes it: with SIGUSR2 from another process, or resumePaused() in this one (whenPaused() tells an
 * in-process test that the point was reached). A test thus decides when the run goes on, after it has
 * done what it needed done meanwhile (cut database connections, edit an input, seed a target), never
 * after a guessed sleep. A pause nobody resumes ends after PAUSE_LIMIT_MS with a note, so a test that
 * failed never leaves a process waiting forever. Unset, both do nothing.
 * Points: after-lock (the lock taken, nothing read yet), state-write (state written, not yet committed),
 * after-directory (directory committed, no target touched), mid-target (first target written, its
 * results not recorded), migration (an embedded state of the former format converted into a new
 * database file, not yet put in place), backup (the online backup of the embedded state copied, not yet
 * put in place).
 */
export type CrashPoint = 'after-lock' | 'state-write' | 'after-directory' | 'mid-target' | 'migration' | 'backup';

/** How long a pause waits for its resume before it goes on by itself (a safety net, not a timing). */
export const PAUSE_LIMIT_MS = 120_000;

export function crashPoint(name: CrashPoint): void {
  if (process.env.IDPLANE_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}

const resumers = new Set<() => void>();
const watchers: { name: CrashPoint; reached: () => void }[] = [];

export async function pausePoint(name: CrashPoint): Promise<void> {
  if (process.env.IDPLANE_PAUSE_AT !== name) return;
  await new Promise<void>((resolve) => {
    const resume = () => {
      clearTimeout(limit);
      process.off('SIGUSR2', resume);
      resumers.delete(resume);
      resolve();
    };
    const limit = setTimeout(() => {
      process.stderr.write(`pause at ${name} was not resumed within ${PAUSE_LIMIT_MS / 1000} s; going on\n`);
      resume();
    }, PAUSE_LIMIT_MS);
    process.on('SIGUSR2', resume);
    resumers.add(resume);
    process.stderr.write(`paused at ${name}\n`);
    for (let i = watchers.length - 1; i >= 0; i--) {
      if (watchers[i]!.name === name) watchers.splice(i, 1)[0]!.reached();
    }
  });
}

/** Resolves when this process next reaches the pause point `name` (it is then waiting). */
export function whenPaused(name: CrashPoint): Promise<void> {
  return new Promise((reached) => watchers.push({ name, reached }));
}

/** Resumes every pause this process is waiting in. */
export function resumePaused(): void {
  for (const resume of [...resumers]) resume();
}
