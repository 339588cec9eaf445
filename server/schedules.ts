/**
 * The apps' schedules (apps.NAME.schedule, cron syntax through croner) for `idplane serve`. A tick
 * queues the app's scheduled import on the runner; a tick that comes while the previous run of the
 * same app is still queued or running is skipped (croner's `protect`, and a flag of our own for the
 * time the run waits in the queue), so a slow import never piles up behind itself. Times are UTC unless
 * serve.timezone says otherwise.
 */
import { Cron } from 'croner';

export interface Schedule {
  app: string;
  pattern: string;
  /** When it runs next (ISO), or null when stopped. */
  next(): string | null;
  stop(): void;
}

export interface ScheduleOptions {
  timezone?: string;
  /** Runs one scheduled import of the app; resolves when it has ended, however it ended. */
  tick: (app: string) => Promise<void>;
  /** Told when a tick was skipped because the previous run had not ended. */
  skipped?: (app: string) => void;
}

export function startSchedules(apps: { app: string; pattern: string }[], options: ScheduleOptions): Schedule[] {
  return apps.map(({ app, pattern }) => {
    let busy = false;
    const job = new Cron(pattern, {
      name: `idplane-schedule-${app}`,
      ...(options.timezone ? { timezone: options.timezone } : {}),
      protect: () => options.skipped?.(app),
      catch: false,
    }, async () => {
      if (busy) {
        options.skipped?.(app);
        return;
      }
      busy = true;
      try {
        await options.tick(app);
      } finally {
        busy = false;
      }
    });
    return {
      app, pattern,
      next: () => job.nextRun()?.toISOString() ?? null,
      stop: () => job.stop(),
    };
  });
}
