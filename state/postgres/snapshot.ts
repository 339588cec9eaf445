/**
 * The changed-rows write path. A Snapshot is what the database held after this store's last read() or
 * write(): for each user, link and imported record the very object it returned or was given, and the
 * stored position (`ord`) of users and links, tagged with the write token the database held then. When
 * the database still holds that token (checked under FOR UPDATE in the write's transaction; every write
 * sets a new one), the stored rows are exactly the snapshot, so only rows whose object is not the identical one (by reference) need writing, plus deletes
 * of keys that disappeared. Objects handed out by read() must therefore be treated as immutable: a record
 * changed in place instead of replaced would not be written (reconciler/apply-plan.ts replaces them).
 *
 * Order is kept: a table is planned as a diff only when its surviving rows keep their relative order and
 * new rows come after them (new rows get positions past the largest one); otherwise, when there is no
 * snapshot, or when most rows changed anyway, the table is planned as a replacement (TRUNCATE + insert,
 * positions 0..n-1).
 */
import type { UserRecord } from '../../schemas/generated/plan.ts';
import type { DirectoryState, StoredLink } from '../../reconciler/model.ts';
import { importedRows, type ImportedRow, type Placed } from './rows.ts';

export interface Snapshot {
  /** meta.write_token of the database content this snapshot mirrors (a fresh random one per write). */
  token: string | null;
  users: Map<string, Placed<UserRecord>>;
  links: Map<string, Placed<StoredLink>>;
  imported: Map<string, ImportedRow>;
}

export type TablePlan<Row> =
  | { mode: 'replace'; rows: Row[] }
  | { mode: 'diff'; upserts: Row[]; deletes: Row[] };

export interface WritePlan {
  users: TablePlan<Placed<UserRecord>>;
  links: TablePlan<Placed<StoredLink>>;
  imported: TablePlan<ImportedRow>;
  /** The snapshot the database holds once this plan is committed. */
  after: Snapshot;
}

export const userKey = (u: UserRecord): string => u.id;
export const pairKey = (r: { app: string; key: string }): string => `${r.app}\u0000${r.key}`;

/** Plans a write of `next` against `previous` (null: what the database holds is unknown). */
export function planWrite(next: DirectoryState, previous: Snapshot | null, token: string): WritePlan {
  const users = planOrdered(next.users, userKey, previous?.users ?? null);
  const links = planOrdered(next.links, pairKey, previous?.links ?? null);
  const imported = planImported(next.imported, previous?.imported ?? null);
  return {
    users: users.plan,
    links: links.plan,
    imported: imported.plan,
    after: { token, users: users.after, links: links.after, imported: imported.after },
  };
}

function planOrdered<T>(next: readonly T[], keyOf: (value: T) => string, previous: Map<string, Placed<T>> | null): { plan: TablePlan<Placed<T>>; after: Map<string, Placed<T>> } {
  const replace = () => {
    const rows = next.map((value, ord) => ({ value, ord }));
    return { plan: { mode: 'replace' as const, rows }, after: new Map(rows.map((r) => [keyOf(r.value), r])) };
  };
  if (!previous || previous.size === 0) return replace();
  let appendOrd = 0;
  for (const p of previous.values()) appendOrd = Math.max(appendOrd, p.ord + 1);
  const after = new Map<string, Placed<T>>();
  const upserts: Placed<T>[] = [];
  let last = -1;
  for (const value of next) {
    const key = keyOf(value);
    const before = previous.get(key);
    const ord = before ? before.ord : appendOrd++;
    if (ord <= last || after.has(key)) return replace(); // reordered, inserted in the middle, or a duplicate key
    last = ord;
    const placed = before?.value === value ? before : { value, ord };
    if (placed !== before) upserts.push(placed);
    after.set(key, placed);
  }
  const deletes: Placed<T>[] = [];
  for (const [key, p] of previous) if (!after.has(key)) deletes.push(p);
  if (upserts.length + deletes.length > next.length / 2) return replace();
  return { plan: { mode: 'diff', upserts, deletes }, after };
}

function planImported(next: DirectoryState['imported'], previous: Map<string, ImportedRow> | null): { plan: TablePlan<ImportedRow>; after: Map<string, ImportedRow> } {
  const after = new Map<string, ImportedRow>();
  const upserts: ImportedRow[] = [];
  for (const row of importedRows(next)) {
    const key = pairKey(row);
    const before = previous?.get(key);
    const kept = before?.value === row.value ? before : row;
    if (kept !== before) upserts.push(row);
    after.set(key, kept);
  }
  if (!previous || previous.size === 0) return { plan: { mode: 'replace', rows: [...after.values()] }, after };
  const deletes: ImportedRow[] = [];
  for (const [key, row] of previous) if (!after.has(key)) deletes.push(row);
  if (upserts.length + deletes.length > after.size / 2) return { plan: { mode: 'replace', rows: [...after.values()] }, after };
  return { plan: { mode: 'diff', upserts, deletes }, after };
}

/** The snapshot of a state just read, given the stored positions of its users and links (parallel arrays). */
export function snapshotOf(state: DirectoryState, token: string | null, userOrds: readonly number[], linkOrds: readonly number[]): Snapshot {
  const users = new Map<string, Placed<UserRecord>>();
  state.users.forEach((value, i) => users.set(value.id, { value, ord: userOrds[i]! }));
  const links = new Map<string, Placed<StoredLink>>();
  state.links.forEach((value, i) => links.set(pairKey(value), { value, ord: linkOrds[i]! }));
  const imported = new Map<string, ImportedRow>();
  for (const row of importedRows(state.imported)) imported.set(pairKey(row), row);
  return { token, users, links, imported };
}
