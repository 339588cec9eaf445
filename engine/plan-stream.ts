/**
 * A plan as a stream: its header (the document without its lists) and its items, list by list, in the
 * order of schemas/plan-stream.schema.json. Renderers, the plan file and apply read a PlanSource, so a
 * plan of a million users is never turned into one string and, read from a file, never held whole by
 * `show`. `planSource` streams a plan computed in memory; plan-file.ts streams one from disk.
 */
import type { ProgressTask } from './progress.ts';
import type { InputsOf } from '../reconciler/review-inputs.ts';
import type { AccountChange, ImportChange, LinkChange, Plan, PlanIssue, ReviewItem, UserChange, WatermarkChange } from '../schemas/generated/plan.ts';

/** The plan's lists in stream order, each with the tag its items carry on disk. */
export const LISTS = [
  ['users', 'user'], ['accounts', 'account'], ['links', 'link'], ['imports', 'import'],
  ['reviews', 'review'], ['watermarks', 'watermark'], ['warnings', 'warning'], ['conflicts', 'conflict'],
] as const;

export type ListName = (typeof LISTS)[number][0];
export type ItemKind = (typeof LISTS)[number][1];
export type PlanHeader = Omit<Plan, ListName>;

/**
 * One item of a plan. The first user, account or link item of each user in a saved plan carries `i`,
 * the digest of their inputs when the plan was made (reconciler/review-inputs.ts), which apply reads
 * to tell a data change since the plan from a change the plan should have shown.
 */
export type PlanItem =
  | { t: 'user'; v: UserChange; i?: string }
  | { t: 'account'; v: AccountChange; i?: string }
  | { t: 'link'; v: LinkChange; i?: string }
  | { t: 'import'; v: ImportChange }
  | { t: 'review'; v: ReviewItem }
  | { t: 'watermark'; v: WatermarkChange }
  | { t: 'warning'; v: PlanIssue }
  | { t: 'conflict'; v: PlanIssue };

export interface PlanSource {
  header: PlanHeader;
  /** The items in stream order, in batches (a batch never mixes lists). Can be iterated once. */
  batches(): AsyncIterable<readonly PlanItem[]>;
}

const BATCH = 2048;

export function headerOf(plan: Plan): PlanHeader {
  const header: Record<string, unknown> = { ...plan };
  for (const [list] of LISTS) delete header[list];
  return header as PlanHeader;
}

/**
 * Streams a plan held in memory, as it is saved and shown: an imported record without its values
 * (not for review, and a million of them would be a third of the plan; apply reads them from the
 * source again). With `inputs` (a plan being saved), each user's first user, account or link item
 * carries the digest of their inputs.
 */
export function planSource(plan: Plan, inputs?: InputsOf): PlanSource {
  const stamp = (t: ItemKind, v: PlanItem['v']): PlanItem => {
    if (t === 'import') return { t, v: withoutValues(v as ImportChange) };
    if (inputs && (t === 'user' || t === 'account' || t === 'link')) {
      // On the user's first line only (their change, else their first account or link): apply reads it
      // from there for all of them.
      const i = inputs.once(t === 'user' ? (v as UserChange).id : (v as AccountChange | LinkChange).userId);
      if (i !== undefined) return { t, v, i } as PlanItem;
    }
    return { t, v } as PlanItem;
  };
  return {
    header: headerOf(plan),
    async *batches() {
      for (const [list, t] of LISTS) {
        const items = plan[list] as readonly PlanItem['v'][];
        for (let i = 0; i < items.length; i += BATCH) yield items.slice(i, i + BATCH).map((v) => stamp(t, v));
      }
    },
  };
}

/** An imported record's change as a plan saves and shows it: without the values read. */
export function withoutValues(change: ImportChange): ImportChange {
  const { attributes: _values, ...rest } = change;
  return rest;
}

/** The whole plan in memory (apply holds it anyway: its changes become the next state). */
export async function collectPlan(source: PlanSource, progress?: ProgressTask): Promise<Plan> {
  const plan = { ...source.header, users: [], accounts: [], links: [], imports: [], reviews: [], watermarks: [], warnings: [], conflicts: [] } as Plan;
  const lists: Record<ItemKind, PlanItem['v'][]> = {
    user: plan.users, account: plan.accounts, link: plan.links, import: plan.imports,
    review: plan.reviews, watermark: plan.watermarks, warning: plan.warnings, conflict: plan.conflicts,
  };
  let count = 0;
  for await (const batch of source.batches()) {
    for (const item of batch) lists[item.t].push(item.v);
    progress?.update((count += batch.length));
  }
  progress?.finish(count);
  return plan;
}

/**
 * Several readers of one source, each getting every batch: the plan file and the text view of one run
 * then read each batch while it is still in the processor's cache (the users of a million-user plan
 * are spread over a heap of gigabytes), instead of walking the whole plan twice. A reader may run at
 * most `ahead` batches ahead of the slowest one, so the batches kept stay few.
 */
export function teeSource(source: PlanSource, readers: number, ahead = 2): PlanSource[] {
  const kept: (readonly PlanItem[])[] = [];
  let first = 0; // stream index of kept[0]
  let done = false;
  let fetching: Promise<void> | null = null;
  const positions = new Array<number>(readers).fill(0);
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const iterator = source.batches()[Symbol.asyncIterator]();
  const fetch = () => (fetching ??= iterator.next().then((r) => {
    if (r.done) done = true;
    else kept.push(r.value);
    fetching = null;
    wake();
  }));
  const reader = (index: number): PlanSource => ({
    header: source.header,
    async *batches() {
      try {
        for (;;) {
          const at = positions[index]!;
          if (at - Math.min(...positions) >= ahead) {
            await new Promise<void>((resolve) => waiters.push(resolve));
            continue;
          }
          if (at - first < kept.length) {
            positions[index] = at + 1;
            const batch = kept[at - first]!;
            while (kept.length > 0 && Math.min(...positions) > first) {
              kept.shift();
              first += 1;
            }
            wake();
            yield batch;
            continue;
          }
          if (done) return;
          await fetch();
        }
      } finally {
        // A reader that stops early no longer holds the others back.
        positions[index] = Infinity;
        wake();
      }
    },
  });
  return Array.from({ length: readers }, (_, i) => reader(i));
}
