/**
 * Renders a plan stream as one JSON document of schemas/plan.schema.json, written piece by piece: the
 * header's fields, then each list in stream order, so a plan of a million users never becomes one string.
 */
import type { Sink } from '../output.ts';
import { LISTS, type PlanSource } from '../../engine/plan-stream.ts';

export async function renderPlanJson(source: PlanSource, sink: Sink): Promise<void> {
  const header = JSON.stringify(source.header);
  sink.write(header.slice(0, -1)); // the header object, left open for the lists
  let current = -1; // index in LISTS of the list being written
  let first = true;
  const advance = (to: number) => {
    if (current >= 0) sink.write(']');
    for (let i = current + 1; i < to; i++) sink.write(`,"${LISTS[i]![0]}":[]`);
    if (to < LISTS.length) sink.write(`,"${LISTS[to]![0]}":[`);
    current = to;
    first = true;
  };
  for await (const batch of source.batches()) {
    for (const item of batch) {
      if (LISTS[current]?.[1] !== item.t) {
        const index = LISTS.findIndex(([, t]) => t === item.t);
        if (index < current) throw new Error(`plan items out of order: ${item.t} after ${LISTS[current]![1]}`);
        advance(index);
      }
      sink.write(first ? JSON.stringify(item.v) : `,${JSON.stringify(item.v)}`);
      first = false;
    }
    await sink.drain();
  }
  advance(LISTS.length);
  sink.write('}\n');
  await sink.drain();
}
