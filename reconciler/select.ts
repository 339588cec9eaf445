/**
 * Stage 2b, select: decides which accounts this run imports. Full imports pass through. Incremental
 * imports keep only rows whose watermark column is at or past the stored watermark and yield the new one.
 * A snapshot that is not the whole list (incremental, JIT, or an app not read in this run) is marked
 * partial and completed with the stored records of its linked accounts, so that users it did not
 * mention keep their source and values, and nobody is treated as missing. A full snapshot with rows
 * that could not be read is completed the same way for the accounts those rows may hold (the recovered
 * keys, or every absent linked account when a key was lost): an unreadable row is not an absent account,
 * so it must not switch its user to another source or clear their values. Completed accounts are marked
 * `stored` and unpack their record only when a stage reads their attributes.
 * It also fixes, per app, the column order the accounts are packed in (records.ts): the stored columns,
 * then any the snapshot adds.
 */
import type { PlanIssue, WatermarkChange } from '../schemas/generated/plan.ts';
import type { AppRecords, DirectoryState, ImportedRecord, Project, SourceAccount, SourceSnapshot } from './model.ts';
import { recordAttributes, snapshotColumns } from './records.ts';

export interface Selection {
  sources: SourceSnapshot[];
  /** app → the column order its accounts are packed in (stored columns first). */
  columns: Map<string, readonly string[]>;
  watermarks: WatermarkChange[];
  warnings: PlanIssue[];
}

export function selectInputs(project: Project, state: DirectoryState, read: SourceSnapshot[]): Selection {
  const byApp = new Map(read.map((s) => [s.app, s]));
  const out: Selection = { sources: [], columns: new Map(), watermarks: [], warnings: [] };
  for (const app of project.profileSources) {
    const imp = project.apps[app]?.import;
    if (!imp) continue;
    let snapshot = byApp.get(app) ?? { app, accounts: [], rowErrors: [], fingerprint: 'not-read', partial: true };
    out.columns.set(app, snapshotColumns(state.imported.get(app)?.columns, snapshot));
    if (imp.mode === 'incremental' && imp.watermark) snapshot = sinceWatermark(snapshot, imp.watermark, Object.hasOwn(state.watermarks, app) ? state.watermarks[app]! : null, out);
    if (!snapshot.partial && snapshot.rowErrors.length > 0) {
      const completed = withStoredAccounts(snapshot, state);
      const kept = completed.accounts.length - snapshot.accounts.length;
      const rows = snapshot.rowErrors.length;
      out.warnings.push({
        code: 'held-back', app,
        message: `${rows} row${rows === 1 ? '' : 's'} of ${app} could not be read; ${kept} linked account${kept === 1 ? '' : 's'} missing from ${app} ${kept === 1 ? 'was' : 'were'} not treated as missing, so their users are left as they are until ${app} reads whole`,
      });
      out.sources.push(completed);
    } else {
      out.sources.push(snapshot.partial ? withStoredAccounts(snapshot, state) : snapshot);
    }
  }
  return out;
}

function sinceWatermark(snapshot: SourceSnapshot, column: string, stored: string | null, out: Selection): SourceSnapshot {
  let highest = stored;
  const accounts: SourceAccount[] = [];
  let unmarked = 0;
  for (const account of snapshot.accounts) {
    const mark = account.attributes[column];
    if (mark === undefined || mark === '') {
      unmarked += 1;
      accounts.push(account); // no marker: cannot tell it is old, so it is applied
      continue;
    }
    if (highest === null || mark > highest) highest = mark;
    // At the watermark counts too: a change made in the same second (or counter value) as the last one
    // applied, but after it was read, would otherwise be missed. Re-reading an unchanged row changes nothing.
    if (stored === null || mark >= stored) accounts.push(account);
  }
  if (unmarked > 0) {
    out.warnings.push({ code: 'row-error', app: snapshot.app, message: `${unmarked} row(s) have no ${column} watermark value; they are applied on every incremental import` });
  }
  if (highest !== null && highest !== stored) out.watermarks.push({ app: snapshot.app, from: stored, to: highest });
  return { ...snapshot, accounts, partial: true };
}

/**
 * Adds the stored record of the linked accounts the snapshot does not carry: all of them for a partial
 * snapshot, and for a full one those its unreadable rows may hold.
 */
function withStoredAccounts(snapshot: SourceSnapshot, state: DirectoryState): SourceSnapshot {
  const app = state.imported.get(snapshot.app);
  if (!app) return snapshot;
  const present = new Set(snapshot.accounts.map((a) => a.key));
  const unreadable = new Set(snapshot.rowErrors.flatMap((e) => (e.key === undefined ? [] : [e.key])));
  const everyAbsent = snapshot.partial === true || snapshot.rowErrors.some((e) => e.key === undefined);
  const accounts = [...snapshot.accounts];
  for (const link of state.links) {
    if (link.app !== snapshot.app || present.has(link.key) || !(everyAbsent || unreadable.has(link.key))) continue;
    const record = app.records.get(link.key);
    if (record) accounts.push(new StoredAccount(link.key, app, record));
  }
  return { ...snapshot, accounts };
}

/** An account completed from its stored record; its attributes are unpacked on first use. */
class StoredAccount implements SourceAccount {
  readonly stored = true as const;
  #attributes: Record<string, string> | undefined;

  readonly key: string;
  private readonly app: AppRecords;
  private readonly record: ImportedRecord;

  constructor(key: string, app: AppRecords, record: ImportedRecord) {
    this.key = key;
    this.app = app;
    this.record = record;
  }

  get attributes(): Record<string, string> {
    return (this.#attributes ??= recordAttributes(this.app, this.record));
  }
}
