import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import type { SourceSnapshot } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import { readCsvAccounts } from './read.ts';

// readCsvAccounts on what PapaParse alone would read otherwise, and on characters beyond ASCII (read as
// bytes with an ASCII syntax, as characters otherwise). read.test.ts has the rest.

const DISPLAY = 'data/people.csv';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idplane-csv-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string | Buffer, name = 'people.csv'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

function read(path: string, connection: Omit<CsvConnection, 'path'> = {}): Promise<SourceSnapshot> {
  return readCsvAccounts({ app: 'hr', path, displayPath: DISPLAY, connection: { path: DISPLAY, ...connection }, key: 'id' });
}

function lineKeys(snapshot: SourceSnapshot): [number | undefined, string][] {
  return snapshot.accounts.map((a) => [a.line, a.key]);
}

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ProviderError, the read succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** `rows` rows after the header, row i (0-based) on line i + 2. */
function bigCsv(rows: number, row: (i: number) => string): string {
  const lines = ['id,name'];
  for (let i = 0; i < rows; i++) lines.push(row(i));
  return lines.join('\n') + '\n';
}

describe('readCsvAccounts: quotes, blanks and line ends PapaParse alone would read otherwise', () => {
  it('reads a quoted field after blanks (trim), even when it holds delimiters or line breaks', async () => {
    const snapshot = await read(await file('id,name,note\n1, "Smith, John" , x\n2,  "multi\nline"  ,y\n3,Cy,z\n'));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [3, '2'], [5, '3']]);
    expect(snapshot.accounts.map((a) => a.attributes.name)).toEqual(['Smith, John', 'multi\nline', 'Cy']);
  });

  it('reports blanks after a closing quote when trim is off', async () => {
    const snapshot = await read(await file('id,name\n1,"Ann" \n2,Bob\n'), { trim: false });
    expect(snapshot.rowErrors).toEqual([{ line: 2, message: 'Invalid Closing Quote: got " "' }]);
    expect(lineKeys(snapshot)).toEqual([[3, '2']]);
  });

  it('drops an escape character and keeps the character after it, whatever it is', async () => {
    const snapshot = await read(await file('id,name\n1,"a\\b\\,c"\n'), { escape: '\\' });
    expect(snapshot.accounts[0]!.attributes.name).toBe('ab,c');
  });

  it('reads a file whose lines end with a lone CR (old Mac), with CRs inside quotes', async () => {
    const snapshot = await read(await file('id,name\r1,Ann\r\r2,"Bo\rb"\r3,Cy'));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [4, '2'], [6, '3']]);
    expect(snapshot.accounts[1]!.attributes.name).toBe('Bo\rb');
  });

  it('takes a lone CR in a file of LF lines as a line end', async () => {
    const snapshot = await read(await file('id,name\n1,Ann\r2,Bob\n3,Cy\n'));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [3, '2'], [4, '3']]);
  });

  it('reads a column named __proto__ as an ordinary attribute', async () => {
    const snapshot = await read(await file('id,__proto__\n1,x\n'));
    expect(Object.keys(snapshot.accounts[0]!.attributes)).toEqual(['id', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(snapshot.accounts[0]!.attributes, '__proto__')?.value).toBe('x');
  });

  it('reads the same rows from a big file whichever delimiter and quote it uses', async () => {
    const rows = 20_000;
    const row = (i: number) => (i % 10 === 3 ? `u${i},"Doe, J.","say ""hi""\nthere"` : `u${i},  Ann ${i} ,plain`);
    const expected = await read(await file(bigCsv(rows, row).replace('id,name', 'id,name,note'), 'comma.csv'));
    expect(expected.rowErrors).toEqual([]);
    expect(expected.accounts).toHaveLength(rows);
    const semicolons = bigCsv(rows, row).replace('id,name', 'id,name,note').replaceAll(',', ';').replaceAll('"', "'");
    const other = await read(await file(semicolons, 'semicolon.csv'), { delimiter: ';', quote: "'" });
    expect(other.accounts.map((a) => [a.line, Object.values(a.attributes).map((v) => v.replaceAll("'", '"').replaceAll(';', ','))])).toEqual(expected.accounts.map((a) => [a.line, Object.values(a.attributes)]));
  });
});

