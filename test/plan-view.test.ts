/**
 * `plan --out` renders the view of a big plan in a worker thread from the saved stream: what it prints
 * must be exactly what the main thread prints, for text and Markdown, with conflicts, warnings and
 * personal data masked or not. IDPLANE_PARALLEL_VIEW_FROM sets the size from which the worker is used.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyExample, idplane } from './cli-helpers.ts';
import { copyHrExport } from './fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await copyExample('quickstart')));
afterEach(async () => cleanup());

const WORKER = { IDPLANE_PARALLEL_VIEW_FROM: '1', IDPLANE_TIMINGS: '1' };
const MAIN = { IDPLANE_PARALLEL_VIEW_FROM: '1000000000', IDPLANE_TIMINGS: '1' };

function both(args: string[]): { worker: string; main: string } {
  const worker = idplane(dir, ['plan', '--out', join(dir, 'w.plan'), ...args], { env: WORKER });
  const main = idplane(dir, ['plan', '--out', join(dir, 'm.plan'), ...args], { env: MAIN });
  // The timings line says which did the printing.
  expect(worker.stderr).toContain('writing the plan (printed by a worker)');
  expect(main.stderr).toContain('writing and printing the plan');
  expect(worker.code).toBe(main.code);
  return { worker: worker.stdout.replaceAll('w.plan', 'PLAN'), main: main.stdout.replaceAll('m.plan', 'PLAN') };
}

describe('the view of a saved plan rendered by the worker', () => {
  it('is the text the main thread renders, and the saved plans are the same plan', async () => {
    const { worker, main } = both([]);
    expect(worker).toContain('+ user zoe.muller@example.com (create, ACTIVE)');
    expect(worker).toBe(main);
    const shown = (file: string) => JSON.parse(idplane(dir, ['show', join(dir, file), '--format', 'json']).stdout);
    expect({ ...shown('w.plan'), created_at: 0 }).toEqual({ ...shown('m.plan'), created_at: 0 });
  });

  it('is the same for a plan of many chunks, whose lines straddle no chunk boundary', async () => {
    // 5,000 people make a plan stream of several MiB: many of the 1 MiB chunks the worker reads.
    await copyHrExport(5000, join(dir, 'data/hr.csv'));
    const { worker, main } = both(['--limit', '0']);
    expect(worker.split('\n').filter((l) => l.startsWith('  + user ')).length).toBe(5001);
    expect(worker).toBe(main);
    // By default each section shows 100 and says how many more there are, in the worker as in the main thread.
    const capped = both([]);
    expect(capped.worker.split('\n').filter((l) => l.startsWith('  + user ')).length).toBe(100);
    expect(capped.worker).toContain('  … and 4,901 more user changes not shown here (--limit 0 shows all;');
    expect(capped.worker).toBe(capped.main);
  });

  it('is the Markdown the main thread renders, masked and unmasked, with conflicts and warnings', async () => {
    const hr = join(dir, 'data/hr.csv');
    await writeFile(hr, (await readFile(hr, 'utf8')).replace(/^1005,/m, '1004,') + '1099,"broken,row\n');
    for (const args of [['--format', 'markdown'], ['--format', 'markdown', '--show-personal-data'], []]) {
      const { worker, main } = both(args);
      expect(worker).toBe(main);
    }
    expect(both(['--format', 'markdown']).worker).toContain('**conflict** `duplicate-key`');
  });
});
