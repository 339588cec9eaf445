/**
 * CSV import: streams a CSV file through csv-parse and returns the app's accounts. The header row names
 * the attributes; the key column identifies each account. UTF-8 with or without a BOM. A row that cannot
 * be read (bad quoting, wrong field count, empty key) is reported with its line number and the reason,
 * and every other row still imports; when the key of a bad row can be recovered it is kept, so that the
 * core never counts that account as missing.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse, type Info } from 'csv-parse';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import type { RowError, SourceAccount, SourceSnapshot } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';

export interface CsvReadOptions {
  app: string;
  /** Absolute path of the file. */
  path: string;
  /** The path as the config wrote it, for messages. */
  displayPath: string;
  connection: CsvConnection;
  key: string;
  /** Called with bytes read so far and the file size, for progress bars. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

export async function readCsvAccounts(options: CsvReadOptions): Promise<SourceSnapshot> {
  const { app, displayPath } = options;
  let size: number;
  try {
    size = (await stat(options.path)).size;
  } catch (error) {
    throw new ProviderError(app, `cannot read ${displayPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const hash = createHash('sha256');
  const input = createReadStream(options.path, { highWaterMark: 1 << 20 });
  let bytesRead = 0;
  input.on('data', (chunk) => {
    hash.update(chunk as Buffer);
    bytesRead += chunk.length;
    options.onProgress?.(bytesRead, size);
  });

  // csv-parse reports skipped rows while it parses a chunk, possibly before the header reaches us, so
  // the key of a bad row is recovered once the header is known.
  const rowErrors = new Map<number, RowError & { record?: string[] }>();
  let keyIndex = -1;
  const parser = parse({
    bom: true,
    info: true,
    delimiter: options.connection.delimiter ?? ',',
    quote: options.connection.quote ?? '"',
    escape: options.connection.escape ?? options.connection.quote ?? '"',
    trim: options.connection.trim ?? true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      if (!error) return undefined;
      const line = Number((error as { lines?: number }).lines ?? 0);
      const record = (error as { record?: string[] }).record;
      if (!rowErrors.has(line)) rowErrors.set(line, { line, message: plainReason(error.message), ...(record ? { record } : {}) });
      return undefined;
    },
  });

  const accounts: SourceAccount[] = [];
  let header: string[] | null = null;
  try {
    for await (const { record, info } of input.pipe(parser) as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = info.lines - newlinesIn(record);
      if (!header) {
        header = record;
        keyIndex = checkHeader(app, displayPath, header, options.key);
        continue;
      }
      const key = record[keyIndex] ?? '';
      if (key === '') {
        rowErrors.set(line, { line, message: `empty key column ${options.key}` });
        continue;
      }
      const attributes: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) attributes[header[i]!] = record[i] ?? '';
      accounts.push({ key, attributes, line });
    }
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    const line = Number((error as { lines?: number }).lines ?? 0);
    // An error csv-parse cannot skip ends the file: everything after it is unread.
    rowErrors.set(line, { line, message: `${plainReason((error as Error).message)}; the rest of the file was not read` });
  }
  if (!header) throw new ProviderError(app, `${displayPath} is empty: expected a header row naming the columns`);
  return {
    app,
    accounts,
    rowErrors: [...rowErrors.values()].sort((a, b) => a.line - b.line).map(({ record, ...error }) => {
      const key = record?.[keyIndex]?.trim();
      return key ? { ...error, key } : error;
    }),
    fingerprint: `sha256:${hash.digest('hex')}`,
  };
}

/** Checks the header row (non-empty, unique column names, key column present) and returns the key index. */
function checkHeader(app: string, file: string, header: string[], key: string): number {
  const seen = new Set<string>();
  for (const column of header) {
    if (column === '') throw new ProviderError(app, `${file}:1: the header has an empty column name`);
    if (seen.has(column)) throw new ProviderError(app, `${file}:1: column ${JSON.stringify(column)} appears twice in the header`);
    seen.add(column);
  }
  const index = header.indexOf(key);
  if (index < 0) {
    throw new ProviderError(app, `${file}:1: the key column ${JSON.stringify(key)} is not in the header (columns: ${header.join(', ')})`);
  }
  return index;
}

function newlinesIn(record: string[]): number {
  let n = 0;
  for (const field of record) for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

/** csv-parse messages end with parser internals; keep the part a person needs. */
function plainReason(message: string): string {
  return message.replace(/ instead of delimiter, record delimiter, trimable character \(if activated\) or comment$/, '').replace(/^Invalid Record Length: /, 'wrong number of fields: ');
}
