import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CsvConnection } from '../../schemas/generated/config.ts';
import type { SourceSnapshot } from '../../reconciler/model.ts';
import { ProviderError } from '../errors.ts';
import { readCsvAccounts } from './read.ts';

const DISPLAY = 'data/people.csv';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

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

function read(
  path: string,
  connection: Omit<CsvConnection, 'path'> = {},
  key = 'id',
  onProgress?: (bytesRead: number, totalBytes: number) => void,
): Promise<SourceSnapshot> {
  return readCsvAccounts({ app: 'hr', path, displayPath: DISPLAY, connection: { path: DISPLAY, ...connection }, key, ...(onProgress ? { onProgress } : {}) });
}

/** [line, key] of every account, in file order. */
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
  expect((error as ProviderError).app).toBe('hr');
  expect((error as ProviderError).code).toBe('PROVIDER_ERROR');
  return error as ProviderError;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A file bigger than the reader's 1 MiB chunk: `rows` rows after the header, row i (0-based) on line i + 2. */
function bigCsv(rows: number, row: (i: number) => string = (i) => `u${i},User ${i} ${'x'.repeat(24)}`): string {
  const lines = ['id,name'];
  for (let i = 0; i < rows; i++) lines.push(row(i));
  return lines.join('\n') + '\n';
}

describe('readCsvAccounts: rows and line numbers', () => {
  it('returns every row with its key, attributes and line (header is line 1)', async () => {
    const snapshot = await read(await file('id,first_name,email\n1001,Ann,ann@example.com\n1002,Bob,bob@example.com\n1003,Cy,\n'));
    expect(snapshot.app).toBe('hr');
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.accounts).toEqual([
      { key: '1001', attributes: { id: '1001', first_name: 'Ann', email: 'ann@example.com' }, line: 2 },
      { key: '1002', attributes: { id: '1002', first_name: 'Bob', email: 'bob@example.com' }, line: 3 },
      { key: '1003', attributes: { id: '1003', first_name: 'Cy', email: '' }, line: 4 },
    ]);
  });

  it('returns the header columns in file order, also for a file with no data rows', async () => {
    expect((await read(await file('id,first_name,email\n1,Ann,a@x\n'))).columns).toEqual(['id', 'first_name', 'email']);
    const empty = await read(await file('email,id,name\r\n'));
    expect(empty.columns).toEqual(['email', 'id', 'name']);
    expect(empty.accounts).toEqual([]);
  });

  it('uses the configured key column, wherever it is', async () => {
    const snapshot = await read(await file('name,employee_id\nAnn,E1\nBob,E2\n'), {}, 'employee_id');
    expect(lineKeys(snapshot)).toEqual([[2, 'E1'], [3, 'E2']]);
    expect(snapshot.accounts[1]!.attributes).toEqual({ name: 'Bob', employee_id: 'E2' });
  });

  it('reads the last row when the file has no final newline', async () => {
    const snapshot = await read(await file('id,name\n1,Ann\n2,Bob'));
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [3, '2']]);
    expect(snapshot.accounts[1]!.attributes.name).toBe('Bob');
  });

  it('gives a row its first line and counts the newlines of quoted fields for the rows after it', async () => {
    const content = [
      'id,address,note',
      '1,"12 Main St\nApt 4\nSpringfield",plain', // lines 2-4
      '2,short,"one\ntwo"', // lines 5-6
      '3,"a\nb","c\nd"', // lines 7-9 (two multi-line fields)
      '4,last,row', // line 10
    ].join('\n') + '\n';
    const snapshot = await read(await file(content));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [5, '2'], [7, '3'], [10, '4']]);
    expect(snapshot.accounts[0]!.attributes.address).toBe('12 Main St\nApt 4\nSpringfield');
    expect(snapshot.accounts[2]!.attributes).toEqual({ id: '3', address: 'a\nb', note: 'c\nd' });
  });

  it('counts lines right in a CRLF file whose quoted fields hold CRLF line breaks', async () => {
    const content = 'id,address\r\n1,"Main St\r\nApt 4"\r\n2,"x\r\ny\r\nz"\r\n3,plain\r\n';
    const snapshot = await read(await file(content));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [4, '2'], [7, '3']]);
    expect(snapshot.accounts[0]!.attributes.address).toBe('Main St\r\nApt 4');
    expect(snapshot.accounts[2]!.attributes.address).toBe('plain');
  });

  it('reads a file mixing LF and CRLF line endings without leaving CRs in values or miscounting lines', async () => {
    const content = 'id,name\n1,Ann\r\n2,Bob\r\n3,Cy\n4,Dan\r\n';
    for (const trim of [true, false]) {
      const snapshot = await read(await file(content), { trim });
      expect(snapshot.rowErrors).toEqual([]);
      expect(lineKeys(snapshot)).toEqual([[2, '1'], [3, '2'], [4, '3'], [5, '4']]);
      expect(snapshot.accounts.map((a) => a.attributes.name)).toEqual(['Ann', 'Bob', 'Cy', 'Dan']);
    }
  });

  it('skips blank and whitespace-only lines and keeps the line numbers of the rows after them', async () => {
    const snapshot = await read(await file('id,name\n\n1,Ann\n\n\n2,Bob\n   \t \n3,Cy\n\n'));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[3, '1'], [6, '2'], [8, '3']]);
  });

  it('trims whitespace around values by default, keeps it inside quotes, and keeps all of it with trim: false', async () => {
    const content = 'id,name,title\n  1  ,Ann   ,"  padded  "\n2\t,\tBob\t, Boss \n';
    const trimmed = await read(await file(content));
    expect(trimmed.accounts.map((a) => a.attributes)).toEqual([
      { id: '1', name: 'Ann', title: '  padded  ' },
      { id: '2', name: 'Bob', title: 'Boss' },
    ]);
    expect(trimmed.accounts.map((a) => a.key)).toEqual(['1', '2']);

    const raw = await read(await file('id,name\n1,Ann   \n2, Bob\n'), { trim: false });
    expect(raw.accounts.map((a) => a.attributes.name)).toEqual(['Ann   ', ' Bob']);
  });

  it('does not deduplicate keys: both rows come back and the core reports the conflict', async () => {
    const snapshot = await read(await file('id,name\n7,Ann\n8,Bob\n7,Annie\n'));
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '7'], [3, '8'], [4, '7']]);
    expect(snapshot.accounts.map((a) => a.attributes.name)).toEqual(['Ann', 'Bob', 'Annie']);
  });

  it('reads every row of a file of several chunks with exact line numbers', async () => {
    const rows = 40_000;
    const path = await file(bigCsv(rows));
    expect((await stat(path)).size).toBeGreaterThan(1 << 20);
    const snapshot = await read(path);
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.accounts).toHaveLength(rows);
    snapshot.accounts.forEach((a, i) => {
      if (a.key !== `u${i}` || a.line !== i + 2) throw new Error(`row ${i}: got key ${a.key} line ${a.line}`);
    });
  });
});

