/**
 * Bulk transfer with COPY (pg-copy-streams), both ways, in PostgreSQL's text format.
 *
 * In: `copyRows` loads rows into a table with COPY … FROM STDIN, for the writes that insert into emptied
 * tables (a full rewrite) and for the journal. Rows come from any iterable of lines (a generator over the
 * state or the journal, never an array of them), each line made with the `encode` helpers and written
 * straight into UTF-8 chunks of about 1 MiB, so 1M users go as one stream, not as statements.
 * `encode.text` escapes backslash, tab, newline and carriage return; JSON text can only hold backslashes
 * (JSON escapes control characters itself), so `encode.json` doubles those alone. A NUL character cannot
 * be stored and makes PostgreSQL refuse the COPY. `freeze` loads the rows frozen (COPY FREEZE): only for a
 * table truncated earlier in the same transaction; readers then need not set hint bits.
 *
 * Out: `copyLines` streams a query's rows with COPY (…) TO STDOUT and hands each row's line, undecoded,
 * to a callback (memory stays one chunk); `field` undoes the text format's escapes of one field.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/** Loads `lines` (one row each, fields joined by tabs, made with `encode`) into `table`. */
export async function copyRows(db: ClientBase, table: string, columns: readonly string[], lines: Iterable<string>, options: { freeze?: boolean } = {}): Promise<void> {
  const stream = db.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN${options.freeze ? ' WITH (FREEZE)' : ''}`));
  await pipeline(Readable.from(chunks(lines)), stream);
}

const CHUNK = 1 << 20;

/** The lines as UTF-8 in chunks of about CHUNK bytes, each line encoded straight into its chunk. */
function* chunks(lines: Iterable<string>): Generator<Buffer> {
  let buffer = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  for (const line of lines) {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const room = line.length * 3 + 1;
    if (used + room > buffer.length) {
      if (used > 0) yield buffer.subarray(0, used);
      buffer = Buffer.allocUnsafe(Math.max(CHUNK, room));
      used = 0;
    }
    used += buffer.write(line, used);
    buffer[used++] = 0x0a;
  }
  if (used > 0) yield buffer.subarray(0, used);
}

const SPECIAL = /[\\\t\n\r]/;

/** One field of a COPY text line, by the column's type. */
export const encode = {
  text(value: string | null): string {
    if (value === null) return '\\N';
    return SPECIAL.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
  },
  /** A value as JSON (for json and jsonb columns). */
  json(value: unknown): string {
    return value === null || value === undefined ? '\\N' : encode.jsonText(JSON.stringify(value));
  },
  /** Text that is already JSON (JSON.stringify's output, packed values). */
  jsonText(text: string): string {
    return text.indexOf('\\') === -1 ? text : text.replaceAll('\\', '\\\\');
  },
  /** A text[] value. */
  textArray(values: readonly string[]): string {
    return values.length === 0 ? '{}' : encode.text(`{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`);
  },
  bool: (value: boolean): string => (value ? 't' : 'f'),
  int: (value: number): string => String(value),
};

/**
 * Runs `COPY (query) TO STDOUT` and calls `each` with every row's line (without its line break), still
 * in the text format: fields separated by tabs, escapes in place (see `field`). `chunkDone`, if given,
 * is told after each chunk how many rows were read so far.
 */
export async function copyLines(db: ClientBase, query: string, each: (line: string) => void, chunkDone?: (rows: number) => void): Promise<void> {
  let rows = 0;
  const counting = chunkDone ? (line: string) => { rows += 1; each(line); } : each;
  const stream = db.query(copyTo(`COPY (${query}) TO STDOUT`));
  let rest: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const bytes: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    // A line break byte never occurs inside a multi-byte UTF-8 character: decoding up to the last one is safe.
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) {
      rest = bytes;
      continue;
    }
    eachLine(bytes.toString('utf8', 0, end), counting);
    rest = end + 1 < bytes.length ? bytes.subarray(end + 1) : null;
    chunkDone?.(rows);
  }
  if (rest && rest.length > 0) eachLine(rest.toString('utf8'), counting);
}

function eachLine(text: string, each: (line: string) => void): void {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    each(text.slice(start, nl));
    start = nl + 1;
  }
  if (start < text.length) each(text.slice(start));
}

const UNESCAPE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One field of a COPY text line as its value (text; `\N`, SQL NULL, is not expected here). */
export function field(text: string): string {
  return text.indexOf('\\') === -1 ? text : text.replace(/\\(.)/g, (_, c: string) => UNESCAPE[c] ?? c);
}

/**
 * A field holding JSON text. JSON as PostgreSQL prints it has no raw control characters, so the only
 * escape COPY adds is a doubled backslash.
 */
export function jsonField(text: string): string {
  return text.indexOf('\\') === -1 ? text : text.replaceAll('\\\\', '\\');
}
