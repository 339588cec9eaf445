import { describe, expect, it } from 'vitest';
import { lineBreaksIn, readStrictRow, type CsvSyntax } from './strict-row.ts';

const SYNTAX: CsvSyntax = { delimiter: ',', quote: '"', escape: '"', trim: true, bytes: false };

function row(text: string, start = 0, final = true, syntax: Partial<CsvSyntax> = {}) {
  return readStrictRow(text, start, final, { ...SYNTAX, ...syntax });
}

describe('readStrictRow', () => {
  it('reads the row at a position and says where the next one starts, after CRLF, LF or CR', () => {
    expect(row('x\na,b\r\nc', 2)).toEqual({ kind: 'row', fields: ['a', 'b'], blank: false, end: 7, breaks: 0 });
    expect(row('a,b\rc')).toMatchObject({ fields: ['a', 'b'], end: 4 });
    expect(row('a,b')).toMatchObject({ fields: ['a', 'b'], end: 3 });
  });

  it('counts the line breaks inside quoted fields', () => {
    expect(row('"a\r\nb\rc\nd",e\nf')).toMatchObject({ fields: ['a\r\nb\rc\nd', 'e'], breaks: 3, end: 13 });
  });

  it('says a line of blanks is blank, with trim only, and a quoted empty field is not', () => {
    expect(row(' \t \n')).toMatchObject({ kind: 'row', blank: true });
    expect(row(' \t \n', 0, true, { trim: false })).toMatchObject({ kind: 'row', fields: [' \t '], blank: false });
    expect(row('""\n')).toMatchObject({ kind: 'row', fields: [''], blank: false });
  });

  it('asks for more text when the row may go on', () => {
    for (const text of ['a,b', 'a,b\r', '"a\nb', '"a"', '"a""', 'a,"b" ', 'a"b']) {
      expect(row(text, 0, false), JSON.stringify(text)).toEqual({ kind: 'more' });
    }
  });

  it('at the end of the file, reads the last row or reports a quote never closed', () => {
    expect(row('a,"b"', 0, true)).toMatchObject({ kind: 'row', fields: ['a', 'b'], end: 5 });
    expect(row('a,"b\nc', 0, true)).toEqual({ kind: 'unclosed' });
    expect(row('"a""', 0, true)).toEqual({ kind: 'unclosed' });
  });

  it('ends an unreadable row at the end of the line its error is on', () => {
    expect(row('"a\nb"x,"c\nd"\ne')).toEqual({ kind: 'error', reason: 'Invalid Closing Quote: got "x"', end: 10, breaks: 1 });
    expect(row('a,b"c,"d\ne')).toEqual({ kind: 'error', reason: 'Invalid Opening Quote: a quote in the unquoted field 2', end: 9, breaks: 0 });
    expect(row('"a"x\r\ny')).toMatchObject({ kind: 'error', end: 6 });
  });

  it('with an escape character other than the quote, keeps whatever follows it', () => {
    const escape = { escape: '\\' };
    expect(row('"a\\"b\\\\c\\,d\\\ne"', 0, true, escape)).toMatchObject({ fields: ['a"b\\c,d\ne'], breaks: 1 });
    expect(row('"a""b"', 0, true, escape)).toMatchObject({ kind: 'error', reason: 'Invalid Closing Quote: got "\\""' });
  });

  it('trims blanks around fields but not inside quotes, and never takes a tab delimiter for a blank', () => {
    expect(row(' a\u00a0, "b " ,c d ')).toMatchObject({ fields: ['a', 'b ', 'c d'] });
    expect(row('\t a \t\t', 0, true, { delimiter: '\t' })).toMatchObject({ fields: ['', 'a', '', ''] });
  });
});

describe('lineBreaksIn', () => {
  it('counts CRLF, LF and a lone CR once each', () => {
    expect(lineBreaksIn('a\r\nb\nc\rd\r')).toBe(4);
    expect(lineBreaksIn('none')).toBe(0);
  });
});
