/**
 * The changed-rows write path, shared by the state backends (the embedded SQLite store and PostgreSQL).
 * Pure: no I/O. A Snapshot is what the database held after this store's last read() or
 * write(): the users and links in order with their stored positions (`ord`), and each app's columns and
 * records in the order read, tagged with the digest the database had then (write token and outside-write
 * count). When the database still has that digest (checked inside the write's transaction, under its write lock;
 * every write sets a new token, every statement from outside idplane bumps the count), the stored rows
 * are exactly the snapshot, so only these need writing: users and links whose object is not the
 * identical one (by reference), imported records whose packed values or disabled flag differ, column
 * lists that differ, and deletes of keys that disappeared. Objects handed out by read() must therefore be
 * treated as immutable: a user changed in place instead of replaced would not be written
 * (reconciler/apply-plan.ts replaces them).
 *
 * The snapshot is kept as arrays, cheap to take on every read (a plan that never writes pays almost
 * nothing); a write first walks the next state alongside it, and only where the two part does it index
 * the snapshot by key. An unchanged table costs one pass of comparisons.
 *
 * Order is kept: a table is planned as a diff only when its surviving rows keep their relative order and
 * new rows come after them (new rows get positions past the largest one); otherwise, when there is no
 * snapshot, or when most rows changed anyway, the table is planned as a replacement (emptied and bulk
 * loaded, positions 0..n-1). Imported records have no order of their own.
 */
import type { UserRecord } from '../schemas/generated/plan.ts';
import type { AppRecords, DirectoryState, ImportedRecord, StoredLink } from '../reconciler/model.ts';

/** A row to write at a stored position. */
export interface Placed<T> {
  value: T;
  ord: number;
}

/** An imported record to write, with its app and key. */
export interface ImportedRow {
  app: string;
  key: string;
  value: ImportedRecord;
}

/** An app's records as read, in the order read: what the changed-rows path compares the next state with. */
export interface StoredApp {
  columns: readonly string[];
  keys: string[];
  records: ImportedRecord[];
}

/** Rows in order and their stored positions (parallel arrays). */
export interface Ordered<T> {
  values: readonly T[];
  ords: readonly number[];
}

export interface Snapshot {
  /** The digest of the database content this snapshot mirrors (`${write_token}:${outside_writes}`). */
  digest: string | null;
  users: Ordered<UserRecord>;
  links: Ordered<StoredLink>;
  imported: Map<string, StoredApp>;
}

/** A table's write: all rows anew, or rows whose key is stored (updates), rows with new keys (inserts) and keys gone. */
export type TablePlan<T> =
  | { mode: 'replace' }
  | { mode: 'diff'; updates: Placed<T>[]; inserts: Placed<T>[]; deletes: T[] };

export type ImportedPlan =
  | { mode: 'replace' }
  | { mode: 'diff'; upserts: ImportedRow[]; deletes: { app: string; key: string }[]; apps: string[] };

/** The column lists to write: all of them, or those that changed and the apps that are gone. */
export type ColumnsPlan =
  | { mode: 'replace' }
  | { mode: 'diff'; upserts: { app: string; columns: readonly string[] }[]; deletes: string[] };

export interface WritePlan {
  users: TablePlan<UserRecord>;
  links: TablePlan<StoredLink>;
  /** `apps` in a diff: apps gone entirely, deleted with their records. */
  imported: ImportedPlan;
  columns: ColumnsPlan;
  /** The snapshot the database holds once this plan is committed. */
  after: Snapshot;
}

export const userKey = (u: UserRecord): string => u.id;
export const pairKey = (r: { app: string; key: string }): string => `${r.app}\u0000${r.key}`;

/** Plans a write of `next` against `previous` (null: what the database holds is unknown). */
export function planWrite(next: DirectoryState, previous: Snapshot | null, digest: string): WritePlan {
  const users = planOrdered(next.users, userKey, previous?.users ?? null);
  const links = planOrdered(next.links, pairKey, previous?.links ?? null);
  const imported = planImported(next.imported, previous?.imported ?? null);
  return {
    users: users.plan,
    links: links.plan,
    imported: imported.plan,
    columns: imported.columns,
    after: { digest, users: users.after, links: links.after, imported: imported.after },
  };
}

