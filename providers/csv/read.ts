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
import { finished } from 'node:stream/promises';
import { parse, type InfoRecord } from 'csv-parse';
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
  // pipe() does not forward errors: without this listener a read error (a directory, no permission)
  // would be an uncaught exception, and the parser would wait forever.
  let inputError: Error | undefined;
  input.on('error', (error) => {
    inputError = error;
    parser.destroy(error);
  });

  const rowErrors = new Map<number, RowError>();
  let keyIndex = -1;
  // Line bookkeeping, done in parse order (in the parser's callbacks, not in the consumer, which lags
  // behind). csv-parse counts the CR and the LF of a CRLF inside a quoted field as two lines: `surplus`
  // is that excess so far. `lastEnd` is the last line of the last row parsed and `emptyAtLastEnd` the
  // blank lines skipped until then, to place a row whose quote is never closed.
  let surplus = 0;
  let lastEnd = 0;
  let emptyAtLastEnd = 0;
  /** Set when csv-parse hit an error it cannot go on from: the line of that row. */
  let stoppedAt: number | null = null;
  const firstLineOf = (csvLine: number, record: readonly string[], emptyLines: number): number => {
    const { crlf, breaks } = lineBreaksIn(record);
    surplus += crlf;
    lastEnd = csvLine - surplus;
    emptyAtLastEnd = emptyLines;
    return lastEnd - breaks;
  };
  const parser = parse({
    bom: true,
    delimiter: options.connection.delimiter ?? ',',
    quote: options.connection.quote ?? '"',
    escape: options.connection.escape ?? options.connection.quote ?? '"',
    trim: options.connection.trim ?? true,
    // Any line ending, even mixed in one file (auto-discovery keeps the first one it sees, and would
    // then leave a CR in the last field and count it as a line).
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    skip_records_with_error: true,
    // The first record is the header: check it here, synchronously, so that the key index is known
    // when the errors of the rows parsed in the same chunk are reported (on_skip runs before the
    // consumer sees the header). The stream then yields { record, line } (csv-parse passes on whatever
    // on_record returns; its types say a record).
    on_record: ((record: string[], context: InfoRecord): ParsedRow | null => {
      if (stoppedAt !== null) return null;
      if (keyIndex < 0) keyIndex = checkHeader(app, displayPath, record, options.key);
      return { record, line: firstLineOf(context.lines, record, context.empty_lines) };
    }) as unknown as (record: string[], context: InfoRecord) => string[],
    on_skip: (error) => {
      if (!error || stoppedAt !== null) return undefined;
      const code = (error as { code?: string }).code;
      const csvLine = Number((error as { lines?: number }).lines ?? 0);
      const emptyLines = Number((error as { empty_lines?: number }).empty_lines ?? 0);
      if (code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE') {
        // After this error csv-parse drops the rest of its buffer and parses garbage from then on:
        // report the row, ignore everything after it and say so, rather than lose rows silently.
        // (Not thrown: that would destroy the stream and lose the rows parsed but not yet consumed.)
        stoppedAt = csvLine - surplus;
        rowErrors.set(stoppedAt, { line: stoppedAt, message: `${plainReason(error.message)}; the rest of the file was not read` });
        return undefined;
      }
      if (code === 'CSV_QUOTE_NOT_CLOSED') {
        // Raised at the end of the input: the open quote swallowed everything after the row's start.
        const line = lastEnd + 1 + (emptyLines - emptyAtLastEnd);
        rowErrors.set(line, { line, message: 'Quote Not Closed: a quoted field on this row is never closed; the rest of the file was not read' });
        return undefined;
      }
      if (code === 'CSV_INVALID_CLOSING_QUOTE') {
        // csv-parse stays inside the quoted field after this error and would swallow the following
        // rows; leave the quote so that the bad row ends at its line break and the next rows import.
        const state = (parser as unknown as { state?: { quoting?: boolean } }).state;
        if (state) state.quoting = false;
      }
      const record = (error as { record?: string[] }).record;
      let line: number;
      if (record) {
        line = firstLineOf(csvLine, record, emptyLines);
      } else {
        // A quoting error: the row ends at the line break of the line the error is on.
        line = lastEnd = csvLine - surplus;
        emptyAtLastEnd = emptyLines;
      }
      const key = keyIndex >= 0 ? record?.[keyIndex]?.trim() : undefined;
      if (!rowErrors.has(line)) rowErrors.set(line, { line, message: plainReason(error.message), ...(key ? { key } : {}) });
      return undefined;
    },
  });

  const accounts: SourceAccount[] = [];
  let header: string[] | null = null;
  let stopped = false;
  try {
    for await (const { record, line } of input.pipe(parser) as AsyncIterable<ParsedRow>) {
      if (!header) {
        header = record;
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
    if (inputError) throw new ProviderError(app, `cannot read ${displayPath}: ${inputError.message}`);
    if (error instanceof ProviderError) {
      input.destroy();
      throw error;
    }
    const line = Number((error as { lines?: number }).lines ?? 0) - surplus;
    // An error csv-parse cannot skip ends the file: everything after it is unread.
    rowErrors.set(line, { line, message: `${plainReason((error as Error).message)}; the rest of the file was not read` });
    stopped = true;
  }
  if (stopped && !input.readableEnded) {
    // Read the rest anyway, so that the fingerprint covers the whole file and the file is closed.
    input.unpipe(parser);
    input.resume();
    try {
      await finished(input);
    } catch (error) {
      throw new ProviderError(app, `cannot read ${displayPath}: ${(error as Error).message}`);
    }
  }
  if (!header) {
    const first = [...rowErrors.values()].sort((a, b) => a.line - b.line)[0];
    if (first) throw new ProviderError(app, `${displayPath}:${first.line}: cannot read the header row: ${first.message}`);
    throw new ProviderError(app, `${displayPath} is empty: expected a header row naming the columns`);
  }
  return {
    app,
    accounts,
    rowErrors: [...rowErrors.values()].sort((a, b) => a.line - b.line),
    fingerprint: `sha256:${hash.digest('hex')}`,
  };
}

interface ParsedRow {
  record: string[];
  /** The row's first line in the file (1-based). */
  line: number;
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

/**
 * Line breaks inside a record's fields (CRLF, LF or a lone CR, each one break), and how many of them are
 * CRLF, which csv-parse counts as two lines.
 */
function lineBreaksIn(record: readonly string[]): { breaks: number; crlf: number } {
  let breaks = 0;
  let crlf = 0;
  for (const field of record) {
    for (let i = 0; i < field.length; i++) {
      const c = field.charCodeAt(i);
      if (c === 13) {
        breaks++;
        if (field.charCodeAt(i + 1) === 10) {
          crlf++;
          i++;
        }
      } else if (c === 10) {
        breaks++;
      }
    }
  }
  return { breaks, crlf };
}

/**
 * csv-parse messages end with parser internals; keep the part a person needs. Its line number goes too:
 * the row error carries the row's first line, which csv-parse's count (last line, CRLF counted twice
 * inside quotes) can contradict.
 */
function plainReason(message: string): string {
  return message.replace(/ (?:at|on) line \d+/, '').replace(/ instead of delimiter, record delimiter, trimable character \(if activated\) or comment$/, '').replace(/^Invalid Record Length: /, 'wrong number of fields: ');
}
