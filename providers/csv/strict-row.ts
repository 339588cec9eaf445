/**
 * One CSV row read strictly, character by character, from a position in a text. This is the reference
 * reading of the CSV syntax idplane accepts; rows.ts reads most rows with PapaParse and falls back to this
 * for every row PapaParse reads differently or cannot be trusted with. The rules (those csv-parse applied
 * before idplane moved to PapaParse):
 * - a line ends at CRLF, LF or a lone CR, mixed freely; inside quotes a line break is part of the value;
 * - a field is quoted when it starts with the quote character (after blanks, with trim); inside it a
 *   doubled quote is one quote, or, with an escape character other than the quote, the escape is dropped
 *   and the character after it kept as it is;
 * - with trim, blanks around unquoted values and around quoted fields are dropped, never inside quotes;
 * - a quote inside an unquoted value, or anything but blanks, a delimiter or a line end after a closing
 *   quote, makes the row unreadable: it ends at the end of the line the error is on, so the next rows
 *   still read; a quote never closed swallows the rest of the text.
 * Pure: no I/O. The result says when the text ends too early to decide, so that the caller can wait for
 * more of the file.
 */
import { blankLength, charAt, decodeBytes } from './bytes.ts';
import type { CsvEncoding } from './encodings.ts';

export interface CsvSyntax {
  /** One UTF-16 code unit each. */
  delimiter: string;
  quote: string;
  escape: string;
  trim: boolean;
  /** The text holds the file's UTF-8 bytes, one per character (bytes.ts); the syntax is ASCII then. */
  bytes: boolean;
  /** The file's encoding (read.ts): `bytes` only for UTF-8. */
  encoding?: CsvEncoding;
}

export type StrictRow =
  /** `breaks`: line breaks inside the row's quoted fields; `end`: just after its line end. */
  | { kind: 'row'; fields: string[]; blank: boolean; end: number; breaks: number }
  /** An unreadable row, which ends at `end` (just after the line end of the line the error is on). */
  | { kind: 'error'; reason: string; end: number; breaks: number }
  /** The text ends before the row does; more text may decide it. Never returned when `final`. */
  | { kind: 'more' }
  /** `final` only: a quoted field is never closed. */
  | { kind: 'unclosed' };

const LF = 10;
const CR = 13;
const MORE: StrictRow = { kind: 'more' };

/** Reads the row that starts at `start`. `final` says that the text is the end of the file. */
export function readStrictRow(text: string, start: number, final: boolean, syntax: CsvSyntax): StrictRow {
  const D = syntax.delimiter.charCodeAt(0);
  const Q = syntax.quote.charCodeAt(0);
  const E = syntax.escape.charCodeAt(0);
  const { trim, bytes } = syntax;
  const len = text.length;
  const fields: string[] = [];
  let breaks = 0;
  let quotedAny = false;
  let i = start;

  /** The row that fails at `at`: it ends at the end of that line. */
  const failed = (reason: string, at: number): StrictRow => {
    let j = at;
    while (j < len && text.charCodeAt(j) !== LF && text.charCodeAt(j) !== CR) j++;
    if (j >= len) return final ? { kind: 'error', reason, end: len, breaks } : MORE;
    if (text.charCodeAt(j) === CR) {
      if (j + 1 >= len && !final) return MORE;
      if (text.charCodeAt(j + 1) === LF) j++;
    }
    return { kind: 'error', reason, end: j + 1, breaks };
  };

  for (;;) {
    if (trim) for (let b; (b = blankLength(text, i, D, bytes)) > 0; ) i += b;
    let value: string;
    if (i < len && text.charCodeAt(i) === Q) {
      quotedAny = true;
      i++;
      value = '';
      let from = i;
      for (;;) {
        if (i >= len) return final ? { kind: 'unclosed' } : MORE;
        const c = text.charCodeAt(i);
        if (c === E && E !== Q) {
          // The escape goes, the character after it stays, whatever it is (csv-parse's rule).
          if (i + 1 >= len) return final ? { kind: 'unclosed' } : MORE;
          const next = text.charCodeAt(i + 1);
          if (next === LF || (next === CR && text.charCodeAt(i + 2) !== LF)) breaks++;
          value += text.slice(from, i);
          from = i + 1;
          i += 2;
          continue;
        }
        if (c === Q) {
          if (E === Q) {
            if (i + 1 >= len && !final) return MORE;
            if (text.charCodeAt(i + 1) === Q) {
              value += text.slice(from, i + 1);
              i += 2;
              from = i;
              continue;
            }
          }
          value += text.slice(from, i);
          i++;
          break;
        }
        if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) breaks++;
        i++;
      }
      if (bytes) value = decodeBytes(value);
      if (trim) for (let b; (b = blankLength(text, i, D, bytes)) > 0; ) i += b;
      if (i >= len && !final) return MORE;
      if (i < len) {
        const c = text.charCodeAt(i);
        if (c !== D && c !== LF && c !== CR) return failed(`Invalid Closing Quote: got ${JSON.stringify(charAt(text, i, bytes))}`, i);
      }
    } else {
      const from = i;
      for (; i < len; i++) {
        const c = text.charCodeAt(i);
        if (c === D || c === LF || c === CR) break;
        if (c === Q) return failed(`Invalid Opening Quote: a quote in the unquoted field ${fields.length + 1}`, i);
      }
      if (i >= len && !final) return MORE;
      value = text.slice(from, i);
      if (bytes) value = decodeBytes(value);
      if (trim) value = value.trimEnd();
    }
    fields.push(value);
    if (i >= len) return { kind: 'row', fields, blank: isBlankRow(fields, quotedAny), end: len, breaks };
    const c = text.charCodeAt(i);
    if (c === D) {
      i++;
      continue;
    }
    if (c === CR) {
      if (i + 1 >= len && !final) return MORE;
      if (text.charCodeAt(i + 1) === LF) i++;
    }
    return { kind: 'row', fields, blank: isBlankRow(fields, quotedAny), end: i + 1, breaks };
  }
}

/** Line breaks in a value: CRLF, LF and a lone CR count one each. */
export function lineBreaksIn(value: string): number {
  let breaks = 0;
  for (let i = value.indexOf('\n'); i >= 0; i = value.indexOf('\n', i + 1)) breaks++;
  for (let i = value.indexOf('\r'); i >= 0; i = value.indexOf('\r', i + 1)) if (value.charCodeAt(i + 1) !== LF) breaks++;
  return breaks;
}

/** An empty line (blanks only, with trim): skipped, like csv-parse's skip_empty_lines. */
function isBlankRow(fields: string[], quoted: boolean): boolean {
  return !quoted && fields.length === 1 && fields[0] === '';
}
