/**
 * Bulk loading with COPY … FROM STDIN (pg-copy-streams), for the writes that insert into emptied tables
 * (a full rewrite) and for the journal: rows are encoded in PostgreSQL's text format and streamed in
 * chunks of about 1 MiB, so 100k users go as one stream, not as statements. Values: null → \N; strings,
 * JSON (for jsonb) and array literals (for text[]) are escaped for the text format (backslash, tab,
 * newline, carriage return). A NUL character cannot be stored and makes PostgreSQL refuse the COPY.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export type CopyValue = string | number | boolean | null | undefined | readonly string[] | Record<string, unknown>;

export async function copyRows(db: ClientBase, table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<void> {
  const stream = db.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(encode(rows)), stream);
}

function* encode(rows: Iterable<readonly CopyValue[]>): Generator<string> {
  let buffer = '';
  for (const row of rows) {
    buffer += row.map(field).join('\t') + '\n';
    if (buffer.length >= 1 << 20) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

function field(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escape(value);
  if (Array.isArray(value)) return escape(`{${value.map((v) => `"${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`);
  return escape(JSON.stringify(value));
}

function escape(text: string): string {
  return /[\\\t\n\r]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : text;
}
