/**
 * Counting the same thing over many users or accounts, with a few of them named: the same attribute
 * change in a plan's text, the same difference in a plan delta. At most `maxKeys` distinct things are
 * counted (beyond them a new one is counted in none), so a million distinct values stay bounded.
 */
export interface Tallied<T> {
  value: T;
  count: number;
  /** The first few named (EXAMPLES). */
  examples: string[];
}

const EXAMPLES = 3;

export class ExampleTally<T> {
  private readonly entries = new Map<string, Tallied<T>>();
  private readonly maxKeys: number;

  constructor(maxKeys: number) {
    this.maxKeys = maxKeys;
  }

  /** Counts one more of the thing `id` (made by `value` the first time), named `example`. */
  add(id: string, value: () => T, example: string): void {
    let entry = this.entries.get(id);
    if (!entry) {
      if (this.entries.size >= this.maxKeys) return;
      this.entries.set(id, (entry = { value: value(), count: 0, examples: [] }));
    }
    entry.count += 1;
    if (entry.examples.length < EXAMPLES) entry.examples.push(example);
  }

  /** Everything counted, the largest first; `tie` orders those counted as often. */
  largest(tie: (a: T, b: T) => number): Tallied<T>[] {
    return [...this.entries.values()].sort((a, b) => b.count - a.count || tie(a.value, b.value));
  }
}
