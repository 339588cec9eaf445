/**
 * CSV import: streams a CSV file, 1 MiB at a time, and returns the app's accounts. The header row names
 * the attributes (also returned as `columns`, in file order); the key column identifies each account.
 * UTF-8 with or without a BOM (or connection.encoding: latin1, windows-1252, utf-16le); bytes that are not
 * in the encoding refuse their row, naming the column. The connection's delimiter, quote, escape and trim
 * (default true) apply.
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
import { asciiSyntax, genuineReplacements, markNotUtf8, NOT_UTF8 } from './bytes.ts';
import { CsvRecords } from './records.ts';
import { CsvRowReader } from './rows.ts';
import type { CsvSyntax } from './strict-row.ts';
import { unescapeFormula } from './formulas.ts';
import type { CsvEncoding } from './encodings.ts';

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
  const records = new CsvRecords({ app, displayPath, key: options.key, encoding: syntax.encoding });
  const rows = new CsvRowReader(syntax, records);
  const hash = createHash('sha256');
  // With UTF-8 and an ASCII syntax the rows read the file's bytes (bytes.ts), else its decoded characters.
  const decoder = syntax.bytes ? null : textDecoder(syntax.encoding);
  const BOM = BOMS[syntax.encoding];
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
        bytes = BOM.length > 0 && head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
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

/** The byte order mark a file in each encoding may start with (dropped, not part of the first column name). */
const BOMS: Record<CsvEncoding, Buffer> = {
  'utf-8': Buffer.from([0xef, 0xbb, 0xbf]),
  'utf-16le': Buffer.from([0xff, 0xfe]),
  latin1: Buffer.alloc(0),
  'windows-1252': Buffer.alloc(0),
};

interface ChunkDecoder {
  write(bytes: Buffer): string;
  end(): string;
}

/**
 * Node's own decoder for the file's encoding, a chunk at a time (a character split between two chunks
 * is whole in the text). UTF-8 read as characters (a syntax character beyond ASCII) marks bytes that are
 * not UTF-8 as bytes.ts does, but a chunk at a time: in a chunk that also holds a real U+FFFD, that one
 * is taken for bytes that are not UTF-8 too. latin1 maps each byte to the character of that number; windows-1252 is
 * latin1 but for 0x80-0x9F (€, curly quotes, dashes), which the WHATWG decoder knows.
 */
function textDecoder(encoding: CsvEncoding): ChunkDecoder {
  switch (encoding) {
    case 'utf-8': {
      const decoder = new StringDecoder('utf8');
      const marked = (text: string, bytes: Buffer | null) => (text.includes('\ufffd') ? markNotUtf8(text, bytes ? genuineReplacements(bytes) : 0, false) : text);
      return { write: (bytes) => marked(decoder.write(bytes), bytes), end: () => marked(decoder.end(), null) };
    }
    case 'utf-16le': {
      // Half a surrogate pair is not text (PostgreSQL refuses it): marked as bytes that are not UTF-8 are.
      const decoder = new StringDecoder('utf16le');
      const marked = (text: string) => (text.isWellFormed() ? text : text.replace(LONE_SURROGATE, NOT_UTF8));
      return { write: (bytes) => marked(decoder.write(bytes)), end: () => marked(decoder.end()) };
    }
    case 'latin1':
      return { write: (bytes) => bytes.toString('latin1'), end: () => '' };
    case 'windows-1252': {
      const decoder = new TextDecoder('windows-1252');
      return { write: (bytes) => decoder.decode(bytes, { stream: true }), end: () => decoder.decode() };
    }
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The connection's CSV syntax, each character checked (one UTF-16 code unit, no line break, distinct). */
function csvSyntax(app: string, file: string, connection: CsvConnection): CsvSyntax & { encoding: CsvEncoding } {
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
  const encoding = connection.encoding ?? 'utf-8';
  return { delimiter, quote, escape, trim: connection.trim ?? true, bytes: encoding === 'utf-8' && asciiSyntax(delimiter, quote, escape), encoding };
}
