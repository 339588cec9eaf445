/**
 * Turns the records an http listing returned into an import snapshot.
 * Contract:
 * - Each record that is a JSON object with a key becomes one account: key = the value at the app's key
 *   (a dotted path; a string, or a number as its JSON text); attributes = the record flattened
 *   (flatten.ts), with every name any record of the listing has, and every name the config reads
 *   from the app, present on every account ('' where a record lacks it), so that `app.phone` reads ''
 *   rather than failing on the records that have no phone. `columns` lists those names, the key first.
 * - A record that is not an object, has no key (absent, null, '', or an object or a list), or has the
 *   key of a record before it is a row error (line = its position in the listing, the message names
 *   its page), never an account; a duplicate keeps its key, so the core keeps that account's stored
 *   values rather than take it as missing. A duplicate that is the very same record (same JSON) is
 *   counted in `repeats`: pages that overlap, which the reader does not count towards the total.
 * - The watermark attribute of an incremental import, when its value is digits only, is zero-padded
 *   (query.ts) so that counters compare as strings.
 * - fingerprint: SHA-256 over every record's JSON text in key order (records without a key last, in
 *   listing order), so the order the server pages in does not change it.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { RowError, SourceAccount, SourceSnapshot } from '../../reconciler/model.ts';
import { nulAttribute, nulMessage, storable } from '../nul-check.ts';
import { flattenRecord } from './flatten.ts';
import type { ListedRecord } from './listing.ts';
import { isObject, kindOf, readPath } from './paths.ts';
import { padWatermark } from './query.ts';

export interface SnapshotOptions {
  app: string;
  /** The key's name as the config gives it, and its segments. */
  key: string;
  keyPath: string[];
  records: ListedRecord[];
  /** Names the config reads from the app (reconciler/app-references.ts importReads). */
  names: string[];
  /** The incremental import's watermark attribute, if any. */
  watermark?: string;
  partial: boolean;
}

export interface Imported {
  snapshot: SourceSnapshot;
  /** Records that repeat an earlier record exactly (same key, same JSON): a page overlapping another. */
  repeats: number;
}

export function toSnapshot(options: SnapshotOptions): Imported {
  const { key } = options;
  const accounts: SourceAccount[] = [];
  const rowErrors: RowError[] = [];
  const firstOf = new Map<string, { listed: ListedRecord; text: string }>();
  let repeats = 0;
  const columns = new Set<string>([key, ...options.names]);
  const hashed: { key: string | null; position: number; text: string }[] = [];
  for (const listed of options.records) {
    const { record, position: line, page } = listed;
    const text = JSON.stringify(record);
    const value = isObject(record) ? keyText(readPath(record, options.keyPath)) : null;
    hashed.push({ key: value, position: line, text });
    if (!isObject(record)) {
      rowErrors.push({ line, message: `the record on page ${page} is ${kindOf(record)}, not a JSON object` });
      continue;
    }
    if (value === null) {
      rowErrors.push({ line, message: `the record on page ${page} has no ${key} (the key): ${describeKey(readPath(record, options.keyPath))}` });
      continue;
    }
    const first = firstOf.get(value);
    if (first !== undefined) {
      const same = first.text === text;
      if (same) repeats++;
      const what = same ? `is the same record as record ${first.listed.position} (page ${first.listed.page}): the pages overlap` : `has ${key} ${JSON.stringify(value)}, like record ${first.listed.position} (page ${first.listed.page}); keys must be unique`;
      rowErrors.push({ line, key: value, message: `the record on page ${page} ${what}` });
      continue;
    }
    firstOf.set(value, { listed, text });
    const attributes = flattenRecord(record);
    // JSON writes a NUL as \u0000 and half a surrogate pair as \udxxx: the text says at once whether
    // the record may hold one anywhere.
    if (text.includes('\\u0000') || text.includes('\\ud')) {
      const bad = nulAttribute(attributes);
      if (bad !== null) {
        rowErrors.push({ line, ...(storable(value) ? { key: value } : {}), message: nulMessage(`the record on page ${page}`, bad, attributes[bad]!) });
        continue;
      }
    }
    for (const name of Object.keys(attributes)) columns.add(name);
    if (options.watermark !== undefined && attributes[options.watermark]) attributes[options.watermark] = padWatermark(attributes[options.watermark]!);
    accounts.push({ key: value, attributes, line });
  }
  const names = [...columns];
  for (const account of accounts) {
    for (const name of names) if (!Object.hasOwn(account.attributes, name)) account.attributes[name] = '';
  }
  return {
    snapshot: {
      app: options.app, accounts, rowErrors, columns: names, fingerprint: fingerprint(hashed),
      ...(options.partial ? { partial: true } : {}),
    },
    repeats,
  };
}

/** A key value as text, or null when it is not a usable key. */
function keyText(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function describeKey(value: unknown): string {
  if (value === undefined) return 'it is absent';
  if (value === '') return 'it is empty';
  return `it is ${kindOf(value)}`;
}

function fingerprint(records: { key: string | null; position: number; text: string }[]): string {
  const ordered = [...records].sort((a, b) => {
    if (a.key === null || b.key === null) return a.key === b.key ? a.position - b.position : a.key === null ? 1 : -1;
    return a.key < b.key ? -1 : a.key > b.key ? 1 : a.position - b.position;
  });
  const hash = createHash('sha256');
  for (const r of ordered) hash.update(`${r.key ?? ''}\u0000${r.text}\n`);
  return `sha256:${hash.digest('hex')}`;
}

