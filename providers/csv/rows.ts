/**
 * CSV text to rows, fed a piece of text at a time: each row comes out with its fields (trimmed when asked)
 * and its first line number (1-based, counting the line breaks inside quoted fields), blank lines are
 * skipped, and a row that cannot be read comes out as its line and a plain reason.
 *
 * PapaParse reads the text, a window of it at a time, for speed. It is more lenient than the syntax
 * idplane accepts (strict-row.ts): it knows one line end, does not trim, and reads a stray quote as
 * text. So each row it returns is checked against the text: where its quoted fields start and end, that
 * no unquoted value holds a quote or a CR (other than the CR of a CRLF). A row that fails the check, or
 * that PapaParse flags, is read again by readStrictRow, and PapaParse starts again after that row when
 * the two disagree on where it ends. A file whose first line ends with a lone CR is read by readStrictRow
 * alone. Either way the rows are those readStrictRow would return.
 */
import Papa from 'papaparse';
import { blankLength, decodeBytes, nextHighByte, NOT_UTF8, notUtf8Count, Utf8Values } from './bytes.ts';
import { lineBreaksIn, readStrictRow, type CsvSyntax, type StrictRow } from './strict-row.ts';

export interface RowSink {
  /**
   * A readable row (not yet checked against the header) and its first line. `suspect`: the text read so
   * far holds a U+0000 or bytes that are not UTF-8 (bytes.ts NOT_UTF8) somewhere (one scan per chunk, a
   * counter per decoded value), so the row's fields must be looked at.
   */
  row(fields: string[], line: number, suspect?: boolean): void;
  /** A row that cannot be read; `restUnread` when it swallowed the rest of the file. */
  unreadable(line: number, reason: string, restUnread: boolean): void;
}

export const QUOTE_NOT_CLOSED = 'Quote Not Closed: a quoted field on this row is never closed; the rest of the file was not read';

const LF = 10;
const CR = 13;
/** PapaParse reads at most this much text at once (UTF-16 code units), ... */
const MAX_WINDOW = 4 << 20;
/** ...and this much right after it had to start again, doubling while the rows agree. */
const SMALL_WINDOW = 16 << 10;
/** check(): the row is a blank line. A row that fails the check is ANOMALY; otherwise its line breaks. */
const BLANK = -2;
const ANOMALY = -1;

type WindowOutcome = 'read' | 'stalled' | 'wait' | 'stopped';

export class CsvRowReader {
  private text = '';
  /** Where the next row starts in `text`. */
  private pos = 0;
  /** The first line of the next row. */
  private line = 1;
  /** The next quote and CR in `text` at or after the row being checked (`text.length` when none). */
  private nextQuote = -1;
  private nextCr = -1;
  /** Likewise the next byte of 0x80 or more, when the text holds bytes (syntax.bytes). */
  private nextHigh = -1;
  private mode: 'undecided' | 'papa' | 'strict';
  private stopped = false;
  /** A chunk written so far held a NUL or NOT_UTF8. */
  private nul = false;
  /** bytes.ts's count of values that were not UTF-8, when this reader started. */
  private readonly notUtf8AtStart = notUtf8Count();
  /** Do not try again before the unread text is this long (a row longer than everything so far). */
  private waitFor = 0;
  private window = MAX_WINDOW;
  private readonly utf8 = new Utf8Values();
  private readonly D: number;
  private readonly Q: number;
  private readonly E: number;

  private readonly syntax: CsvSyntax;
  private readonly sink: RowSink;

  constructor(syntax: CsvSyntax, sink: RowSink, options: { papa?: boolean } = {}) {
    this.syntax = syntax;
    this.sink = sink;
    this.D = syntax.delimiter.charCodeAt(0);
    this.Q = syntax.quote.charCodeAt(0);
    this.E = syntax.escape.charCodeAt(0);
    // PapaParse replaces a delimiter it refuses (a double quote, say) by a comma: read those strictly.
    this.mode = options.papa === false || Papa.BAD_DELIMITERS.includes(syntax.delimiter) ? 'strict' : 'undecided';
  }

  /** Reads the rows the text completes; the rest waits for the next write() or end(). */
  write(chunk: string): void {
    if (this.stopped) return;
    // One scan per chunk: only the rows after a chunk that holds a NUL are looked at field by field.
    if (!this.nul && (chunk.includes('\u0000') || chunk.includes(NOT_UTF8))) this.nul = true;
    this.text = this.pos < this.text.length ? this.text.slice(this.pos) + chunk : chunk;
    this.pos = 0;
    this.nextQuote = this.nextCr = this.nextHigh = -1;
    if (this.text.length >= this.waitFor) this.run(false);
  }

