/**
 * Imported records, packed. A stored record is one string, the JSON array of the account's values in its
 * app's column order, instead of an object per account with a key and a value per attribute: a million
 * records stay small, and an account that did not change since the last import is recognised by one
 * string comparison. Absent and empty values are the same (a column added later reads as '' on old
 * records, and LDAP reports '' for an attribute an entry lacks); trailing empty values are left out, so a
 * new empty column does not change any record. Columns are only ever appended, so old records keep their
 * meaning.
 */
import type { AppRecords, ImportedRecord, SourceSnapshot } from './model.ts';

/** The account's values in `columns` order ('' for an absent one), trailing empty values left out. */
export function packValues(columns: readonly string[], attributes: Readonly<Record<string, string>>): string {
  let end = columns.length;
  while (end > 0 && !nonEmpty(attributes[columns[end - 1]!])) end--;
  const values: string[] = new Array<string>(end);
  for (let i = 0; i < end; i++) {
    const v = attributes[columns[i]!];
    values[i] = typeof v === 'string' ? v : '';
  }
  return JSON.stringify(values);
}

/** Characters JSON escapes in a string (and surrogates, which it may): quote, backslash, controls. */
// eslint-disable-next-line no-control-regex
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Whether JSON.stringify(value) could be anything but the value between two quotes. */
export function needsJsonEscape(value: string): boolean {
  return ESCAPED.test(value);
}

/**
 * Whether `packed` is what packValues(columns, attributes) gives, without building it: each value is
 * compared in place (the no-change plan of a million accounts asks this a million times).
 */
export function matchesPacked(columns: readonly string[], attributes: Readonly<Record<string, string>>, packed: string): boolean {
  let end = columns.length;
  while (end > 0 && !nonEmpty(attributes[columns[end - 1]!])) end--;
  if (packed.charCodeAt(0) !== 91 /* [ */) return false;
  let at = 1;
  for (let i = 0; i < end; i++) {
    if (i > 0) {
      if (packed.charCodeAt(at) !== 44 /* , */) return false;
      at += 1;
    }
    const raw = attributes[columns[i]!];
    const value = typeof raw === 'string' ? raw : '';
    if (needsJsonEscape(value)) {
      const json = JSON.stringify(value);
      if (!packed.startsWith(json, at)) return false;
      at += json.length;
      continue;
    }
    if (packed.charCodeAt(at) !== 34 /* " */ || !packed.startsWith(value, at + 1) || packed.charCodeAt(at + 1 + value.length) !== 34) return false;
    at += value.length + 2;
  }
  return at === packed.length - 1 && packed.charCodeAt(at) === 93 /* ] */;
}

/** The attributes a packed record holds: every column, '' where the record has no value. */
export function unpackValues(columns: readonly string[], values: string): Record<string, string> {
  const parsed = JSON.parse(values) as unknown;
  if (!Array.isArray(parsed) || parsed.length > columns.length) throw new Error(`a stored record does not fit its ${columns.length} columns`);
  const attributes: Record<string, string> = {};
  for (let i = 0; i < columns.length; i++) {
    const v: unknown = parsed[i];
    setOwn(attributes, columns[i]!, typeof v === 'string' ? v : '');
  }
  return attributes;
}

/** A stored record as the attributes the source gave. */
export function recordAttributes(app: AppRecords, record: ImportedRecord): Record<string, string> {
  return unpackValues(app.columns, record.values);
}

/**
 * The columns to pack a snapshot's accounts with: the app's stored columns, then the names the snapshot
 * adds (its `columns`, or every attribute name its accounts use, in the order first seen). Returns the
 * stored array itself when nothing is new.
 */
export function snapshotColumns(stored: readonly string[] | undefined, snapshot: Pick<SourceSnapshot, 'columns' | 'accounts'>): readonly string[] {
  const base = stored ?? [];
  const known = new Set(base);
  let added: string[] | null = null;
  const consider = (name: string) => {
    if (known.has(name)) return;
    known.add(name);
    (added ??= []).push(name);
  };
  if (snapshot.columns) {
    for (const name of snapshot.columns) consider(name);
  } else {
    for (const account of snapshot.accounts) for (const name of Object.keys(account.attributes)) consider(name);
  }
  return added ? [...base, ...added] : base;
}

function nonEmpty(value: string | undefined): boolean {
  return typeof value === 'string' && value !== '';
}

/**
 * target[key] = value as an own property even for "__proto__" (an assignment would set the prototype and
 * drop the value): attribute names are data, from CSV headers, JSON keys and JIT bodies.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** target[key] when it is the map's own (never an inherited toString or constructor), else undefined. */
export function ownValue<T>(target: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}