function planOrdered<T>(next: readonly T[], keyOf: (value: T) => string, previous: Ordered<T> | null): { plan: TablePlan<T>; after: Ordered<T> } {
  const replace = () => ({ plan: { mode: 'replace' as const }, after: { values: next.slice(), ords: Array.from(next, (_, i) => i) } });
  if (!previous || previous.values.length === 0) return replace();
  const old = previous.values;
  const ords: number[] = [];
  const updates: Placed<T>[] = [];
  // The common case: the same keys in the same places, most of them the very same objects.
  let i = 0;
  for (; i < next.length && i < old.length; i++) {
    const value = next[i]!;
    if (value === old[i]) {
      ords.push(previous.ords[i]!);
    } else if (keyOf(value) === keyOf(old[i]!)) {
      ords.push(previous.ords[i]!);
      updates.push({ value, ord: previous.ords[i]! });
    } else {
      break;
    }
  }
  let appendOrd = 0;
  for (const ord of previous.ords) if (ord >= appendOrd) appendOrd = ord + 1;
  const inserts: Placed<T>[] = [];
  const deletes: T[] = [];
  if (i < next.length && i < old.length) {
    // The lists part here: match the rest by key. A key matched before this point cannot come again
    // but as a duplicate, which is inserted and refused by the primary key, as a replacement would be.
    const index = new Map<string, number>();
    for (let j = i; j < old.length; j++) index.set(keyOf(old[j]!), j);
    const used = new Uint8Array(old.length);
    let last = i > 0 ? ords[i - 1]! : -1;
    for (; i < next.length; i++) {
      const value = next[i]!;
      const j = index.get(keyOf(value));
      if (j !== undefined && used[j]) return replace(); // the same key twice: the replacement's insert refuses it
      const ord = j === undefined ? appendOrd++ : previous.ords[j]!;
      if (ord <= last) return replace(); // reordered, or inserted in the middle
      last = ord;
      ords.push(ord);
      if (j === undefined) inserts.push({ value, ord });
      else {
        used[j] = 1;
        if (old[j] !== value) updates.push({ value, ord });
      }
    }
    for (const j of index.values()) if (!used[j]) deletes.push(old[j]!);
  } else {
    // Old rows gone from the end, or new rows after all the old ones (their keys are new, or the insert refuses them).
    for (let j = i; j < old.length; j++) deletes.push(old[j]!);
    for (; i < next.length; i++) {
      const ord = appendOrd++;
      ords.push(ord);
      inserts.push({ value: next[i]!, ord });
    }
  }
  if (updates.length + inserts.length + deletes.length > next.length / 2) return replace();
  return { plan: { mode: 'diff', updates, inserts, deletes }, after: { values: next.slice(), ords } };
}

const sameRecord = (a: ImportedRecord, b: ImportedRecord): boolean => a === b || (a.values === b.values && a.disabled === b.disabled);

const sameColumns = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((name, i) => name === b[i]);

function planImported(next: DirectoryState['imported'], previous: Map<string, StoredApp> | null): { plan: ImportedPlan; columns: ColumnsPlan; after: Map<string, StoredApp> } {
  const after = new Map<string, StoredApp>();
  if (!previous) {
    for (const [app, records] of next) after.set(app, storedApp(records));
    return { plan: { mode: 'replace' }, columns: { mode: 'replace' }, after };
  }
  const upserts: ImportedRow[] = [];
  const deletes: { app: string; key: string }[] = [];
  const columnUpserts: { app: string; columns: readonly string[] }[] = [];
  let total = 0;
  for (const [app, records] of next) {
    total += records.records.size;
    const before = previous.get(app);
    after.set(app, diffApp(app, records, before, upserts, deletes));
    if (!before || !sameColumns(before.columns, records.columns)) columnUpserts.push({ app, columns: records.columns });
  }
  // An app gone entirely goes in one statement, whatever its size.
  const gone = [...previous.keys()].filter((app) => !next.has(app));
  const columns: ColumnsPlan = { mode: 'diff', upserts: columnUpserts, deletes: gone };
  if (upserts.length + deletes.length > total / 2) return { plan: { mode: 'replace' }, columns, after };
  return { plan: { mode: 'diff', upserts, deletes, apps: gone }, columns, after };
}

/** An app's records as a snapshot keeps them. */
function storedApp(app: AppRecords): StoredApp {
  return { columns: [...app.columns], keys: [...app.records.keys()], records: [...app.records.values()] };
}

/** Adds the upserts and deletes that turn `before` into `next`; returns `next` as stored afterwards. */
function diffApp(app: string, next: AppRecords, before: StoredApp | undefined, upserts: ImportedRow[], deletes: { app: string; key: string }[]): StoredApp {
  if (!before) {
    for (const [key, value] of next.records) upserts.push({ app, key, value });
    return storedApp(next);
  }
  const entries = next.records.entries();
  let entry = entries.next();
  // The common case: the same keys in the same order (a copy of the map read, some records replaced).
  const records: ImportedRecord[] = [];
  let same = 0;
  let changed = false;
  while (!entry.done && same < before.keys.length && entry.value[0] === before.keys[same]) {
    const [key, value] = entry.value;
    records.push(value);
    if (!sameRecord(value, before.records[same]!)) {
      upserts.push({ app, key, value });
      changed = true;
    }
    same++;
    entry = entries.next();
  }
  const columns = sameColumns(before.columns, next.columns) ? before.columns : [...next.columns];
  if (entry.done && same === before.keys.length) return { columns, keys: before.keys, records: changed ? records : before.records };

  // The keys of a map are unique: a record past the common start can only match a stored one past it too.
  const index = new Map<string, number>();
  for (let j = same; j < before.keys.length; j++) index.set(before.keys[j]!, j);
  const used = new Uint8Array(before.keys.length);
  const keys = before.keys.slice(0, same);
  for (; !entry.done; entry = entries.next()) {
    const [key, value] = entry.value;
    keys.push(key);
    records.push(value);
    const j = index.get(key);
    if (j !== undefined) used[j] = 1;
    if (j === undefined || !sameRecord(value, before.records[j]!)) upserts.push({ app, key, value });
  }
  for (let j = same; j < before.keys.length; j++) if (!used[j]) deletes.push({ app, key: before.keys[j]! });
  return { columns, keys, records };
}
