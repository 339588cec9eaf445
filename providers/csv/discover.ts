/**
 * Schema discovery for a CSV app: its header row, with each column's type inferred from the rows (integer,
 * number, boolean, or string; the key column and id-like columns stay strings, since ids are not numbers
 * even when they look like them), how many rows leave it empty, and whether its values are unique. Only the
 * key column is declared unique: uniqueness seen in a sample is a hint in the comment, not a rule.
 */
import type { DiscoveredAttribute } from '../discovery.ts';
import { readCsvAccounts, type CsvReadOptions } from './read.ts';

export async function discoverCsv(options: CsvReadOptions): Promise<{ attributes: DiscoveredAttribute[]; note: string }> {
  const snapshot = await readCsvAccounts(options);
  // The header, as read: a file with a header and no data rows still lists its columns.
  const columns = snapshot.columns ?? [];
  const attributes = columns.map((name): DiscoveredAttribute => {
    const values = snapshot.accounts.map((a) => a.attributes[name] ?? '').filter((v) => v !== '');
    const empty = snapshot.accounts.length - values.length;
    const idLike = isIdLike(name, options.key);
    const distinct = values.length > 1 && new Set(values).size === values.length;
    return {
      name,
      type: idLike ? 'string' : inferType(values),
      multiValued: false,
      required: empty === 0 && values.length > 0,
      unique: name === options.key,
      description: [`${empty} of ${snapshot.accounts.length} rows empty`, ...(distinct && name !== options.key ? ['distinct in these rows'] : []), ...(values[0] !== undefined ? [`e.g. ${JSON.stringify(values[0]).slice(0, 40)}`] : [])].join('; '),
    };
  });
  return { attributes, note: `${options.displayPath}: ${columns.length} columns, types inferred from ${snapshot.accounts.length} rows${snapshot.rowErrors.length ? ` (${snapshot.rowErrors.length} unreadable rows ignored)` : ''}` };
}

/** The key column, and columns named like ids (employee_id, badgeNumber, cost-code): strings, even when numeric. */
export function isIdLike(name: string, key: string): boolean {
  return name === key || /(^|_|-)(id|number|no|code|key)$|Id$/i.test(name);
}

/** The narrowest type every non-empty value fits: integer, number, boolean, else string. */
export function inferType(values: string[]): DiscoveredAttribute['type'] {
  if (values.length === 0) return 'string';
  if (values.every((v) => /^-?(0|[1-9]\d{0,14})$/.test(v))) return 'integer';
  if (values.every((v) => /^-?(0|[1-9]\d*)(\.\d+)?$/.test(v) && Number.isFinite(Number(v)))) return 'number';
  if (values.every((v) => v === 'true' || v === 'false')) return 'boolean';
  return 'string';
}