describe('readCsvAccounts: encoding', () => {
  const text = 'id,first_name,last_name,city\n1,Zoë,Müller,Łódź\n2,José,Ñúñez,São Paulo\n3,Åsa,Øster,東京 🚀\n';
  const expected = [
    { key: '1', attributes: { id: '1', first_name: 'Zoë', last_name: 'Müller', city: 'Łódź' }, line: 2 },
    { key: '2', attributes: { id: '2', first_name: 'José', last_name: 'Ñúñez', city: 'São Paulo' }, line: 3 },
    { key: '3', attributes: { id: '3', first_name: 'Åsa', last_name: 'Øster', city: '東京 🚀' }, line: 4 },
  ];

  it('reads UTF-8 without a BOM and keeps diacritics', async () => {
    const snapshot = await read(await file(Buffer.from(text, 'utf8')));
    expect(snapshot.accounts).toEqual(expected);
    expect(snapshot.rowErrors).toEqual([]);
  });

  it('reads UTF-8 with a BOM: the BOM is not part of the first column name', async () => {
    const snapshot = await read(await file(Buffer.concat([BOM, Buffer.from(text, 'utf8')])));
    expect(snapshot.accounts).toEqual(expected);
    expect(Object.keys(snapshot.accounts[0]!.attributes)[0]).toBe('id');
  });

  it('finds a key column that comes first right after a BOM', async () => {
    const snapshot = await read(await file(Buffer.concat([BOM, Buffer.from('employee_id,name\nE1,Zoë\n', 'utf8')])), {}, 'employee_id');
    expect(lineKeys(snapshot)).toEqual([[2, 'E1']]);
  });
});

