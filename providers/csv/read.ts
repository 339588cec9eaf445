/**
 * CSV import: streams a CSV file, 1 MiB at a time, and returns the app's accounts. The header row names
 * the attributes (also returned as `columns`, in file order); the key column identifies each account.
 * UTF-8 with or without a BOM; the connection's delimiter, quote, escape and trim (default true) apply.
 * A row that cannot be read (bad quoting, wrong field count, empty key) is reported with its first line
 * number and the reason, and every other row still imports (rows.ts reads the rows, with PapaParse;
 * records.ts turns them into accounts). The fingerprint is the SHA-256 of the file's bytes, all of them.
 * A file that cannot be read, or whose header is unusable, is a ProviderError.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import type { SourceSnapshot } from '../../reconciler/model.ts';
import { readFileChunks } from '../../state/chunks.ts';
import { ProviderError } from '../errors.ts';
import { asciiSyntax } from './bytes.ts';
import { CsvRecords } from './records.ts';
import { CsvRowReader } from './rows.ts';
import type { CsvSyntax } from './strict-row.ts';
import { unescapeFormula } from './formulas.ts';

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
  /** The file is a CSV target that escapes formulas (formulas.ts): its values are read without the escape. */
  formulasEscaped?: boolean;
}

export async function readCsvAccounts(options: CsvReadOptions): Promise<SourceSnapshot> {
  return scan(options, false);
}

/**
 * The header's column names, reading no further than the header row (a few KiB of a file of any
 * size); the same checks as a full read (the key column present, no empty or repeated name).
 */
export async function readCsvColumns(options: Omit<CsvReadOptions, 'onProgress'>): Promise<string[]> {
  return (await scan(options, true)).columns!;
}

async function scan(options: CsvReadOptions, headerOnly: boolean): Promise<SourceSnapshot> {
  const { app, displayPath } = options;
  const syntax = csvSyntax(app, displayPath, options.connection);
  let size: number;
  try {
    size = (await stat(options.path)).size;
  } catch (error) {
    throw new ProviderError(app, `cannot read ${displayPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const records = new CsvRecords({ app, displayPath, key: options.key });
  const rows = new CsvRowReader(syntax, records);
  const hash = createHash('sha256');
  // With an ASCII syntax the rows read the file's bytes (bytes.ts), else its decoded characters.
  const decoder = syntax.bytes ? null : new StringDecoder('utf8');
  let bytesRead = 0;
  let bomChecked = false;
  let head = Buffer.alloc(0);
  try {
    // One buffer read into again and again: fresh buffers for a big file cost full GCs of a big heap.
    for await (const chunk of readFileChunks(options.path, headerOnly ? 1 << 16 : undefined)) {
      let bytes = chunk;
      hash.update(bytes);
      bytesRead += bytes.length;
      options.onProgress?.(bytesRead, size);
      if (!bomChecked) {
        // A BOM is not part of the first column name: drop it (even if it came in pieces).
        head = Buffer.concat([head, bytes]);
        if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) continue;
        bomChecked = true;
        bytes = head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
      }
      rows.write(decoder ? decoder.write(bytes) : bytes.toString('latin1'));
      if (headerOnly && records.columns) break;
    }
    if (!(headerOnly && records.columns)) {
      // A file shorter than a BOM that starts like one: its bytes are not a BOM.
      if (!bomChecked) rows.write(decoder ? decoder.write(head) : head.toString('latin1'));
      if (decoder) rows.write(decoder.end());
      rows.end();
    }
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    // A directory, no permission, a disk error: the stream's error, with the file as the config names it.
    throw new ProviderError(app, `cannot read ${displayPath}: ${(error as Error).message}`);
  }
  const columns = records.columns;
  if (!columns) throw new ProviderError(app, `${displayPath} is empty: expected a header row naming the columns`);
  if (options.formulasEscaped) {
    for (const account of records.accounts) {
      const attributes = account.attributes;
      for (const name in attributes) if (attributes[name]!.charCodeAt(0) === 0x27 /* ' */) attributes[name] = unescapeFormula(attributes[name]!);
    }
  }
  return {
    app,
    accounts: records.accounts,
    columns,
    rowErrors: records.rowErrors,
    fingerprint: `sha256:${hash.digest('hex')}`,
  };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The connection's CSV syntax, each character checked (one UTF-16 code unit, no line break, distinct). */
function csvSyntax(app: string, file: string, connection: CsvConnection): CsvSyntax {
  const delimiter = connection.delimiter ?? ',';
  const quote = connection.quote ?? '"';
  const escape = connection.escape ?? quote;
  for (const [name, char] of [['delimiter', delimiter], ['quote', quote], ['escape', escape]] as const) {
    if (char.length !== 1 || char === '\n' || char === '\r') {
      throw new ProviderError(app, `${file}: the CSV ${name} must be one character other than a line break, not ${JSON.stringify(char)}`);
    }
  }
  if (delimiter === quote || delimiter === escape) {
    throw new ProviderError(app, `${file}: the CSV delimiter ${JSON.stringify(delimiter)} cannot also be the ${delimiter === quote ? 'quote' : 'escape'} character`);
  }
  return { delimiter, quote, escape, trim: connection.trim ?? true, bytes: asciiSyntax(delimiter, quote, escape) };
}
