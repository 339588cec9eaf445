/**
 * The values an import keeps, made compact: a run holds every value of every row of the file at once, so
 * a column whose values repeat (departments, titles, managers, dates) keeps one string per distinct
 * value, and every other value kept is a copy of its own. (V8 keeps a substring of 13 or more characters
 * as a slice of its parent: without the copy, one value would hold on to the whole window of text
 * PapaParse cut it from.) A column stops sharing values when few of them repeat. Every account's
 * attributes object is a copy of one template, so that all of them share one V8 shape, in header order.
 */

/** Rows between two looks at how often each column's values repeat. */
const PERIOD = 4096;
/** A column keeps sharing while at least this share of its values repeat an earlier one... */
const MIN_REPEATS = 1 / 8;
/** ...and while it has fewer distinct values than this. */
const MAX_DISTINCT = 1 << 20;
/** V8's SlicedString::kMinLength: shorter substrings are copies already. */
const MIN_SLICE = 13;

export class ColumnValues {
  /** Per column: its distinct values so far, or null once it stopped sharing them. */
  private readonly pools: (ValuePool | null)[];
  /** Per column: how many distinct values it had at the last look. */
  private readonly distinct: number[];
  private rows = 0;

  constructor(columns: number) {
    this.pools = Array.from({ length: columns }, () => new ValuePool());
    this.distinct = new Array<number>(columns).fill(0);
  }

  /** The value to keep for `value` read in `column`. */
  value(column: number, value: string): string {
    const pool = this.pools[column];
    if (!pool) return detached(value);
    return pool.find(value) ?? pool.add(detached(value));
  }

  /** Call after each row. */
  endRow(): void {
    if (++this.rows % PERIOD !== 0) return;
    for (let i = 0; i < this.pools.length; i++) {
      const pool = this.pools[i];
      if (!pool) continue;
      // Each of the last PERIOD rows either repeated a value or added one.
      const repeats = PERIOD - (pool.size - this.distinct[i]!);
      if (repeats < PERIOD * MIN_REPEATS || pool.size > MAX_DISTINCT) this.pools[i] = null;
      this.distinct[i] = pool.size;
    }
  }
}

/**
 * A set of strings, by open addressing on an FNV-1a hash of their first 64 characters: measured a fifth
 * faster than a Map for the short, freshly cut strings of a CSV row, and this runs for every value of
 * every repeating column.
 */
class ValuePool {
  size = 0;
  private keys: (string | undefined)[] = new Array<string | undefined>(1024);
  private hashes = new Int32Array(1024);
  /** The hash of the value last passed to find(), for the add() that may follow. */
  private lastHash = 0;

  /** The pooled string equal to `value`, if any. */
  find(value: string): string | undefined {
    const { keys, hashes } = this;
    const mask = keys.length - 1;
    const hash = hashOf(value);
    this.lastHash = hash;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const key = keys[i];
      if (key === undefined) return undefined;
      if (hashes[i] === hash && key === value) return key;
    }
  }

  /** Adds `value`, which find() just did not find, and returns it. */
  add(value: string): string {
    if (2 * (this.size + 1) > this.keys.length) this.grow();
    this.put(value, this.lastHash);
    this.size++;
    return value;
  }

  private put(value: string, hash: number): void {
    const mask = this.keys.length - 1;
    let i = hash & mask;
    while (this.keys[i] !== undefined) i = (i + 1) & mask;
    this.keys[i] = value;
    this.hashes[i] = hash;
  }

  private grow(): void {
    const { keys, hashes } = this;
    this.keys = new Array<string | undefined>(2 * keys.length);
    this.hashes = new Int32Array(2 * keys.length);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== undefined) this.put(keys[i]!, hashes[i]!);
  }
}

function hashOf(value: string): number {
  const n = value.length < 64 ? value.length : 64;
  let hash = 0x811c9dc5 ^ value.length;
  for (let i = 0; i < n; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return hash;
}

/**
 * A copy of `value` that shares no memory with the text it was cut from. The concatenation is a V8
 * ConsString; charCodeAt flattens it into a fresh sequential string (indexOf does not), which the
 * garbage collector then puts in the ConsString's place. V8 behaviour, measured rather than specified:
 * on 1M rows, the heap after reading holds no sliced string and no text window.
 */
export function detached(value: string): string {
  if (value.length < MIN_SLICE) return value;
  const copy = value.slice(0, 1) + value.slice(1);
  copy.charCodeAt(1);
  return copy;
}

/**
 * A function returning a new attributes object with one property per column, in column order, each set
 * to ''. Built from a JSON text, so that a column named like an Object.prototype member ("__proto__")
 * is an ordinary own property too.
 */
export function attributesTemplate(columns: readonly string[]): () => Record<string, string> {
  const template = JSON.parse(`{${columns.map((c) => `${JSON.stringify(c)}:""`).join(',')}}`) as Record<string, string>;
  return () => ({ ...template });
}
