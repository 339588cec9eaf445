/**
 * CSV export target: applies account changes to an app's CSV file and replaces it atomically (temp file,
 * fsync, rename), so a reader never sees half a file. Every change is compare-and-set: an attribute is
 * written only while the file still holds the value the plan expected (`from`); a change whose target
 * moved since the plan is skipped and reported, never forced. A change already in place (a re-run after a
 * crash) counts as done. A file with rows that cannot be read is never rewritten, since that would drop
 * them: the whole target fails with the reason.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import type { AccountChange } from '../../schemas/generated/plan.ts';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import type { SourceAccount } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import { readCsvAccounts } from './read.ts';
import { escapeFormula } from './formulas.ts';
import { encode, preamble, unencodable } from './encodings.ts';
import { ownValue, setOwn } from '../../reconciler/records.ts';

export interface ChangeResult {
  app: string;
  key: string;
  action: AccountChange['action'];
  outcome: 'done' | 'skipped' | 'failed';
  message?: string;
}

export interface CsvWriteOptions {
  app: string;
  path: string;
  displayPath: string;
  connection: CsvConnection;
  key: string;
  status: { attribute: string; enabled: string; disabled: string };
}

export async function applyCsvTarget(options: CsvWriteOptions, changes: AccountChange[]): Promise<ChangeResult[]> {
  const { header, rows } = await readExisting(options);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const columns = [...header];
  const addColumn = (name: string) => {
    if (!columns.includes(name)) columns.push(name);
  };
  if (!columns.includes(options.key)) columns.unshift(options.key);

  const results: ChangeResult[] = [];
  const result = (change: AccountChange, outcome: ChangeResult['outcome'], message?: string) =>
    results.push({ app: options.app, key: change.key, action: change.action, outcome, ...(message ? { message } : {}) });

  const encoding = options.connection.encoding ?? 'utf-8';
  for (const change of changes) {
    const row = byKey.get(change.key);
    const wanted = Object.fromEntries(Object.entries(change.attributes).map(([k, v]) => [k, v.to ?? '']));
    const lost = Object.entries(wanted).map(([k, v]) => [k, unencodable(v, encoding)] as const).find(([, c]) => c !== null);
    if (lost) {
      const char = lost[1]!;
      result(change, 'failed', `${lost[0]} holds ${JSON.stringify(char)} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}), which ${encoding} cannot hold (connection.encoding); not written`);
      continue;
    }
    if (change.action === 'link') {
      result(change, row ? 'done' : 'failed', row ? undefined : 'the account is no longer in the file');
      continue;
    }
    if (change.action === 'create') {
      if (row) {
        // A re-run after a crash between create and record: the account is there already.
        if (Object.entries(wanted).every(([k, v]) => (ownValue(row.attributes, k) ?? '') === v)) result(change, 'done', 'already created');
        else result(change, 'skipped', `an account with key ${change.key} already exists with other values; the next plan links it`);
        continue;
      }
      const attributes: Record<string, string> = { ...wanted };
      setOwn(attributes, options.key, change.key);
      setOwn(attributes, options.status.attribute, options.status.enabled);
      Object.keys(attributes).forEach(addColumn);
      const created = { key: change.key, attributes };
      rows.push(created);
      byKey.set(change.key, created);
      result(change, 'done');
      continue;
    }
    if (!row) {
      result(change, 'failed', 'the account is no longer in the file');
      continue;
    }
    if (change.action === 'delete') {
      rows.splice(rows.indexOf(row), 1);
      byKey.delete(change.key);
      result(change, 'done');
      continue;
    }
    const moved = Object.entries(change.attributes).filter(([k, v]) => (ownValue(row.attributes, k) ?? '') !== (v.from ?? '') && (ownValue(row.attributes, k) ?? '') !== (v.to ?? ''));
    if (moved.length > 0) {
      result(change, 'skipped', `changed in the file since the plan: ${moved.map(([k]) => k).join(', ')}; not overwritten (plan again)`);
      continue;
    }
    for (const [k, v] of Object.entries(wanted)) {
      addColumn(k);
      setOwn(row.attributes, k, v);
    }
    if (change.action === 'disable' || change.action === 'enable') {
      addColumn(options.status.attribute);
      row.attributes[options.status.attribute] = change.action === 'disable' ? options.status.disabled : options.status.enabled;
    }
    result(change, 'done');
  }

  if (results.some((r) => r.outcome === 'done' && r.action !== 'link')) await writeAtomically(options, columns, rows);
  return results;
}

async function readExisting(options: CsvWriteOptions): Promise<{ header: string[]; rows: SourceAccount[] }> {
  let snapshot;
  try {
    snapshot = await readCsvAccounts({ app: options.app, path: options.path, displayPath: options.displayPath, connection: options.connection, key: options.key, formulasEscaped: options.connection.escapeFormulas !== false });
  } catch (error) {
    if (error instanceof ProviderError && /no such file/.test(error.message)) return { header: [], rows: [] };
    throw error;
  }
  if (snapshot.rowErrors.length > 0) {
    const first = snapshot.rowErrors[0]!;
    throw new ProviderError(options.app, `${options.displayPath} has ${snapshot.rowErrors.length} row(s) that cannot be read (first: line ${first.line}: ${first.message}); rewriting it would drop them, so nothing was written`);
  }
  const header = snapshot.columns ?? [];
  return { header, rows: snapshot.accounts.map((a) => ({ key: a.key, attributes: { ...a.attributes } })) };
}

async function writeAtomically(options: CsvWriteOptions, columns: string[], rows: SourceAccount[]): Promise<void> {
  const temp = `${options.path}.${process.pid}.${randomUUID()}.tmp`;
  const csv = {
    delimiter: options.connection.delimiter ?? ',', quote: options.connection.quote ?? '"', escape: options.connection.escape ?? options.connection.quote ?? '"',
    // The reader trims unquoted values: quote a value with surrounding whitespace, or it would not read back as written.
    quoted_match: /^\s|\s$/,
  };
  // Formula-looking values as text (formulas.ts), unless the config turned that off.
  const cell = options.connection.escapeFormulas === false ? (value: string) => value : escapeFormula;
  const handle = await open(temp, 'w');
  try {
    const encoding = options.connection.encoding ?? 'utf-8';
    await handle.write(Buffer.concat([preamble(encoding), encode(stringify([columns], csv), encoding)]));
    for (let i = 0; i < rows.length; i += 5000) {
      await handle.write(encode(stringify(rows.slice(i, i + 5000).map((r) => columns.map((c) => cell(ownValue(r.attributes, c) ?? ''))), csv), encoding));
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, options.path);
}
