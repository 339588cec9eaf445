/**
 * A worker thread that renders a plan's text or Markdown view from the plan stream as `plan --out`
 * writes it (parallel-view.ts), so that for a big plan the view is made on the second core while the
 * main thread serialises the plan. It reads the stream's chunks in place (SharedArrayBuffers), parses
 * the lines, renders them with the same views as the main thread, and writes the text into the output
 * slots it was given (SharedArrayBuffers too), which the main thread prints and hands back. No buffer
 * is ever allocated per chunk on either side.
 *
 * Messages in: { kind: 'chunk', buffer, offset, length, id }, { kind: 'end' }, { kind: 'free', slot }.
 * Messages out: { kind: 'read', id }, { kind: 'print', slot, length }, { kind: 'finished' }, { kind: 'failed', message }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Sink } from './output.ts';
import type { PlanHeader, PlanItem, PlanSource } from '../engine/plan-stream.ts';
import { renderPlanMarkdown } from './views/plan-markdown.ts';
import { renderPlanText } from './views/plan-text.ts';
import { narrowSource, type Narrowing } from '../engine/narrow.ts';
import { ansi, plain } from './views/style.ts';

export interface RenderWorkerData {
  format: 'text' | 'markdown';
  unmasked: boolean;
  color: boolean;
  /** What the view shows of the plan (views/plan-text.ts, engine/narrow.ts). */
  narrowing: Narrowing | null;
  limit?: number;
  slots: SharedArrayBuffer[];
}

type Incoming = { kind: 'chunk'; buffer: SharedArrayBuffer; offset: number; length: number; id: number } | { kind: 'end' } | { kind: 'free'; slot: number };

const port = parentPort!;
const IMPORT_LINE = Buffer.from('{"t":"import",');
const data = workerData as RenderWorkerData;

// Chunks of lines as they arrive, read by the renderer's batches().
const pending: (PlanItem[] | null)[] = [];
let wakeReader: (() => void) | null = null;
let header: PlanHeader | null = null;
let wakeHeader: (() => void) | null = null;

// Output slots: free ones, and a way to wait for one.
const free: number[] = data.slots.map((_, i) => i);
let wakeWriter: (() => void) | null = null;

port.on('message', (message: Incoming) => {
  switch (message.kind) {
    case 'chunk': {
      const bytes = Buffer.from(message.buffer, message.offset, message.length);
      const items: PlanItem[] = [];
      for (let start = 0, nl = bytes.indexOf(10); nl !== -1; start = nl + 1, nl = bytes.indexOf(10, start)) {
        // Imported records are never shown (the views count them from the header's summary): a third of
        // a first plan's lines, left unparsed. The stream's writer starts every line with its kind.
        if (bytes.compare(IMPORT_LINE, 0, IMPORT_LINE.length, start, start + IMPORT_LINE.length) === 0) continue;
        const line = JSON.parse(bytes.toString('utf8', start, nl)) as { t: string; v: unknown };
        if (line.t === 'plan') header = line.v as PlanHeader;
        else if (line.t !== 'end') items.push(line as PlanItem);
      }
      port.postMessage({ kind: 'read', id: message.id });
      if (header && wakeHeader) wakeHeader();
      if (items.length > 0) pending.push(items);
      wakeReader?.();
      break;
    }
    case 'end':
      pending.push(null);
      wakeReader?.();
      wakeHeader?.();
      break;
    case 'free':
      free.push(message.slot);
      wakeWriter?.();
      break;
    default: {
      const never: never = message;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});

async function nextBatch(): Promise<PlanItem[] | null> {
  while (pending.length === 0) await new Promise<void>((resolve) => (wakeReader = resolve));
  wakeReader = null;
  return pending.shift()!;
}

/**
 * Text into the output slots; a full slot is printed by the main thread, which hands it back. The
 * renderer writes synchronously between drains: text that finds no free slot waits until the drain.
 */
function slotSink(): Sink & { close(): Promise<void> } {
  let slot = -1;
  let view: Buffer | null = null;
  let used = 0;
  const overflow: string[] = [];
  const flush = () => {
    if (view && used > 0) port.postMessage({ kind: 'print', slot, length: used });
    else if (view) free.push(slot);
    view = null;
    used = 0;
  };
  const open = () => {
    slot = free.shift()!;
    view = Buffer.from(data.slots[slot]!);
    used = 0;
  };
  /** Puts `text` into the current or a free slot; returns what did not fit yet (null: all of it fit). */
  const place = (text: string): string | null => {
    if (view && used + text.length * 3 <= view.length) {
      used += view.write(text, used);
      return null;
    }
    if (view && used > 0) flush();
    if (!view) {
      if (free.length === 0) return text;
      open();
    }
    if (text.length * 3 <= view!.length) {
      used += view!.write(text, used);
      return null;
    }
    // Longer than a slot: the part that fits (never splitting a surrogate pair); the rest waits.
    let cut = Math.floor(view!.length / 3);
    if (text.charCodeAt(cut - 1) >= 0xd800 && text.charCodeAt(cut - 1) <= 0xdbff) cut -= 1;
    used += view!.write(text.slice(0, cut), used);
    flush();
    return text.slice(cut);
  };
  const drain = async () => {
    while (overflow.length > 0) {
      const rest = place(overflow[0]!);
      if (rest === null) {
        overflow.shift();
        continue;
      }
      overflow[0] = rest;
      if (free.length === 0 && !view) await new Promise<void>((resolve) => (wakeWriter = resolve));
      wakeWriter = null;
    }
  };
  return {
    write(text) {
      const rest = overflow.length > 0 ? text : place(text);
      if (rest !== null) overflow.push(rest);
    },
    drain,
    async close() {
      await drain();
      flush();
    },
  };
}

async function run(): Promise<void> {
  while (!header && pending[pending.length - 1] !== null) await new Promise<void>((resolve) => (wakeHeader = resolve));
  if (!header) throw new Error('the plan stream ended before its header');
  const source: PlanSource = {
    header,
    async *batches() {
      for (let batch = await nextBatch(); batch !== null; batch = await nextBatch()) yield batch;
    },
  };
  const sink = slotSink();
  if (data.format === 'markdown') await renderPlanMarkdown(narrowSource(source, data.narrowing), { unmasked: data.unmasked }, sink);
  else await renderPlanText(source, data.color ? ansi : plain, sink, { narrowing: data.narrowing, ...(data.limit === undefined ? {} : { limit: data.limit }) });
  await sink.close();
}

run().then(
  () => port.postMessage({ kind: 'finished' }),
  (error: unknown) => port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }),
);
