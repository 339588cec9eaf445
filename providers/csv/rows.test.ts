import { describe, expect, it } from 'vitest';
import { CsvRowReader, QUOTE_NOT_CLOSED, type RowSink } from './rows.ts';
import type { CsvSyntax } from './strict-row.ts';
import { mulberry32 } from '../../bench/generate.ts';

type Event = ['row', number, string[]] | ['unreadable', number, string, boolean];

const SYNTAX: CsvSyntax = { delimiter: ',', quote: '"', escape: '"', trim: true, bytes: false };

/** Every event of reading `pieces` one after the other. */
function read(pieces: string[], syntax: Partial<CsvSyntax> = {}, papa = true): Event[] {
  const events: Event[] = [];
  const sink: RowSink = {
    row: (fields, line) => events.push(['row', line, [...fields]]),
    unreadable: (line, reason, restUnread) => events.push(['unreadable', line, reason, restUnread]),
  };
  const reader = new CsvRowReader({ ...SYNTAX, ...syntax }, sink, { papa });
  for (const piece of pieces) reader.write(piece);
  reader.end();
  return events;
}

/** A seeded PRNG, so that a failure can be replayed. */
const random = mulberry32;

/** Random CSV-ish text, heavy in the characters that matter: delimiters, quotes, escapes, blanks, line ends. */
function csvText(next: () => number, syntax: CsvSyntax, length: number): string {
  const atoms = ['a', 'b', 'Zoë', '東', syntax.delimiter, syntax.delimiter, syntax.quote, syntax.quote + syntax.quote, syntax.escape, ' ', '\t', '\u00a0', '\n', '\n', '\r\n', '\r', '"x"', 'plain'];
  let text = '';
  while (text.length < length) text += atoms[Math.floor(next() * atoms.length)];
  return text;
}

/** `text` cut at random places. */
function pieces(next: () => number, text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = 1 + Math.floor(next() * 12);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('CsvRowReader: PapaParse reads exactly like the strict reader', () => {
  const syntaxes: [string, Partial<CsvSyntax>][] = [
    ['defaults', {}],
    ['trim off', { trim: false }],
    ['semicolon, single quote', { delimiter: ';', quote: "'", escape: "'" }],
    ['backslash escape', { escape: '\\' }],
    ['tab delimiter', { delimiter: '\t' }],
  ];
  for (const [name, overrides] of syntaxes) {
    it(`on random text (${name})`, () => {
      const syntax = { ...SYNTAX, ...overrides };
      for (let seed = 1; seed <= 300; seed++) {
        const next = random(seed);
        const text = csvText(next, syntax, 20 + Math.floor(next() * 300));
        const expected = read([text], syntax, false);
        const context = `seed ${seed}: ${JSON.stringify(text)}`;
        expect(read([text], syntax), context).toEqual(expected);
        expect(read(pieces(next, text), syntax), `${context} (in pieces)`).toEqual(expected);
        expect(read(pieces(next, text), syntax, false), `${context} (strict, in pieces)`).toEqual(expected);
      }
    });
  }

  it('on a large text of mostly ordinary rows, read in 64 KiB pieces', () => {
    const next = random(42);
    const rows: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = next();
      if (r < 0.002) rows.push(csvText(next, SYNTAX, 30));
      else if (r < 0.1) rows.push(`${i},"Doe, Jane","a ""quoted"" word",x`);
      else if (r < 0.12) rows.push(`${i},"two\nlines",  padded  ,y`);
      else rows.push(`${i},Zoë Müller,plain,${'v'.repeat(i % 30)}`);
    }
    const text = rows.join(next() < 0.5 ? '\n' : '\r\n');
    const cut: string[] = [];
    for (let i = 0; i < text.length; i += 1 << 16) cut.push(text.slice(i, i + (1 << 16)));
    expect(read(cut)).toEqual(read([text], {}, false));
  });
});

describe('CsvRowReader: lines and line ends', () => {
  it('numbers rows by their first line, across blank lines and line breaks in quotes', () => {
    expect(read(['a,b\n\n"x\ny",z\r\n\r\nc,d'])).toEqual([
      ['row', 1, ['a', 'b']],
      ['row', 3, ['x\ny', 'z']],
      ['row', 6, ['c', 'd']],
    ]);
  });

  it('reads a file whose lines end with a lone CR', () => {
    expect(read(['a,b\r"c\rd",e\r\rf,g\r'])).toEqual([
      ['row', 1, ['a', 'b']],
      ['row', 2, ['c\rd', 'e']],
      ['row', 5, ['f', 'g']],
    ]);
  });

  it('takes a lone CR in a file of LF lines as a line end', () => {
    expect(read(['a,b\nc,d\re,f\n'])).toEqual([
      ['row', 1, ['a', 'b']],
      ['row', 2, ['c', 'd']],
      ['row', 3, ['e', 'f']],
    ]);
  });

  it('waits for the LF that may follow a CR at the end of a piece', () => {
    expect(read(['a,b\r', '\nc,d\r', '\n'])).toEqual([
      ['row', 1, ['a', 'b']],
      ['row', 2, ['c', 'd']],
    ]);
  });

  it('reads a quoted field longer than everything read before it, piece by piece', () => {
    const long = 'x'.repeat(200_000);
    const text = `id,note\n1,"${long}\n${long}"\n2,end\n`;
    const cut: string[] = [];
    for (let i = 0; i < text.length; i += 1000) cut.push(text.slice(i, i + 1000));
    expect(read(cut)).toEqual([
      ['row', 1, ['id', 'note']],
      ['row', 2, ['1', `${long}\n${long}`]],
      ['row', 4, ['2', 'end']],
    ]);
  });
});

