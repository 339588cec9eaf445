/**
 * Progress reporting for long steps: a bar on stderr when stderr is a terminal, nothing otherwise, so
 * logs and pipes stay clean. Callers get a small interface and never know which one they have.
 * cli-progress (CommonJS) is required when the first bar is drawn: a run without a terminal, or without
 * a long step, never loads it, and the synchronous require keeps the interface synchronous.
 */
import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';

const require = createRequire(import.meta.url);

export interface ProgressTask {
  update(done: number, total: number): void;
  finish(): void;
}

export interface Progress {
  start(label: string): ProgressTask;
}

const silent: ProgressTask = { update() {}, finish() {} };

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return { start: () => silent };
  return {
    start(label) {
      let bar: cliProgress.SingleBar | null = null;
      return {
        update(done, total) {
          if (!bar) {
            const { SingleBar, Presets } = require('cli-progress') as typeof cliProgress;
            bar = new SingleBar(
              { stream, format: `${label.padEnd(24)} [{bar}] {percentage}% | {value}/{total}`, hideCursor: true, clearOnComplete: true, fps: 10 },
              Presets.shades_classic,
            );
            bar.start(total, 0);
          }
          bar.setTotal(total);
          bar.update(done);
        },
        finish() {
          bar?.stop();
        },
      };
    },
  };
}