describe('readCsvAccounts: delimiter, quote and escape', () => {
  it('splits on a custom delimiter and keeps commas in values', async () => {
    const snapshot = await read(await file('id;name;title\n1;Smith, John;VP, Sales\n2;"Doe; Jane";Dev\n'), { delimiter: ';' });
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.accounts.map((a) => a.attributes)).toEqual([
      { id: '1', name: 'Smith, John', title: 'VP, Sales' },
      { id: '2', name: 'Doe; Jane', title: 'Dev' },
    ]);
  });

  it('keeps a comma inside a quoted field and reads a doubled quote as one quote', async () => {
    const snapshot = await read(await file('id,name,nick\n1,"Smith, John","He said ""hi"""\n2,"""quoted""",""\n'));
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.accounts.map((a) => a.attributes)).toEqual([
      { id: '1', name: 'Smith, John', nick: 'He said "hi"' },
      { id: '2', name: '"quoted"', nick: '' },
    ]);
  });

  it("uses a custom quote character (') with its doubled escape; double quotes are then plain characters", async () => {
    const snapshot = await read(await file("id,name,note\n1,'Smith, John','O''Brien'\n2,'multi\nline',say \"hi\"\n3,x,y\n"), { quote: "'" });
    expect(snapshot.rowErrors).toEqual([]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [3, '2'], [5, '3']]);
    expect(snapshot.accounts.map((a) => a.attributes)).toEqual([
      { id: '1', name: 'Smith, John', note: "O'Brien" },
      { id: '2', name: 'multi\nline', note: 'say "hi"' },
      { id: '3', name: 'x', note: 'y' },
    ]);
  });

  it('uses a custom escape character inside quoted fields', async () => {
    const snapshot = await read(await file('id,name\n1,"a\\"b"\n2,"c\\\\d"\n'), { escape: '\\' });
    expect(snapshot.rowErrors).toEqual([]);
    expect(snapshot.accounts.map((a) => a.attributes.name)).toEqual(['a"b', 'c\\d']);
  });
});