  /** Reads what is left: the end of the file. */
  end(): void {
    if (!this.stopped) this.run(true);
    this.text = '';
    this.pos = 0;
  }

  private run(final: boolean): void {
    if (this.mode === 'undecided') {
      const mode = lineEndMode(this.text, final);
      if (!mode) {
        this.waitFor = 2 * this.text.length;
        return;
      }
      this.mode = mode;
    }
    while (!this.stopped && this.pos < this.text.length) {
      // Papa.parse drops a BOM that starts its input: a row starting with U+FEFF is read strictly.
      let outcome: WindowOutcome = this.mode === 'strict' || this.text.charCodeAt(this.pos) === 0xfeff ? 'stalled' : this.papaWindow(final);
      if (outcome === 'stalled') outcome = this.strictRow(final);
      if (outcome === 'wait' || outcome === 'stopped') break;
    }
    this.waitFor = 2 * (this.text.length - this.pos);
  }

  /** Passes a row on, saying whether the text it came from holds a NUL anywhere (RowSink.row). */
  private emit(fields: string[]): void {
    this.sink.row(fields, this.line, this.nul || notUtf8Count() > this.notUtf8AtStart);
  }

  /** Reads the row at `pos` with readStrictRow. */
  private strictRow(final: boolean): WindowOutcome {
    const result = readStrictRow(this.text, this.pos, final, this.syntax);
    return result.kind === 'more' ? 'wait' : this.take(result) ? 'read' : 'stopped';
  }

  /** Passes on a row read by readStrictRow; false once reading stopped. */
  private take(result: Exclude<StrictRow, { kind: 'more' }>): boolean {
    switch (result.kind) {
      case 'row':
        if (!result.blank) this.emit(result.fields);
        break;
      case 'error':
        this.sink.unreadable(this.line, result.reason, false);
        break;
      case 'unclosed':
        this.sink.unreadable(this.line, QUOTE_NOT_CLOSED, true);
        this.stopped = true;
        return false;
      default: {
        const unknown: never = result;
        throw new Error(`unknown row kind ${JSON.stringify(unknown)}`);
      }
    }
    this.line += 1 + result.breaks;
    this.pos = result.end;
    return true;
  }

  /** Reads rows from `pos` with PapaParse, over one window of the text. */
  private papaWindow(final: boolean): WindowOutcome {
    const { text } = this;
    const start = this.pos;
    const stop = Math.min(text.length, start + this.window);
    const last = final && stop === text.length;
    // Set in the step callback (TypeScript cannot see those assignments, hence the `as`).
    let outcome = 'stalled' as WindowOutcome;
    let again = false;
    let cut = false;
    Papa.parse<string[]>(text.slice(start, stop), {
      delimiter: this.syntax.delimiter,
      quoteChar: this.syntax.quote,
      escapeChar: this.syntax.escape,
      newline: '\n',
      step: (result, parser) => {
        const end = start + result.meta.cursor;
        // PapaParse ends its input with an empty row after the last line end: not a row.
        if (end <= this.pos) return;
        // A row running to the window's end without its line end may go on after it.
        if (!last && end === stop && text.charCodeAt(end - 1) !== LF) {
          cut = true;
          parser.abort();
          return;
        }
        const fields = result.data;
        const breaks = result.errors.length === 0 ? this.check(fields, this.pos, end) : ANOMALY;
        if (breaks !== ANOMALY) {
          if (breaks === BLANK) this.line += 1;
          else {
            this.emit(fields);
            this.line += 1 + breaks;
          }
          this.pos = end;
          outcome = 'read';
          return;
        }
        const strict = readStrictRow(text, this.pos, final, this.syntax);
        if (strict.kind === 'more') outcome = 'wait';
        else if (!this.take(strict) || strict.kind === 'unclosed') outcome = 'stopped';
        else {
          outcome = 'read';
          if (strict.end === end) return;
          // They disagree on where the row ends: start again after it, over a small window first.
          again = true;
          this.window = SMALL_WINDOW;
        }
        parser.abort();
      },
    });
    if (outcome !== 'read' || again) return outcome;
    if (this.window < MAX_WINDOW) this.window *= 2;
    // The rest of the text is the start of a row.
    return cut && stop === text.length ? 'wait' : 'read';
  }