describe('CsvRowReader: what PapaParse alone reads otherwise', () => {
  it('reads a quoted field after blanks, also when it holds delimiters and line breaks', () => {
    expect(read(['1, "Smith, John" ,x\n2,  "a\nb"\n3,c\n'])).toEqual([
      ['row', 1, ['1', 'Smith, John', 'x']],
      ['row', 2, ['2', 'a\nb']],
      ['row', 4, ['3', 'c']],
    ]);
  });

  it('keeps blanks inside quotes and drops them outside, with trim', () => {
    expect(read(['  a  ,"  b  " ,\u00a0c\u00a0\n'])).toEqual([['row', 1, ['a', '  b  ', 'c']]]);
    expect(read(['  a  ,"  b  "\n'], { trim: false })).toEqual([['row', 1, ['  a  ', '  b  ']]]);
  });

  it('reports a blank after a closing quote without trim', () => {
    expect(read(['"a" ,b\nc,d\n'], { trim: false })).toEqual([
      ['unreadable', 1, 'Invalid Closing Quote: got " "', false],
      ['row', 2, ['c', 'd']],
    ]);
  });

  it('reports a quote inside an unquoted value, and text after a closing quote, and goes on at the next line', () => {
    expect(read(['a,b"c\n"d"e,f\n"g" h,i\nj,k\n'])).toEqual([
      ['unreadable', 1, 'Invalid Opening Quote: a quote in the unquoted field 2', false],
      ['unreadable', 2, 'Invalid Closing Quote: got "e"', false],
      ['unreadable', 3, 'Invalid Closing Quote: got "h"', false],
      ['row', 4, ['j', 'k']],
    ]);
  });

  it('with an escape character: drops it and keeps the character after it', () => {
    expect(read(['"a\\"b","c\\\\d","e\\f",g\\h\n'], { escape: '\\' })).toEqual([['row', 1, ['a"b', 'c\\d', 'ef', 'g\\h']]]);
  });

  it('reports a quote never closed, and nothing after it', () => {
    expect(read(['a,b\nc,"d\ne,f\n'])).toEqual([
      ['row', 1, ['a', 'b']],
      ['unreadable', 2, QUOTE_NOT_CLOSED, true],
    ]);
  });

  it('keeps a row that starts with U+FEFF (Papa.parse drops it from the start of its input)', () => {
    expect(read(['a,b\n', '\ufeffc,d\n'], { trim: false })).toEqual([
      ['row', 1, ['a', 'b']],
      ['row', 2, ['\ufeffc', 'd']],
    ]);
  });

  it('reads a double-quote delimiter (which PapaParse refuses) strictly', () => {
    expect(read(["a\"'b\"c'\"d\n"], { delimiter: '"', quote: "'", escape: "'" })).toEqual([['row', 1, ['a', 'b"c', 'd']]]);
  });
});

describe('CsvRowReader: a text of UTF-8 bytes (syntax.bytes)', () => {
  const bytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

  it('decodes the values, also quoted and multi-line ones, and trims Unicode blanks', () => {
    expect(read([bytes('Zoë, Łódź ,"東京\n🚀"\n\u3000x\u2009,"\u00a0y"\n')], { bytes: true })).toEqual([
      ['row', 1, ['Zoë', 'Łódź', '東京\n🚀']],
      ['row', 3, ['x', '\u00a0y']],
    ]);
  });

  it('reads the same rows as from the decoded text, however the bytes are cut', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const text = csvText(next, SYNTAX, 20 + Math.floor(next() * 300));
      const expected = read([text], {}, false);
      expect(read(pieces(next, bytes(text)), { bytes: true }), `seed ${seed}: ${JSON.stringify(text)}`).toEqual(expected);
      expect(read(pieces(next, bytes(text)), { bytes: true }, false), `seed ${seed} (strict)`).toEqual(expected);
    }
  });

  it('names the character after a closing quote decoded', () => {
    expect(read([bytes('"a"é,b\n')], { bytes: true })).toEqual([['unreadable', 1, 'Invalid Closing Quote: got "é"', false]]);
  });

  it('marks bytes that are not UTF-8 as NOT_UTF8 (records.ts refuses the row), and keeps a real U+FFFD', () => {
    expect(read(['a\xff,\xc3\n'], { bytes: true })).toEqual([['row', 1, ['a\udfff', '\udfff']]]);
    expect(read([bytes('a\ufffd,b\n')], { bytes: true })).toEqual([['row', 1, ['a\ufffd', 'b']]]);
    // Both in one value: one mark in front says the value is not whole.
    expect(read([`${bytes('\ufffd')}\xff\n`], { bytes: true })).toEqual([['row', 1, ['\udfff\ufffd\ufffd']]]);
  });
});