describe('readCsvAccounts: characters beyond ASCII', () => {
  const name = (i: number) => `Zoë Łódź 東京 🚀 ${i}`;

  it('reads multi-byte characters cut by the 1 MiB reads, with an ASCII delimiter and with a non-ASCII one', async () => {
    // Rows of varying length, so that the chunk boundaries fall inside multi-byte characters.
    for (const delimiter of [',', '§']) {
      const rows = 30_000;
      const path = await file(bigCsv(rows, (i) => `u${i},${name(i)}${'é'.repeat(i % 7)}`).replaceAll(',', delimiter), `d${delimiter.charCodeAt(0)}.csv`);
      expect((await stat(path)).size).toBeGreaterThan(1 << 20);
      const snapshot = await read(path, { delimiter });
      expect(snapshot.rowErrors).toEqual([]);
      expect(snapshot.accounts).toHaveLength(rows);
      snapshot.accounts.forEach((a, i) => {
        if (a.attributes.name !== `${name(i)}${'é'.repeat(i % 7)}` || a.line !== i + 2) throw new Error(`${delimiter} row ${i}: got ${a.attributes.name} line ${a.line}`);
      });
    }
  });

  it('trims Unicode blanks (no-break and ideographic spaces) like ASCII ones, never inside quotes', async () => {
    for (const delimiter of [',', '¦']) {
      const content = ['id,name,title', '\u00a01\u3000,\u2009Ann\u00a0, "\u00a0Boss\u00a0"\u00a0'].join('\n').replaceAll(',', delimiter);
      const snapshot = await read(await file(content), { delimiter });
      expect(snapshot.accounts.map((a) => a.attributes)).toEqual([{ id: '1', name: 'Ann', title: '\u00a0Boss\u00a0' }]);
    }
  });

  it('refuses a row holding bytes that are not UTF-8, naming its line and column, and reads the rest', async () => {
    for (const delimiter of [',', '§']) {
      const text = (s: string) => Buffer.from(s.replaceAll(',', delimiter));
      const snapshot = await read(await file(Buffer.concat([text('id,name\n1,a'), Buffer.from([0xff, 0xc3]), text('\n2,b\n3,W'), Buffer.from([0xf3]), text('jcik\n4,\ufffd\n')])), { delimiter });
      // Read as characters (a delimiter beyond ASCII), a real U+FFFD near bytes that are not UTF-8 cannot
      // be told from them, and its row is refused too.
      const real = delimiter === ',';
      expect(snapshot.accounts.map((a) => [a.key, a.attributes.name])).toEqual(real ? [['2', 'b'], ['4', '\ufffd']] : [['2', 'b']]);
      expect(snapshot.rowErrors).toEqual((real ? [2, 4] : [2, 4, 5]).map((line) => ({
        line, key: String(line - 1),
        message: `column 2 (name) holds bytes that are not UTF-8 (${DISPLAY} is read as UTF-8; a file Excel on Windows saved is windows-1252 or latin1: set connection.encoding); the row is not imported`,
      })));
    }
  });

  it('keeps a value starting with U+FEFF after the first row (only the file BOM goes)', async () => {
    for (const delimiter of [',', '§']) {
      const snapshot = await read(await file(`id${delimiter}name\n1${delimiter}\ufeffAnn\n`), { delimiter, trim: false });
      expect(snapshot.accounts[0]!.attributes.name).toBe('\ufeffAnn');
    }
  });

  it('takes a file that starts with part of a BOM for what it is', async () => {
    const error = await providerError(read(await file(Buffer.from([0xef, 0xbb]))));
    expect(error.message).toMatch(/:1: the header row holds bytes that are not UTF-8/);
    const ascii = await providerError(read(await file(Buffer.from([0xef]))));
    expect(ascii.message).toMatch(/:1: the header row holds bytes that are not UTF-8/);
  });
});

describe('readCsvAccounts: connection.encoding', () => {
  const header = Buffer.from('id,name,city\n');
  // What Excel on Windows saves: windows-1252, where 0x80-0x9F are € and curly quotes, not controls.
  const row = Buffer.from([0x31, 0x2c, 0x57, 0xf3, 0x6a, 0x63, 0x69, 0x6b, 0x20, 0x93, 0x4a, 0x6f, 0x94, 0x2c, 0x80, 0x20, 0x4b, 0xf6, 0x6c, 0x6e, 0x0a]);

  it('reads windows-1252 and latin1 through Node\'s decoders, with an ASCII or a non-ASCII delimiter', async () => {
    expect((await read(await file(Buffer.concat([header, row])), { encoding: 'windows-1252' })).accounts[0]!.attributes).toEqual({ id: '1', name: 'Wójcik “Jo”', city: '€ Köln' });
    expect((await read(await file(Buffer.concat([header, row])), { encoding: 'latin1' })).accounts[0]!.attributes).toEqual({ id: '1', name: 'Wójcik \u0093Jo\u0094', city: '\u0080 Köln' });
    const semicolons = Buffer.concat([header, row]).map((b) => (b === 0x2c ? 0xa7 : b)); // § in latin1
    expect((await read(await file(Buffer.from(semicolons)), { encoding: 'latin1', delimiter: '§' })).accounts[0]!.attributes.city).toBe('\u0080 Köln');
  });

  it('reads utf-16le with or without its BOM', async () => {
    const text = 'id,name\n1,Wójcik 東京\n';
    for (const bom of [Buffer.from([0xff, 0xfe]), Buffer.alloc(0)]) {
      const snapshot = await read(await file(Buffer.concat([bom, Buffer.from(text, 'utf16le')])), { encoding: 'utf-16le' });
      expect(snapshot.columns).toEqual(['id', 'name']);
      expect(snapshot.accounts[0]!.attributes.name).toBe('Wójcik 東京');
    }
  });

  it('refuses a utf-16le row holding half of a surrogate pair, naming its line and column', async () => {
    const lone = Buffer.from([0x3d, 0xd8]); // a high surrogate with no low one after it
    const bytes = Buffer.concat([Buffer.from('id,name\n1,A', 'utf16le'), lone, Buffer.from('\n2,B\n', 'utf16le')]);
    const snapshot = await read(await file(bytes), { encoding: 'utf-16le' });
    expect(snapshot.accounts.map((a) => a.key)).toEqual(['2']);
    expect(snapshot.rowErrors).toEqual([{ line: 2, key: '1', message: 'column 2 (name) holds bytes that are not utf-16le (connection.encoding); the row is not imported' }]);
  });

  it('reads the same latin1 file as UTF-8 by default, refusing its rows instead of rewriting names', async () => {
    const snapshot = await read(await file(Buffer.concat([header, row, Buffer.from('2,Ada,Paris\n')])));
    expect(snapshot.accounts.map((a) => a.key)).toEqual(['2']);
    expect(snapshot.rowErrors).toEqual([expect.objectContaining({ line: 2, key: '1', message: expect.stringContaining('column 2 (name) holds bytes that are not UTF-8') })]);
  });
});