  /**
   * Checks a row PapaParse read from `start` to `end` against the text; decodes, trims and drops the CR
   * of a CRLF from its fields. Returns its line breaks, BLANK for a blank line, or ANOMALY when PapaParse
   * may have read it otherwise than readStrictRow would.
   */
  private check(fields: string[], start: number, end: number): number {
    const { text } = this;
    const stop = text.charCodeAt(end - 1) === LF ? end - 1 : end;
    if (this.nextQuote < start) this.nextQuote = indexOrEnd(text, this.syntax.quote, start);
    if (this.nextCr < start) this.nextCr = indexOrEnd(text, '\r', start);
    if (this.syntax.bytes && this.nextHigh < start) this.nextHigh = nextHighByte(text, start);
    const decode = this.syntax.bytes && this.nextHigh < stop;
    if (this.nextQuote < stop) return this.checkQuoted(fields, start, stop, decode);
    const n = fields.length;
    if (this.nextCr < stop) {
      // Only the CR of a CRLF (or a CR ending the file) can be in an unquoted row; any other is a line end.
      if (this.nextCr !== stop - 1) return ANOMALY;
      fields[n - 1] = fields[n - 1]!.slice(0, -1);
    }
    const { trim } = this.syntax;
    if (decode) {
      // Decode the fields that hold the bytes beyond ASCII, found by where they are in the text.
      for (let i = 0, p = start; i < n; i++) {
        const value = fields[i]!;
        const next = p + value.length;
        let plain = value;
        if (this.nextHigh < next) {
          plain = this.utf8.decode(value);
          this.nextHigh = nextHighByte(text, next);
        }
        fields[i] = trim ? trimmed(plain) : plain;
        p = next + 1;
      }
    } else if (trim) {
      for (let i = 0; i < n; i++) fields[i] = trimmed(fields[i]!);
    }
    return n === 1 && fields[0] === '' ? BLANK : 0;
  }

  /** check() for a row with a quote in it: walks its fields through the text. */
  private checkQuoted(fields: string[], start: number, stop: number, decode: boolean): number {
    const { text, D, Q, E } = this;
    const { quote, escape, trim, bytes } = this.syntax;
    const n = fields.length;
    let p = start;
    let breaks = 0;
    for (let i = 0; i < n; i++) {
      const value = fields[i]!;
      if (text.charCodeAt(p) === Q) {
        // Quoted: in the text, the value's quotes are escaped (doubled) and it is framed by two quotes.
        if (E !== Q && value.includes(escape)) return ANOMALY;
        p += value.length + count(value, quote) + 2;
        if (text.charCodeAt(p - 1) !== Q) return ANOMALY;
        if (trim) for (let b; (b = blankLength(text, p, D, bytes)) > 0 && p < stop; ) p += b;
        breaks += lineBreaksIn(value);
        if (decode) fields[i] = decodeBytes(value);
      } else {
        if (value.includes(quote)) return ANOMALY;
        p += value.length;
        let raw = value;
        const cr = value.indexOf('\r');
        if (cr >= 0) {
          if (i !== n - 1 || cr !== value.length - 1 || p !== stop) return ANOMALY;
          raw = value.slice(0, -1);
        }
        fields[i] = this.plain(raw, decode);
      }
      if (i < n - 1) {
        if (text.charCodeAt(p) !== D) return ANOMALY;
        p++;
      }
    }
    // The row ends where its line ends (after the CR of a CRLF, if its last field is quoted).
    return p === stop || (p === stop - 1 && text.charCodeAt(p) === CR) ? breaks : ANOMALY;
  }

  /** An unquoted value: decoded when `decode` (the row holds bytes beyond ASCII), trimmed when asked. */
  private plain(value: string, decode: boolean): string {
    const decoded = decode ? decodeBytes(value) : value;
    return this.syntax.trim ? trimmed(decoded) : decoded;
  }
}

/**
 * PapaParse for a file whose first line ends with LF or CRLF, readStrictRow alone for a lone CR;
 * undefined while the text holds no line end yet.
 */
function lineEndMode(text: string, final: boolean): 'papa' | 'strict' | undefined {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr >= 0 && (lf < 0 || cr < lf)) {
    if (cr + 1 < text.length) return text.charCodeAt(cr + 1) === LF ? 'papa' : 'strict';
    return final ? 'strict' : undefined;
  }
  return lf >= 0 || final ? 'papa' : undefined;
}

function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? text.length : at;
}

function count(value: string, char: string): number {
  let n = 0;
  for (let i = value.indexOf(char); i >= 0; i = value.indexOf(char, i + 1)) n++;
  return n;
}

/** String.prototype.trim, skipped for the usual value that starts and ends with a visible ASCII character. */
function trimmed(value: string): string {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 ? value : value.trim();
}