describe('readCsvAccounts: rows that cannot be read', () => {
  it('reports rows with the wrong number of fields, keeps their key, and imports every other row', async () => {
    const content = 'id,name,email\n1,Ann,ann@x\n2,Bob,bob@x,EXTRA\n3,Cy\n4,Dan,dan@x\n';
    const snapshot = await read(await file(content));
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [5, '4']]);
    expect(snapshot.rowErrors).toEqual([
      { line: 3, key: '2', message: 'wrong number of fields: expect 3, got 4' },
      { line: 4, key: '3', message: 'wrong number of fields: expect 3, got 2' },
    ]);
  });

  it('keeps the key of a bad row on the first data line (parsed in the same chunk as the header)', async () => {
    const snapshot = await read(await file('id,name\n  42  ,Ann,extra\n43,Bob\n'));
    expect(snapshot.rowErrors).toEqual([{ line: 2, key: '42', message: 'wrong number of fields: expect 2, got 3' }]);
    expect(lineKeys(snapshot)).toEqual([[3, '43']]);
  });

  it('reports a multi-line bad row at its first line and keeps counting after it', async () => {
    const snapshot = await read(await file('id,note\n1,ok\n2,"a\nb",extra\n3,ok\n'));
    expect(snapshot.rowErrors).toEqual([{ line: 3, key: '2', message: 'wrong number of fields: expect 2, got 3' }]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [5, '3']]);
  });

  it('does not invent a key for a short row that lacks the key column', async () => {
    const snapshot = await read(await file('name,id\nAnn,1\nBob\nCy,3\n'));
    expect(snapshot.rowErrors).toEqual([{ line: 3, message: 'wrong number of fields: expect 2, got 1' }]);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [4, '3']]);
  });

  it('keeps the key of bad rows far into a file of several chunks', async () => {
    const rows = 40_000;
    const bad = new Set([5, 25_000, 39_998]);
    const snapshot = await read(await file(bigCsv(rows, (i) => (bad.has(i) ? `u${i},too,many` : `u${i},User ${i} ${'x'.repeat(24)}`))));
    expect(snapshot.rowErrors).toEqual([...bad].map((i) => ({ line: i + 2, key: `u${i}`, message: 'wrong number of fields: expect 2, got 3' })));
    expect(snapshot.accounts).toHaveLength(rows - bad.size);
    expect(snapshot.accounts.find((a) => a.key === 'u25001')?.line).toBe(25_003);
  });

  it('reports a bad closing quote with its line and still imports the rows after it', async () => {
    const content = 'id,name\n1,Ann\n2,"Bob"x,\n3,Cy\n4,"Dan"\n5,"Ed\nEdwards"\n6,Fay\n';
    const snapshot = await read(await file(content));
    expect(snapshot.rowErrors).toHaveLength(1);
    expect(snapshot.rowErrors[0]!.line).toBe(3);
    expect(snapshot.rowErrors[0]!.key).toBeUndefined();
    expect(snapshot.rowErrors[0]!.message).toMatch(/^Invalid Closing Quote: got "x"$/);
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [4, '3'], [5, '4'], [6, '5'], [8, '6']]);
    expect(snapshot.accounts.map((a) => a.attributes.name)).toEqual(['Ann', 'Cy', 'Dan', 'Ed\nEdwards', 'Fay']);
  });

  it('reports a bad closing quote on the last row', async () => {
    const snapshot = await read(await file('id,name\n1,Ann\n2,"Bob"x\n'));
    expect(lineKeys(snapshot)).toEqual([[2, '1']]);
    expect(snapshot.rowErrors.map((e) => [e.line, e.message])).toEqual([[3, 'Invalid Closing Quote: got "x"']]);
  });

  it('reports a quote in the middle of an unquoted value and imports the other rows', async () => {
    const snapshot = await read(await file('id,name\n1,Ann\n2,Bo"b\n3,Cy\n'));
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [4, '3']]);
    expect(snapshot.rowErrors).toHaveLength(1);
    expect(snapshot.rowErrors[0]!.line).toBe(3);
    expect(snapshot.rowErrors[0]!.message).toMatch(/^Invalid Opening Quote: /);
  });

  it('reports text after a closing quote and whitespace as a bad closing quote, and imports the rows before and after it', async () => {
    // csv-parse could not go on after this error and dropped the rest of the file (saying so); the
    // reader now ends the bad row at its line end, like any bad closing quote.
    const rows = 30_000;
    const badAt = 20_000;
    const snapshot = await read(await file(bigCsv(rows, (i) => (i === badAt ? `u${i},"Bob" x` : `u${i},User ${i} ${'x'.repeat(24)}`))));
    expect(snapshot.rowErrors).toEqual([{ line: badAt + 2, message: 'Invalid Closing Quote: got "x"' }]);
    expect(snapshot.accounts).toHaveLength(rows - 1);
    expect(snapshot.accounts[badAt - 1]).toMatchObject({ key: `u${badAt - 1}`, line: badAt + 1 });
    expect(snapshot.accounts[badAt]).toMatchObject({ key: `u${badAt + 1}`, line: badAt + 3 });
    expect(snapshot.accounts.at(-1)).toMatchObject({ key: `u${rows - 1}`, line: rows + 1 });
  });

  it('reports a quote left open far from the end of a file of several chunks: the rest was not read, the rows before it import', async () => {
    const rows = 60_000;
    const path = await file(bigCsv(rows, (i) => (i === 10 ? `u${i},"open` : `u${i},User ${i} ${'x'.repeat(24)}`)));
    expect((await stat(path)).size).toBeGreaterThan(2 << 20);
    const snapshot = await read(path);
    expect(snapshot.rowErrors).toEqual([{ line: 12, message: 'Quote Not Closed: a quoted field on this row is never closed; the rest of the file was not read' }]);
    expect(lineKeys(snapshot)).toEqual(Array.from({ length: 10 }, (_, i) => [i + 2, `u${i}`]));
    expect(snapshot.fingerprint).toBe(sha256(await readFile(path)));
  });

  it('reports a row with an empty key as a row error without a key', async () => {
    const snapshot = await read(await file('id,name\n1,Ann\n,Bob\n"",Cy\n   ,Dan\n5,Ed\n'));
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [6, '5']]);
    expect(snapshot.rowErrors).toEqual([
      { line: 3, message: 'empty key column id' },
      { line: 4, message: 'empty key column id' },
      { line: 5, message: 'empty key column id' },
    ]);
  });

  it('reports a quote left open near the end: the rest of the file was not read, the rows before it import', async () => {
    const content = 'id,name\n1,Ann\n\n2,Bob\n3,"Cy\n4,Dan\n5,Ed\n';
    const snapshot = await read(await file(content));
    expect(lineKeys(snapshot)).toEqual([[2, '1'], [4, '2']]);
    expect(snapshot.rowErrors).toHaveLength(1);
    expect(snapshot.rowErrors[0]!.line).toBe(5);
    expect(snapshot.rowErrors[0]!.key).toBeUndefined();
    expect(snapshot.rowErrors[0]!.message).toMatch(/not closed/i);
    expect(snapshot.rowErrors[0]!.message).toMatch(/the rest of the file was not read/);
  });

  it('places a quote left open after blank lines and multi-line rows on the right line', async () => {
    const snapshot = await read(await file('id,name\r\n1,"a\r\nb"\r\n\r\n\r\n2,"open\r\n3,x\r\n'));
    expect(lineKeys(snapshot)).toEqual([[2, '1']]);
    expect(snapshot.rowErrors.map((e) => e.line)).toEqual([6]);
  });

  it('returns row errors sorted by line', async () => {
    const snapshot = await read(await file('id,name\n1,a,b\n,x\n3,"q"z\n4\n5,ok\n'));
    expect(snapshot.rowErrors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(lineKeys(snapshot)).toEqual([[6, '5']]);
  });
});

