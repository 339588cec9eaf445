/**
 * CSV rows to an app's accounts: the first row is the header, which must name every column once and
 * include the key column (else a ProviderError naming file:line); every later row becomes an account whose
 * attributes are the header's columns, in header order. A row with the wrong number of fields or an
 * empty key is a RowError, with the row's key when it can still be recovered, so that the core never
 * counts that account as missing. Rows arrive in file order, so the row errors come out sorted by line.
 */
import type { RowError, SourceAccount } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import { NOT_UTF8 } from './bytes.ts';
import type { RowSink } from './rows.ts';
import { attributesTemplate, ColumnValues, detached } from './values.ts';

export interface CsvRecordsOptions {
  app: string;
  /** The file as the config names it, for messages. */
  displayPath: string;
  key: string;
  /** The file's encoding (connection.encoding), for messages; default utf-8. */
  encoding?: string;
}

interface Header {
  columns: string[];
  keyIndex: number;
  values: ColumnValues;
  newAttributes: () => Record<string, string>;
}

export class CsvRecords implements RowSink {
  readonly accounts: SourceAccount[] = [];
  readonly rowErrors: RowError[] = [];
  private header: Header | null = null;

  private readonly options: CsvRecordsOptions;

  constructor(options: CsvRecordsOptions) {
    this.options = options;
  }

  /** What a row error says of a value whose bytes are not in the file's encoding. */
  private notInEncoding(): string {
    const encoding = this.options.encoding ?? 'utf-8';
    if (encoding !== 'utf-8') return `holds bytes that are not ${encoding} (connection.encoding)`;
    return `holds bytes that are not UTF-8 (${this.options.displayPath} is read as UTF-8; a file Excel on Windows saved is windows-1252 or latin1: set connection.encoding)`;
  }

  /** The header's column names, in file order; null before the header row was read. */
  get columns(): string[] | null {
    return this.header ? this.header.columns : null;
  }

  row(fields: string[], line: number, suspect = false): void {
    const { header } = this;
    if (!header) {
      if (suspect && fields.some((f) => f.includes(NOT_UTF8))) {
        throw new ProviderError(this.options.app, `${this.options.displayPath}:${line}: the header row ${this.notInEncoding()}`);
      }
      this.header = this.readHeader(fields, line);
      return;
    }
    const { columns, keyIndex, values } = header;
    // No text value holds a NUL: PostgreSQL refuses to store one and a target may cut the value there.
    // Nor bytes that are not in the file's encoding: decoded as U+FFFD they would rewrite names. The row
    // is refused alone (its account kept as stored), naming the column; the rest goes on.
    const bad = suspect ? fields.findIndex((f) => f.includes('\u0000') || f.includes(NOT_UTF8)) : -1;
    if (bad !== -1) {
      const key = bad === keyIndex ? undefined : fields[keyIndex]?.trim();
      const what = fields[bad]!.includes('\u0000')
        ? 'holds a NUL character (U+0000), which no value may hold'
        : this.notInEncoding();
      this.rowErrors.push({ line, message: `column ${bad + 1} (${columns[bad] ?? 'beyond the header'}) ${what}; the row is not imported`, ...(key && !key.includes(NOT_UTF8) ? { key: detached(key) } : {}) });
      return;
    }
    if (fields.length !== columns.length) {
      const key = fields[keyIndex]?.trim();
      this.rowErrors.push({ line, message: `wrong number of fields: expect ${columns.length}, got ${fields.length}`, ...(key ? { key: detached(key) } : {}) });
      return;
    }
    if (fields[keyIndex] === '') {
      this.rowErrors.push({ line, message: `empty key column ${this.options.key}` });
      return;
    }
    const attributes = header.newAttributes();
    let key = '';
    for (let i = 0; i < columns.length; i++) {
      const value = values.value(i, fields[i]!);
      attributes[columns[i]!] = value;
      if (i === keyIndex) key = value;
    }
    values.endRow();
    this.accounts.push({ key, attributes, line });
  }

  unreadable(line: number, reason: string): void {
    if (!this.header) throw new ProviderError(this.options.app, `${this.options.displayPath}:${line}: cannot read the header row: ${reason}`);
    this.rowErrors.push({ line, message: reason });
  }

  /** Checks the header row: non-empty, unique column names, the key column present. */
  private readHeader(fields: string[], line: number): Header {
    const { app, displayPath: file, key } = this.options;
    const columns = fields.map(detached);
    const seen = new Set<string>();
    for (const column of columns) {
      if (column === '') throw new ProviderError(app, `${file}:${line}: the header has an empty column name`);
      if (seen.has(column)) throw new ProviderError(app, `${file}:${line}: column ${JSON.stringify(column)} appears twice in the header`);
      seen.add(column);
    }
    const keyIndex = columns.indexOf(key);
    if (keyIndex < 0) {
      throw new ProviderError(app, `${file}:${line}: the key column ${JSON.stringify(key)} is not in the header (columns: ${columns.join(', ')})`);
    }
    return { columns, keyIndex, values: new ColumnValues(columns.length), newAttributes: attributesTemplate(columns) };
  }
}
