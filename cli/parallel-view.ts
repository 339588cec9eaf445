/**
 * `plan --out` of a big plan: the main thread serialises the plan into the file while a worker thread
 * (render-worker.ts) renders the text or Markdown view from the same stream on the other core; the
 * main thread prints what the worker renders. For a million users that takes the view (about 9 s) off
 * the main thread. The stream's chunks and the output slots are SharedArrayBuffers handed back and
 * forth, so neither side allocates a buffer per chunk. Without the worker's build (running from the
 * sources) or for a small plan, the caller renders on the main thread instead.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Output } from './output.ts';
import { savePlan } from '../engine/plan-file.ts';
import type { PlanSource } from '../engine/plan-stream.ts';
import type { ProgressTask } from '../engine/progress.ts';
import type { RenderWorkerData } from './render-worker.ts';
import type { Narrowing } from '../engine/narrow.ts';

/** The built worker: dist/render-worker.js, beside the chunks this module is bundled into. */
const WORKER = new URL('../render-worker.js', import.meta.url);
const SLOTS = 8;
const SLOT_BYTES = 1 << 20;

/** Plans with fewer lines than this are rendered on the main thread (a worker costs ~40 ms to start). */
export const PARALLEL_FROM = Number(process.env.IDPLANE_PARALLEL_VIEW_FROM ?? 50_000);

export function canRenderInParallel(out: Output): boolean {
  return (out.format === 'text' || out.format === 'markdown') && WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
}

/** Saves the plan to `file` and prints its view, rendered by the worker, to stdout. */
export async function savePlanWithView(file: string, source: PlanSource, out: Output, options: { showPersonalData?: boolean; signingKey?: string; narrowing: Narrowing | null; limit?: number }, progress: ProgressTask): Promise<void> {
  const slots = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(SLOT_BYTES));
  const data: RenderWorkerData = {
    format: out.format === 'markdown' ? 'markdown' : 'text', unmasked: options.showPersonalData === true, color: out.style.bold('x') !== 'x', slots,
    narrowing: options.narrowing, ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const worker = new Worker(WORKER, { workerData: data });
  await out.sink.drain(); // whatever was printed before comes first
  const releases = new Map<number, () => void>();
  let nextId = 0;
  const finished = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: { kind: 'read'; id: number } | { kind: 'print'; slot: number; length: number } | { kind: 'finished' } | { kind: 'failed'; message: string }) => {
      switch (message.kind) {
        case 'read':
          releases.get(message.id)?.();
          releases.delete(message.id);
          break;
        case 'print':
          process.stdout.write(Buffer.from(slots[message.slot]!, 0, message.length), () => worker.postMessage({ kind: 'free', slot: message.slot }));
          break;
        case 'finished':
          resolve();
          break;
        case 'failed':
          reject(new Error(`rendering the plan failed: ${message.message}`));
          break;
        default: {
          const never: never = message;
          reject(new Error(`unknown message ${JSON.stringify(never)}`));
        }
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the rendering worker stopped (exit code ${code})`)));
  });
  finished.catch(() => {}); // awaited below
  try {
    const tap = (chunk: Buffer, release: () => void) => {
      const id = nextId++;
      releases.set(id, release);
      worker.postMessage({ kind: 'chunk', buffer: chunk.buffer, offset: chunk.byteOffset, length: chunk.length, id });
    };
    await savePlan(file, source, { progress, tap, ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey }) });
    worker.postMessage({ kind: 'end' });
    await finished;
  } finally {
    await worker.terminate();
  }
}