describe('readCsvAccounts: files that cannot be read at all', () => {
  it('throws a ProviderError naming the app and the path for a missing file', async () => {
    const error = await providerError(read(join(dir, 'nope.csv')));
    expect(error.message).toBe(`hr: cannot read ${DISPLAY}: no such file`);
  });

  it('throws a ProviderError (not an uncaught exception) when the path is a directory', async () => {
    const path = join(dir, 'a-directory');
    await mkdir(path);
    const error = await providerError(read(path));
    expect(error.message).toMatch(new RegExp(`^hr: cannot read ${DISPLAY}: .*EISDIR`));
  }, 5_000);

  it('throws a ProviderError for an empty file, a file with only a BOM and a file of blank lines', async () => {
    for (const content of [Buffer.alloc(0), BOM, Buffer.from('\n\n  \n')]) {
      const error = await providerError(read(await file(content)));
      expect(error.message).toBe(`hr: ${DISPLAY} is empty: expected a header row naming the columns`);
    }
  });

  it('throws a ProviderError listing the columns when the key column is not in the header', async () => {
    const error = await providerError(read(await file('email,name\na@x,Ann\n')));
    expect(error.message).toBe(`hr: ${DISPLAY}:1: the key column "id" is not in the header (columns: email, name)`);
  });

  it('throws a ProviderError for a column named twice in the header', async () => {
    const error = await providerError(read(await file('id,name,name\n1,Ann,Annie\n')));
    expect(error.message).toBe(`hr: ${DISPLAY}:1: column "name" appears twice in the header`);
  });

  it('throws a ProviderError for an empty column name in the header', async () => {
    const error = await providerError(read(await file('id,,name\n1,x,Ann\n')));
    expect(error.message).toBe(`hr: ${DISPLAY}:1: the header has an empty column name`);
  });

  it('names the header line when blank lines come before the header', async () => {
    const error = await providerError(read(await file('\n\nid,id\n1,2\n')));
    expect(error.message).toBe(`hr: ${DISPLAY}:3: column "id" appears twice in the header`);
    const snapshot = await read(await file('\n\nid,name\n1,Ann\n'));
    expect(lineKeys(snapshot)).toEqual([[4, '1']]);
  });

  it('throws a ProviderError when the header row itself is unreadable (not taking the next row for the header)', async () => {
    const error = await providerError(read(await file('"id"x,name\nid,name\n1,Ann\n')));
    expect(error.message).toBe(`hr: ${DISPLAY}:1: cannot read the header row: Invalid Closing Quote: got "x"`);
  });

  it('throws a ProviderError for a delimiter that is also the quote, or a line break, or longer than a character', async () => {
    expect((await providerError(read(await file('id\n1\n'), { delimiter: '"' }))).message).toBe(`hr: ${DISPLAY}: the CSV delimiter "\\"" cannot also be the quote character`);
    expect((await providerError(read(await file('id\n1\n'), { quote: '\n' }))).message).toBe(`hr: ${DISPLAY}: the CSV quote must be one character other than a line break, not "\\n"`);
    expect((await providerError(read(await file('id\n1\n'), { delimiter: '🚀' }))).message).toMatch(/the CSV delimiter must be one character/);
  });

  it('throws a ProviderError saying the header cannot be read when its quote is never closed', async () => {
    const error = await providerError(read(await file('"id,name\n1,Ann\n')));
    expect(error.message).toMatch(new RegExp(`^hr: ${DISPLAY}:1: cannot read the header row: .*not closed`, 'i'));
  });
});

