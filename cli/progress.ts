/**
 * Progress reporting for long steps: a bar on stderr when stderr is a terminal, nothing otherwise, so
 * logs and pipes stay clean. Callers get a small interface and never know which one they have.
 */
import cliProgress from 'cli-progress';

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
            bar = new cliProgress.SingleBar(
              { stream, format: `${label.padEnd(24)} [{bar}] {percentage}% | {value}/{total}`, hideCursor: true, clearOnComplete: true, fps: 10 },
              cliProgress.Presets.shades_classic,
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