describe('readCsvAccounts: fingerprint and progress', () => {
  it('fingerprints the raw bytes (BOM included) with sha256', async () => {
    const content = Buffer.concat([BOM, Buffer.from('id,name\n1,Zoë\n', 'utf8')]);
    const path = await file(content);
    const snapshot = await read(path);
    expect(snapshot.fingerprint).toBe(sha256(await readFile(path)));
    expect(snapshot.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const withoutBom = await read(await file(content.subarray(3), 'nobom.csv'));
    expect(withoutBom.accounts).toEqual(snapshot.accounts);
    expect(withoutBom.fingerprint).not.toBe(snapshot.fingerprint);
  });

  it('changes the fingerprint when one byte changes, and only then', async () => {
    const first = await read(await file('id,name\n1,Ann\n2,Bob\n'));
    const same = await read(await file('id,name\n1,Ann\n2,Bob\n', 'copy.csv'));
    const changed = await read(await file('id,name\n1,Ann\n2,Bop\n', 'changed.csv'));
    expect(same.fingerprint).toBe(first.fingerprint);
    expect(changed.fingerprint).not.toBe(first.fingerprint);
    expect(changed.fingerprint).toBe(sha256(Buffer.from('id,name\n1,Ann\n2,Bop\n')));
  });

  it('fingerprints the whole of a multi-chunk file, also when parsing stopped early', async () => {
    const ok = await file(bigCsv(40_000), 'ok.csv');
    expect((await read(ok)).fingerprint).toBe(sha256(await readFile(ok)));
    // A quote never closed stops the parsing at row 10 (csv-parse used to stop at `"Bob" x` too).
    const stopped = await file(bigCsv(60_000, (i) => (i === 10 ? `u${i},"Bob x` : `u${i},User ${i} ${'x'.repeat(24)}`)), 'stopped.csv');
    expect((await stat(stopped)).size).toBeGreaterThan(2 << 20);
    const snapshot = await read(stopped);
    expect(snapshot.rowErrors.map((e) => e.line)).toEqual([12]);
    expect(snapshot.rowErrors[0]!.message).toMatch(/the rest of the file was not read/);
    expect(snapshot.fingerprint).toBe(sha256(await readFile(stopped)));
  });

  it('reports progress in bytes, growing up to the file size', async () => {
    const path = await file(bigCsv(60_000));
    const size = (await stat(path)).size;
    const calls: [number, number][] = [];
    await read(path, {}, 'id', (done, total) => calls.push([done, total]));
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every(([, total]) => total === size)).toBe(true);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThan(calls[i - 1]![0]);
    expect(calls.at(-1)).toEqual([size, size]);
  });

  it('reports progress for a small file in one call of the whole size', async () => {
    const path = await file('id,name\n1,Ann\n');
    const calls: [number, number][] = [];
    await read(path, {}, 'id', (done, total) => calls.push([done, total]));
    expect(calls).toEqual([[14, 14]]);
  });
});
